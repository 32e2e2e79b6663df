import { Option, type Command } from 'commander';
import { listRuns, type RunListEntry } from '../../index.js';
import { EXIT } from '../exit-codes.js';
import { action, ALL_PIPELINES, commonFlags, dbOf, shownDb, positiveInt, type CommonFlags } from '../inspect-flags.js';
import { printJson, say } from '../output.js';
import { formatDuration, formatInstant, oneLine, renderTable, SCREEN_WIDTH, truncate, type Column } from '../table.js';

interface RunsFlags extends CommonFlags {
  limit: number;
  status?: string;
}

/** `sluice runs`: the run log, newest first. */
export function registerRuns(program: Command, setExit: (code: number) => void): void {
  const command = program.command('runs').description('list the runs, newest first: status, timings, counters, watermark, errors');
  commonFlags(command, { pipeline: ALL_PIPELINES })
    .option('--limit <n>', 'newest N runs', positiveInt, 20)
    .addOption(new Option('--status <status>', 'only runs in this status').choices(['running', 'succeeded', 'failed', 'interrupted']))
    .action(
      action(setExit, async (flags: RunsFlags) => {
        const db = dbOf(flags);
        const runs = await listRuns({ db, pipeline: flags.pipeline, status: flags.status, limit: flags.limit });
        if (flags.json === true) {
          printJson(runs);
          return EXIT.ok;
        }
        if (runs.length === 0) {
          say(nothingYet(shownDb(flags), flags));
          return EXIT.ok;
        }
        process.stdout.write(`${formatRuns(runs, flags.pipeline === undefined)}\n`);
        if (runs.length === flags.limit) say(`(the newest ${flags.limit} runs; --limit N shows more)`);
        return EXIT.ok;
      }),
    );
}

function nothingYet(db: string, flags: RunsFlags): string {
  const status = flags.status === undefined ? '' : `${flags.status} `;
  const of = flags.pipeline === undefined ? '' : ` of pipeline ${flags.pipeline}`;
  return `nothing yet: no ${status}runs${of} in ${db}`;
}

/** The run table, then one line per run that failed or skipped files, saying why. */
export function formatRuns(runs: readonly RunListEntry[], mayMix: boolean): string {
  const mixed = mayMix && new Set(runs.map((r) => r.pipeline)).size > 1;
  const columns: Column[] = [
    { header: 'ID', align: 'right' },
    ...(mixed ? [{ header: 'PIPELINE', max: 16, min: 8 }] : []),
    { header: 'STATUS' },
    { header: 'STARTED (UTC)' },
    { header: 'TOOK', align: 'right' },
    { header: 'FILES', align: 'right' },
    { header: 'IN', align: 'right' },
    { header: 'LOADED', align: 'right' },
    { header: 'REJ', align: 'right' },
    { header: 'SKIP', align: 'right' },
    // A cut watermark is a wrong one: keep it whole, tighten the gaps instead.
    { header: 'WATERMARK', min: 19 },
  ];
  const watermark = (r: RunListEntry): string => r.watermark_after ?? r.watermark_before ?? '-';
  const rows = runs.map((r) => [
    String(r.id),
    ...(mixed ? [r.pipeline] : []),
    r.status,
    formatInstant(r.started_at),
    r.status === 'running' ? '-' : formatDuration(r.duration_ms),
    String(r.files_total),
    String(r.input_records),
    String(r.loaded),
    String(r.rejected),
    String(r.skipped),
    watermark(r),
  ]);
  let table = renderTable(columns, rows);
  if (table.split('\n').some((line) => [...line].length > SCREEN_WIDTH)) {
    // Too wide even tightened (long watermarks, large counts): the watermarks go below, whole.
    table = renderTable(columns.slice(0, -1), rows.map((row) => row.slice(0, -1)));
    const marks = runs.filter((r) => watermark(r) !== '-').map((r) => `run ${r.id} watermark: ${watermark(r)}`);
    if (marks.length > 0) table += `\n\n${marks.join('\n')}`;
  }
  const lines = [table];
  const notes = runs.flatMap(problems);
  if (notes.length > 0) {
    lines.push('');
    const cut = notes.some((note) => [...note].length > SCREEN_WIDTH);
    lines.push(...notes.map((note) => truncate(note, SCREEN_WIDTH)));
    if (cut) lines.push('(full errors: sluice runs --json)');
  }
  return lines.join('\n');
}

function problems(run: RunListEntry): string[] {
  const notes: string[] = [];
  if (run.error !== null) notes.push(`run ${run.id} ${run.status}: ${oneLine(run.error)}`);
  for (const file of run.failed_files) {
    // File errors usually start with the path already.
    const error = oneLine(file.error ?? 'failed');
    notes.push(`run ${run.id} skipped ${error.startsWith(`${file.path}: `) ? error : `${file.path}: ${error}`}`);
  }
  return notes;
}
