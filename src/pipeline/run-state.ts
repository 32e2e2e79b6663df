import { hostname } from 'node:os';
import path from 'node:path';
import type { Backend, BackendTx } from '../backends/backend.js';
import { redact } from '../backends/open-backend.js';
import { SluiceError } from '../core/errors.js';
import type { RunSettings } from '../core/settings.js';
import type { CursorValue, RunRow, WatermarkRow } from '../ledger/ledger.js';
import { compareSortable, parseCursor, type CursorSpec } from '../stages/watermark/index.js';
import { targetSpec, type CommitContext } from './commit-batch.js';
import { isReplayRun } from './inspect-common.js';
import type { PreparedRun } from './prepare.js';
import { rereadNote } from './rereads.js';
import type { FileReport, RunSummary } from './summary.js';
import { checkDeclaredTypes } from './declared-types.js';
import { checkTableKey } from './table-key.js';

export interface RunStart {
  run: RunRow;
  resumed: boolean;
  /** The watermark the run started with; a resumed run keeps its original one. */
  startWatermark: CursorValue | null;
}

/** The settings a resumed run must share with the run it continues. */
const RESUME_KEYS = ['table', 'key', 'cursor', 'strategy', 'format', 'normalize', 'transform'] as const;

export function shadowTable(runId: number): string {
  return `_sluice_shadow_${runId}`;
}

/** Resumes the pipeline's unfinished run, or starts a new one (abandoning it with --restart). */
export async function startOrResume(backend: Backend, settings: RunSettings, prepared: PreparedRun, warn: (m: string) => void): Promise<RunStart> {
  await checkTableKey(backend, settings, prepared.key);
  // replace builds a new table: the old one's column types do not matter.
  if (settings.strategy !== 'replace') await checkDeclaredTypes(backend, settings.table, prepared.rules.types);
  const unfinished = await backend.ledger.findUnfinishedRun(settings.pipeline);
  if (unfinished !== null && !settings.restart) return resume(backend, settings, prepared, unfinished, warn);
  const stored = await backend.ledger.getWatermark(settings.pipeline);
  const startWatermark = startingWatermark(stored, prepared.cursor, settings);
  const runId = await backend.transaction(async (tx) => {
    if (unfinished !== null) await tx.ledger.finishRun(unfinished.id, 'interrupted', unfinished.watermarkBefore, 'abandoned by --restart');
    const id = await tx.ledger.createRun({
      pipeline: settings.pipeline,
      status: 'running',
      startedAt: new Date().toISOString(),
      pid: process.pid,
      host: hostname(),
      settings: storedSettings(settings),
      watermarkBefore: stored?.value ?? null,
    });
    await tx.ledger.addRunFiles(id, prepared.files.map((file, ordinal) => ({ ordinal, path: file.path, size: file.size })));
    await tx.ledger.addCounters(id, { files_total: prepared.files.length }, null);
    return id;
  });
  if (unfinished !== null) warn(abandonedNote(unfinished, settings));
  const reread = await rereadNote(backend, settings.pipeline, runId, prepared.files.map((file) => file.path));
  if (reread !== null) warn(reread);
  return { run: (await backend.ledger.getRun(runId)) as RunRow, resumed: false, startWatermark };
}

/** What --restart leaves behind; under append, what it costs to read those records again. */
function abandonedNote(unfinished: RunRow, settings: RunSettings): string {
  const note = `abandoned unfinished run ${unfinished.id} (--restart); rows it committed stay`;
  if (settings.strategy !== 'append' || unfinished.counters.loaded === 0) return note;
  return `${note}: under append, what it loaded of a file it had not finished loads again, as this run reads that file from its start (without --restart, the run reads on from its checkpoints)`;
}

/**
 * The settings a run stores: never a connection password; `workers` only when set; the working
 * directory, which relative paths are read from (status builds the resume command with it).
 */
function storedSettings(settings: RunSettings): string {
  const { workers, ...rest } = settings;
  return JSON.stringify({ ...rest, db: redact(settings.db), ...(workers === null ? {} : { workers }), cwd: process.cwd() });
}

async function resume(backend: Backend, settings: RunSettings, prepared: PreparedRun, run: RunRow, warn: (m: string) => void): Promise<RunStart> {
  checkSameSettings(settings, run);
  await warnAddedFiles(backend, prepared, run, warn);
  await backend.transaction(async (tx) => tx.ledger.reopenRun(run.id, process.pid, hostname()));
  return { run: (await backend.ledger.getRun(run.id)) as RunRow, resumed: true, startWatermark: runWatermark(run, prepared.cursor) };
}

function checkSameSettings(settings: RunSettings, run: RunRow): void {
  if (isReplayRun(run)) {
    // Its settings are a replay's: resumed as a run of files, it would end with its letters half done.
    throw new SluiceError('CONFIG_INVALID', `run ${run.id} of pipeline ${settings.pipeline} is an unfinished dead-letter replay; it must finish before the next run`, {
      hint: `continue it with: sluice dead-letters replay --db ${redact(settings.db)} --pipeline ${settings.pipeline}, or start over with --restart (what it loaded stays; the letters it did not reach wait)`,
    });
  }
  const before = JSON.parse(run.settings) as Partial<RunSettings>;
  for (const name of RESUME_KEYS) {
    if (JSON.stringify(before[name] ?? null) !== JSON.stringify(settings[name] ?? null)) {
      throw new SluiceError('CONFIG_INVALID', `run ${run.id} of pipeline ${settings.pipeline} is unfinished and was started with --${name} ${String(before[name])}, not ${String(settings[name])}`, {
        hint: `resume it with the same settings, or start over with --restart (rows it committed stay)`,
      });
    }
  }
}

async function warnAddedFiles(backend: Backend, prepared: PreparedRun, run: RunRow, warn: (m: string) => void): Promise<void> {
  const files = await backend.ledger.runFiles(run.id);
  // path.resolve: a run started by a version that stored paths as given.
  const known = new Set(files.map((f) => path.resolve(f.path)));
  const added = prepared.files.filter((f) => !known.has(f.path)).length;
  if (added > 0) warn(`${added} file(s) appeared since run ${run.id} started; the next run will load them`);
}

/** A run filters with the watermark it started with, whoever resumes or joins it. */
function runWatermark(run: RunRow, cursor: CursorSpec | null): CursorValue | null {
  return run.watermarkBefore === null || cursor === null ? null : parseCursor(run.watermarkBefore, cursor.type);
}

/**
 * Parallel workers: one more process joins a run that is under way (or that stopped, which it
 * then reopens). It must load with the same settings; the run keeps its starting watermark.
 */
export async function joinRun(backend: Backend, settings: RunSettings, prepared: PreparedRun, run: RunRow, warn: (m: string) => void): Promise<RunStart> {
  checkSameSettings(settings, run);
  if (prepared.files.length > 0) await warnAddedFiles(backend, prepared, run, warn);
  if (run.status === 'interrupted') await backend.transaction(async (tx) => tx.ledger.reopenRun(run.id, process.pid, hostname()));
  return { run: (await backend.ledger.getRun(run.id)) as RunRow, resumed: true, startWatermark: runWatermark(run, prepared.cursor) };
}

/** Validates the stored watermark: a corrupt one stops the run with the command that repairs it. */
function startingWatermark(stored: WatermarkRow | null, cursor: CursorSpec | null, settings: RunSettings): CursorValue | null {
  if (stored === null || cursor === null) return null;
  const where = `--db ${redact(settings.db)} --pipeline ${settings.pipeline}`;
  if (stored.cursor !== cursor.field) {
    throw new SluiceError('WATERMARK_INVALID', `pipeline ${settings.pipeline} has a watermark on field ${stored.cursor}, but --cursor is ${cursor.field}`, {
      hint: `use the same --cursor, another --pipeline, or clear it: sluice watermark reset ${where} --yes`,
    });
  }
  const parsed = parseCursor(stored.value, cursor.type);
  if (parsed === null) {
    const expected = cursor.type === 'timestamp' ? 'an ISO-8601 timestamp' : `a ${cursor.type}`;
    throw new SluiceError('WATERMARK_INVALID', `the stored watermark of pipeline ${settings.pipeline} is ${JSON.stringify(stored.value)}, expected ${expected}`, {
      hint: `set a valid one: sluice watermark set <VALUE> ${where} --force, or clear it: sluice watermark reset ${where} --yes`,
    });
  }
  return parsed;
}

export interface RunEnd {
  start: RunStart;
  reports: FileReport[];
  warnings: string[];
  started: number;
  /** replace: swap the shadow table in (something was read). */
  swap?: boolean;
  /** replace: a file failed, the table was left as it was. */
  tableKept?: boolean;
}

/**
 * Completes the run in one transaction: the replace swap, the watermark and the run's status.
 * The watermark advances, and replace swaps its table in, only when every file loaded: a failed
 * file may hold records that a fixed re-delivery must still be able to load, and a table
 * swapped in without them would lose the rows they had.
 */
export async function finishRun(backend: Backend, settings: RunSettings, commit: CommitContext, end: RunEnd): Promise<RunSummary> {
  const failed = end.reports.find((r) => r.status === 'failed');
  const completion: RunCompletion = { start: end.start, failure: failed === undefined ? null : (failed.error ?? ''), swap: end.swap ?? false };
  if (completion.swap && failed !== undefined) {
    end.warnings.push(notReplacedNote(settings.table, failed.path));
    end.tableKept = true;
  }
  await backend.transaction(async (tx) => completeRun(tx, settings, commit, completion));
  const run = (await backend.ledger.getRun(commit.runId)) as RunRow;
  return summarize(backend, settings, run, end);
}

/** Why a replace run left its table as it was (said by the process that summarizes the run). */
export function notReplacedNote(table: string, failedPath: string): string {
  return (
    `table ${table} was not replaced: ${failedPath} failed, and replace swaps in a new table only when every file loads; ` +
    'the table keeps its rows from before this run (fix the file and run again: every file is read again)'
  );
}

export interface RunCompletion {
  start: RunStart;
  /** The first failed file's error ('' when it has none), or null when no file failed. */
  failure: string | null;
  /** replace: swap the shadow table in (something was read). */
  swap: boolean;
}

/** The transaction part of finishRun: the replace swap, the watermark and the run's status. */
export async function completeRun(tx: BackendTx, settings: RunSettings, commit: CommitContext, completion: RunCompletion): Promise<void> {
  const failed = completion.failure !== null;
  const stopped = failed && settings.onFileError === 'fail';
  const start = completion.start.startWatermark;
  const max = commit.maxCursor;
  const advance = !failed && max !== null && (start === null || compareSortable(max.sortable, start.sortable) > 0);
  if (settings.strategy === 'replace') {
    if (completion.swap && !failed) {
      await tx.ensureTarget(targetSpec(commit));
      await tx.swapTable(commit.table, settings.table);
    } else {
      await tx.dropTable(commit.table);
      // The files this run read are not in the table: the next run must read them all again,
      // even if the failed one is then removed or back as it was. Nor are its loads: lineage says so.
      if (completion.swap) {
        await tx.ledger.markReread(settings.pipeline, `run ${commit.runId} did not replace table ${settings.table} (a file failed)`);
        await tx.ledger.discardLoads(commit.runId);
      }
    }
  }
  if (advance && max !== null && commit.cursorField !== null) {
    await tx.ledger.setWatermark({ pipeline: settings.pipeline, cursor: commit.cursorField, type: typeOf(max), value: max.value, runId: commit.runId });
  }
  const watermarkAfter = advance && max !== null ? max.value : completion.start.run.watermarkBefore;
  const error = stopped ? `stopped at a file error (--on-file-error fail): ${completion.failure ?? ''}` : null;
  await tx.ledger.finishRun(commit.runId, stopped ? 'failed' : 'succeeded', watermarkAfter, error);
}

function typeOf(value: CursorValue): string {
  return typeof value.sortable === 'number' ? 'number' : 'timestamp';
}

export async function markInterrupted(backend: Backend, runId: number, reason = 'interrupted by a signal'): Promise<RunRow> {
  const run = (await backend.ledger.getRun(runId)) as RunRow;
  await backend.transaction(async (tx) => tx.ledger.finishRun(runId, 'interrupted', run.watermarkBefore, reason));
  return (await backend.ledger.getRun(runId)) as RunRow;
}

export async function summarize(backend: Backend, settings: RunSettings, run: RunRow, end: RunEnd): Promise<RunSummary> {
  return {
    run_id: run.id,
    pipeline: run.pipeline,
    status: run.status,
    resumed: end.start.resumed,
    dry_run: false,
    table: settings.table,
    db: redact(settings.db),
    ...run.counters,
    watermark: run.watermarkAfter ?? run.watermarkBefore,
    watermark_before: run.watermarkBefore,
    target_rows: await backend.countRows(settings.table),
    duration_ms: Date.now() - end.started,
    files: end.reports,
    warnings: end.warnings,
    ...(end.tableKept === true ? { table_kept: true as const } : {}),
  };
}
