import type { Command } from 'commander';
import { resetWatermark, setWatermark, showWatermark, SluiceError, type WatermarkChange, type WatermarkInfo } from '../../index.js';
import { EXIT } from '../exit-codes.js';
import { action, ALL_PIPELINES, commonFlags, dbOf, shownDb, ONE_PIPELINE, where, type CommonFlags } from '../inspect-flags.js';
import { printJson, say } from '../output.js';
import { formatInstant, renderTable, type Column } from '../table.js';

interface SetFlags extends CommonFlags {
  force?: boolean;
}

interface ResetFlags extends CommonFlags {
  yes?: boolean;
}

/** `sluice watermark show | set VALUE [--force] | reset --yes`. */
export function registerWatermark(program: Command, setExit: (code: number) => void): void {
  const group = program.command('watermark').description("show, set or reset a pipeline's watermark (records older than it are skipped)");

  const show = group.command('show', { isDefault: true }).description('the watermark of each pipeline: cursor field, type and value');
  commonFlags(show, { pipeline: ALL_PIPELINES }).action(
    action(setExit, async (flags: CommonFlags) => {
      const infos = await showWatermark({ db: dbOf(flags), pipeline: flags.pipeline });
      if (flags.json === true) printJson(infos);
      else if (infos.length === 0) say(`nothing yet: no watermark${flags.pipeline === undefined ? '' : ` for pipeline ${flags.pipeline}`} in ${shownDb(flags)}`);
      else showInfos(infos, flags);
      return EXIT.ok;
    }),
  );

  const set = group
    .command('set')
    .description('set the watermark: validated against the cursor type; moving it back needs --force')
    .argument('<value>', 'the new watermark, e.g. 2025-01-15T12:00:00 or 1042');
  commonFlags(set, { pipeline: ONE_PIPELINE })
    .option('--force', 'allow moving it back (the next run reloads the records in between)')
    .action(
      action(setExit, async (value: string, flags: SetFlags) => {
        const change = await setWatermark({ db: dbOf(flags), pipeline: flags.pipeline, value, force: flags.force === true });
        report(change, flags);
        return EXIT.ok;
      }),
    );

  const reset = group.command('reset').description('delete the watermark: the next run reads the loaded files again and skips nothing by cursor (needs --yes)');
  commonFlags(reset, { pipeline: ONE_PIPELINE })
    .option('--yes', 'really delete it')
    .action(
      action(setExit, async (flags: ResetFlags) => {
        const change = await resetWatermark({ db: dbOf(flags), pipeline: flags.pipeline, confirm: flags.yes === true });
        if (change.previous === null) {
          if (flags.json === true) printJson(change);
          else say(`pipeline ${change.pipeline} has no watermark: nothing to reset`);
          return EXIT.ok;
        }
        if (flags.yes !== true) {
          throw new SluiceError('CONFIG_INVALID', `reset would delete the watermark ${change.cursor} = ${change.previous} of pipeline ${change.pipeline}; nothing was changed without --yes`, {
            hint: `sluice watermark reset ${where(flags, change.pipeline)} --yes`,
          });
        }
        report(change, flags);
        return EXIT.ok;
      }),
    );
}

function showInfos(infos: readonly WatermarkInfo[], flags: CommonFlags): void {
  const columns: Column[] = [
    { header: 'PIPELINE', max: 20, min: 8 },
    { header: 'CURSOR', max: 20, min: 6 },
    { header: 'TYPE' },
    { header: 'VALUE', min: 12 },
    { header: 'SET BY' },
    { header: 'UPDATED (UTC)' },
  ];
  const rows = infos.map((i) => {
    const w = i.watermark;
    const value = w === null ? '(none yet)' : i.valid === false ? `${w.value} (invalid)` : w.value;
    return [i.pipeline, w?.cursor ?? i.cursor ?? '-', i.cursor_type ?? w?.type ?? '-', value, w === null ? '-' : w.run_id === null ? 'hand' : `run ${w.run_id}`, formatInstant(w?.updated_at ?? null)];
  });
  process.stdout.write(`${renderTable(columns, rows)}\n`);
  for (const i of infos.filter((info) => info.valid === false)) {
    say(`pipeline ${i.pipeline}: the stored watermark is not a valid ${i.cursor_type ?? 'cursor value'}; the next run stops on it`);
    say(`  fix: sluice watermark set <VALUE> ${where(flags, i.pipeline)}, or: sluice watermark reset ${where(flags, i.pipeline)} --yes`);
  }
}

function report(change: WatermarkChange, flags: CommonFlags): void {
  if (flags.json === true) {
    printJson(change);
    return;
  }
  const from = change.previous === null ? '(none)' : change.previous;
  if (change.change === 'reset') say(`watermark of pipeline ${change.pipeline} (${change.cursor}) deleted; it was ${from}`);
  else if (change.change === 'same') say(`watermark of pipeline ${change.pipeline} (${change.cursor}) unchanged: ${change.value ?? ''}`);
  else say(`watermark of pipeline ${change.pipeline} (${change.cursor}): ${from} -> ${change.value ?? '(none)'}${change.change === 'backward' ? ' (moved back)' : ''}`);
  for (const note of change.notes) say(`note: ${note}`);
}
