import { Option, type Command } from 'commander';
import { replayDeadLetters, REASON_CODES, type ReplaySummary } from '../../index.js';
import { EXIT } from '../exit-codes.js';
import { action, commonFlags, dbOf, ONE_PIPELINE, positiveInt, type CommonFlags } from '../inspect-flags.js';
import { printJson, say } from '../output.js';

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
        const summary = await replayDeadLetters({ db: dbOf(flags), pipeline: flags.pipeline, runId: flags.run, reason: flags.reason });
        if (flags.json === true) printJson(summary);
        say(describe(summary));
        return EXIT.ok;
      }),
    );
}

function describe(s: ReplaySummary): string {
  if (s.replayed === 0) return `No dead letters waiting in pipeline ${s.pipeline} (matching the filters): nothing replayed`;
  const lines = [`Replayed ${s.replayed} dead letters of pipeline ${s.pipeline} in run ${String(s.run_id)}: ${s.loaded} loaded into ${s.table}, ${s.still_rejected} rejected again`];
  if (s.skipped_stale + s.skipped_duplicate + s.dropped > 0) {
    lines.push(`  skipped ${s.skipped_stale} stale, ${s.skipped_duplicate} duplicate, dropped ${s.dropped}`);
  }
  if (s.still_rejected > 0) lines.push('  the ones rejected again are still waiting: sluice dead-letters list shows why');
  return lines.join('\n');
}
