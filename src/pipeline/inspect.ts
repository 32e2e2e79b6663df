/**
 * Reading the ledger without SQL: the library behind `sluice runs`, `status`, `lineage`,
 * `dead-letters` and `watermark`. Every function opens the database itself (it must exist:
 * inspecting never creates one), returns plain JSON-ready data (snake_case, like RunSummary)
 * and closes it again. Repairs live in inspect-dead-letters.ts and inspect-watermark.ts.
 */
import type { Backend } from '../backends/backend.js';
import { isMetaColumn, META } from '../backends/sql.js';
import { SluiceError } from '../core/errors.js';
import { emptyFields, type Fields, type LineageStep, type ReasonCode } from '../core/record.js';
import { RUN_STATUSES, type RunCounters, type RunRow, type RunStatus } from '../ledger/ledger.js';
import { durationMs, plainValue, reading, requireRun, settingsOf, storedName, type InspectOptions } from './inspect-common.js';

export type { InspectOptions } from './inspect-common.js';
export { REASON_CODES } from './inspect-common.js';
export { pipelineStatus, resumeCommand } from './inspect-status.js';
export type { PipelineStatus, UnfinishedRun, CheckpointPosition, TableCount } from './inspect-status.js';
export { listDeadLetters, showDeadLetter, purgeDeadLetters } from './inspect-dead-letters.js';
export type { DeadLetterEntry, DeadLetterDetail, DeadLetterList, DeadLetterListOptions, PurgeOptions, PurgeResult } from './inspect-dead-letters.js';
export { showWatermark, setWatermark, resetWatermark } from './inspect-watermark.js';
export type { WatermarkInfo, WatermarkChange } from './inspect-watermark.js';

export interface RunListOptions extends InspectOptions {
  /** Only runs in this status (running | succeeded | failed | interrupted). */
  status?: string;
  /** Newest N runs (default 20). */
  limit?: number;
}

export interface RunListEntry extends RunCounters {
  id: number;
  pipeline: string;
  status: RunStatus;
  started_at: string;
  finished_at: string | null;
  /** Null while the run has not finished. */
  duration_ms: number | null;
  /** skipped_watermark + skipped_stale + skipped_duplicate. */
  skipped: number;
  watermark_before: string | null;
  watermark_after: string | null;
  error: string | null;
  /** Files of the run that failed (skipped after an error), with why. */
  failed_files: { path: string; error: string | null }[];
}

/** `sluice runs`: the newest runs first. */
export async function listRuns(options: RunListOptions): Promise<RunListEntry[]> {
  const status = checkStatus(options.status);
  return reading(options.db, [], async (backend) => {
    const runs = await backend.ledger.listRuns({ pipeline: options.pipeline, status, limit: options.limit ?? 20 });
    return Promise.all(runs.map((run) => runEntry(backend, run)));
  });
}

function checkStatus(status: string | undefined): RunStatus | undefined {
  if (status === undefined) return undefined;
  if ((RUN_STATUSES as readonly string[]).includes(status)) return status as RunStatus;
  throw new SluiceError('CONFIG_INVALID', `--status must be one of ${RUN_STATUSES.join(', ')}; found "${status}"`);
}

async function runEntry(backend: Backend, run: RunRow): Promise<RunListEntry> {
  const c = run.counters;
  const failed = c.files_failed > 0 ? (await backend.ledger.runFiles(run.id)).filter((f) => f.status === 'failed') : [];
  return {
    id: run.id,
    pipeline: run.pipeline,
    status: run.status,
    started_at: run.startedAt,
    finished_at: run.finishedAt,
    duration_ms: durationMs(run),
    ...c,
    skipped: c.skipped_watermark + c.skipped_stale + c.skipped_duplicate,
    watermark_before: run.watermarkBefore,
    watermark_after: run.watermarkAfter,
    error: run.error,
    failed_files: failed.map((f) => ({ path: f.path, error: f.error })),
  };
}

/** Lineage steps in the order a record meets them. */
export const LINEAGE_STEPS: readonly LineageStep[] = ['stage', 'load', 'discard', 'reject', 'skip-watermark', 'skip-stale', 'skip-duplicate', 'drop'];

export type StepCounts = Record<LineageStep, number>;

export interface LineageReport {
  run_id: number;
  pipeline: string;
  status: RunStatus;
  total: number;
  steps: StepCounts;
  files: { file: string; total: number; steps: StepCounts }[];
}

/** `sluice lineage --by-step`: one run's lineage counted by step, and by file and step. */
export async function lineageByStep(options: InspectOptions & { runId?: number }): Promise<LineageReport | null> {
  return reading<LineageReport | null>(options.db, null, async (backend) => {
    const run =
      options.runId === undefined
        ? ((await backend.ledger.listRuns({ pipeline: options.pipeline, limit: 1 }))[0] ?? null)
        : await requireRun(backend, options.runId, options.pipeline);
    if (run === null) return null;
    const counts = await backend.ledger.lineageByStep(run.id);
    const report: LineageReport = { run_id: run.id, pipeline: run.pipeline, status: run.status, total: 0, steps: zeroSteps(), files: [] };
    const byFile = new Map<string, LineageReport['files'][number]>();
    for (const { step, file, count } of counts) {
      const name = file ?? '(unknown file)';
      let entry = byFile.get(name);
      if (entry === undefined) {
        entry = { file: name, total: 0, steps: zeroSteps() };
        byFile.set(name, entry);
        report.files.push(entry);
      }
      entry.steps[step] = (entry.steps[step] ?? 0) + count;
      entry.total += count;
      report.steps[step] = (report.steps[step] ?? 0) + count;
      report.total += count;
    }
    return report;
  });
}

function zeroSteps(): StepCounts {
  return Object.fromEntries(LINEAGE_STEPS.map((step) => [step, 0])) as StepCounts;
}

export interface KeyEvent {
  run_id: number;
  pipeline: string;
  file: string;
  line: number;
  step: LineageStep;
  /** For a rejection: its dead letter (`sluice dead-letters show ID`) and why. */
  dead_letter_id: number | null;
  reason: ReasonCode | null;
  field: string | null;
  message: string | null;
}

export interface KeyRowNow {
  pipeline: string;
  table: string;
  key_column: string;
  /** The run that wrote the row, and the file:line it came from. */
  run_id: number | null;
  source: string | null;
  fields: Fields;
}

export interface KeyHistory {
  key: string;
  history: KeyEvent[];
  /** The key's rows as they stand now in each target table its pipeline(s) load. */
  current: KeyRowNow[];
}

/** `sluice lineage --key K`: every file and line a key came from, each step, and its row now. */
export async function keyHistory(options: InspectOptions & { key: string; runId?: number }): Promise<KeyHistory> {
  const empty: KeyHistory = { key: options.key, history: [], current: [] };
  return reading(options.db, empty, async (backend) => {
    if (options.runId !== undefined) await requireRun(backend, options.runId, options.pipeline);
    const rows = await backend.queries.lineageForKey(options.key, { pipeline: options.pipeline, runId: options.runId });
    const history: KeyEvent[] = rows.map((r) => ({
      run_id: r.runId,
      pipeline: r.pipeline,
      file: r.file,
      line: r.line,
      step: r.step,
      dead_letter_id: r.deadLetterId,
      reason: r.reason,
      field: r.field,
      message: r.message,
    }));
    return { key: options.key, history, current: await rowsNow(backend, options, history) };
  });
}

/**
 * The tables to look in: those of the runs in the history, else (the key never passed through
 * the ledger) the latest run of the named pipeline, or of every pipeline.
 */
async function rowsNow(backend: Backend, options: InspectOptions & { key: string }, history: KeyEvent[]): Promise<KeyRowNow[]> {
  const runIds = [...new Set(history.map((h) => h.run_id))];
  const runs: RunRow[] = [];
  for (const id of runIds) {
    const run = await backend.ledger.getRun(id);
    if (run !== null) runs.push(run);
  }
  if (runs.length === 0) {
    const pipelines = options.pipeline === undefined ? await backend.queries.pipelines() : [options.pipeline];
    for (const pipeline of pipelines) runs.push(...(await backend.ledger.listRuns({ pipeline, limit: 1 })));
  }
  const seen = new Set<string>();
  const current: KeyRowNow[] = [];
  for (const run of runs) {
    const settings = settingsOf(run);
    if (settings.table === undefined || settings.key === undefined || settings.key === null) continue;
    const keyColumn = storedName(settings, settings.key);
    const id = JSON.stringify([settings.table, keyColumn]);
    if (seen.has(id)) continue;
    seen.add(id);
    for (const row of await backend.queries.targetRowsByKey(settings.table, keyColumn, options.key)) {
      current.push(rowNow(run.pipeline, settings.table, keyColumn, row));
    }
  }
  return current;
}

function rowNow(pipeline: string, table: string, keyColumn: string, row: Fields): KeyRowNow {
  const fields = emptyFields();
  for (const [name, value] of Object.entries(row)) if (!isMetaColumn(name)) fields[name] = plainValue(value);
  const runId = row[META.runId];
  const source = row[META.source];
  return {
    pipeline,
    table,
    key_column: keyColumn,
    run_id: typeof runId === 'number' ? runId : null,
    source: typeof source === 'string' ? source : null,
    fields,
  };
}
