import { Option, type Command } from 'commander';
import { replayDeadLetters, REASON_CODES, type ReplaySummary } from '../../index.js';
import { EXIT } from '../exit-codes.js';
import { action, commonFlags, dbOf, ONE_PIPELINE, positiveInt, where, type CommonFlags } from '../inspect-flags.js';
import { printJson, say } from '../output.js';
import { cliObserver } from '../run-observer.js';

interface ReplayFlags extends CommonFlags {
  run?: number;
  reason?: string;
}

/** `sluice dead-letters replay`: the waiting dead letters through the pipeline's current rules. */
export function registerReplay(group: Command, setExit: (code: number) => void): void {
  const replay = group.command('replay').description("re-run waiting dead letters through the pipeline's current rules, in a new run");
  commonFlags(replay, { pipeline: ONE_PIPELINE })
    .option('--run <id>', 'only the dead letters of this run', positiveInt)
    .addOption(new Option('--reason <code>', 'only those rejected for this reason').choices(REASON_CODES))
    .action(
      action(setExit, async (flags: ReplayFlags) => {
        // SIGINT/SIGTERM: stop after the batch in flight; the same command continues the replay.
        const signals = cliObserver({ quiet: true });
        try {
          const summary = await replayDeadLetters({ db: dbOf(flags), pipeline: flags.pipeline, runId: flags.run, reason: flags.reason, stopRequested: signals.stopRequested });
          if (flags.json === true) printJson(summary);
          say(describe(summary, flags));
          return summary.interrupted ? EXIT.interrupted : EXIT.ok;
        } finally {
          signals.done();
        }
      }),
    );
}

function describe(s: ReplaySummary, flags: ReplayFlags): string {
  if (s.replayed === 0 && !s.interrupted && !s.resumed) return `No dead letters waiting in pipeline ${s.pipeline} (matching the filters): nothing replayed`;
  const head = s.interrupted ? `Interrupted: replayed ${s.replayed} dead letters` : `Replayed ${s.replayed} dead letters`;
  const lines = [`${head} of pipeline ${s.pipeline} in run ${String(s.run_id)}${s.resumed ? ' (resumed)' : ''}: ${s.loaded} loaded into ${s.table}, ${s.still_rejected} rejected again`];
  if (s.interrupted) lines.push(`  the letters after those wait; continue with: sluice dead-letters replay ${where(flags, s.pipeline)}`);
  if (s.skipped_stale + s.skipped_duplicate + s.dropped > 0) {
    lines.push(`  skipped ${s.skipped_stale} stale, ${s.skipped_duplicate} duplicate, dropped ${s.dropped}`);
  }
  if (s.still_rejected > 0) lines.push('  the ones rejected again are still waiting: sluice dead-letters list shows why');
  return lines.join('\n');
}
