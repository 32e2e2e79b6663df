import type { Command } from 'commander';
import { keyHistory, lineageByStep, LINEAGE_STEPS, SluiceError, type KeyHistory, type LineageReport } from '../../index.js';
import { EXIT } from '../exit-codes.js';
import { action, ALL_PIPELINES, commonFlags, dbOf, shownDb, positiveInt, where, type CommonFlags } from '../inspect-flags.js';
import { printJson, say } from '../output.js';
import { oneLine, plural, renderPairs, renderTable, type Column } from '../table.js';
import { shownPath } from '../shown-path.js';

interface LineageFlags extends CommonFlags {
  byStep?: boolean;
  key?: string;
  run?: number;
}

/** Steps every by-step table shows, even at zero; the others only when they occurred. */
const ALWAYS = new Set(['stage', 'load', 'reject', 'skip-stale', 'skip-duplicate']);

/** `sluice lineage --by-step | --key K`. */
export function registerLineage(program: Command, setExit: (code: number) => void): void {
  const command = program.command('lineage').description("where records went: one run's counts by step and file, or one key's full history");
  commonFlags(command, { pipeline: ALL_PIPELINES })
    .option('--by-step', 'counts by step (stage, load, reject, skip-*), and by file (the default)')
    .option('--key <key>', 'the history of one record key across runs, and its row now')
    .option('--run <id>', 'this run (default: the latest run)', positiveInt)
    .action(
      action(setExit, async (flags: LineageFlags) => {
        const db = dbOf(flags);
        if (flags.key !== undefined && flags.byStep === true) {
          throw new SluiceError('CONFIG_INVALID', 'use either --by-step or --key K, not both');
        }
        if (flags.key !== undefined) return showKey(await keyHistory({ db, pipeline: flags.pipeline, key: flags.key, runId: flags.run }), flags);
        const report = await lineageByStep({ db, pipeline: flags.pipeline, runId: flags.run });
        if (flags.json === true) printJson(report);
        else if (report === null) say(`nothing yet: no runs${flags.pipeline === undefined ? '' : ` of pipeline ${flags.pipeline}`} in ${shownDb(flags)}`);
        else process.stdout.write(`${formatByStep(report)}\n`);
        return EXIT.ok;
      }),
    );
}

/** The by-step table and the by-file table of one run (also `sluice run --report`). */
export function formatByStep(report: LineageReport): string {
  const title = `run ${report.run_id} of pipeline ${report.pipeline} (${report.status}): ${plural(report.total, 'lineage entry', 'lineage entries')}`;
  const steps = LINEAGE_STEPS.filter((step) => ALWAYS.has(step) || report.steps[step] > 0);
  const byStep = renderTable(
    [{ header: 'STEP' }, { header: 'RECORDS', align: 'right' }],
    steps.map((step) => [step, String(report.steps[step])]),
  );
  if (report.files.length === 0) return `${title}\n\n${byStep}`;
  const used = LINEAGE_STEPS.filter((step) => report.steps[step] > 0);
  const columns: Column[] = [{ header: 'FILE', min: 12, keep: 'end' }, ...used.map((step): Column => ({ header: step.toUpperCase(), align: 'right' }))];
  const byFile = renderTable(
    columns,
    report.files.map((f) => [shownPath(f.file), ...used.map((step) => String(f.steps[step]))]),
  );
  return `${title}\n\n${byStep}\n\n${byFile}`;
}

function showKey(history: KeyHistory, flags: LineageFlags): number {
  if (flags.json === true) {
    printJson(history);
    return EXIT.ok;
  }
  if (history.history.length === 0 && history.current.length === 0) {
    say(`no lineage for key ${JSON.stringify(history.key)} in ${shownDb(flags)}${flags.run === undefined ? '' : ` (run ${flags.run})`}`);
    return EXIT.ok;
  }
  process.stdout.write(`${formatKey(history, flags)}\n`);
  return EXIT.ok;
}

export function formatKey(h: KeyHistory, flags: CommonFlags): string {
  const runs = new Set(h.history.map((e) => e.run_id)).size;
  const parts = [`key ${h.key}: ${plural(h.history.length, 'lineage entry', 'lineage entries')} in ${plural(runs, 'run')}`];
  if (h.history.length > 0) {
    const rejected = h.history.some((e) => e.dead_letter_id !== null);
    const columns: Column[] = [
      { header: 'RUN', align: 'right' },
      { header: 'FILE', min: 12, keep: 'end' },
      { header: 'LINE', align: 'right' },
      { header: 'STEP' },
      ...(rejected ? [{ header: 'WHY', min: 20 }] : []),
    ];
    const why = (e: KeyHistory['history'][number]): string[] =>
      !rejected ? [] : e.dead_letter_id === null ? [''] : [`#${e.dead_letter_id} ${e.reason ?? ''}: ${oneLine(e.message ?? '')}`];
    const table = renderTable(columns, h.history.map((e) => [String(e.run_id), shownPath(e.file), String(e.line), e.step, ...why(e)]));
    parts.push(rejected ? `${table}\n(#N: dead letter N, in full: sluice dead-letters show N ${where(flags)})` : table);
  }
  if (h.current.length === 0) parts.push('now: no row with this key in the target table');
  for (const row of h.current) {
    const pairs = Object.entries(row.fields).map(([name, value]): [string, string] => [name, display(value)]);
    const from = row.run_id === null ? '' : `, written by run ${row.run_id}${row.source === null ? '' : ` from ${row.source}`}`;
    parts.push(`now in table ${row.table}${from}:\n${renderPairs(pairs).replace(/^/gm, '  ')}`);
  }
  return parts.join('\n\n');
}

function display(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  return typeof value === 'string' ? oneLine(value) : JSON.stringify(value);
}
