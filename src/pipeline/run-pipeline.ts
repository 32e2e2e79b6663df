import { existsSync } from 'node:fs';
import type { Backend } from '../backends/backend.js';
import { isPostgresUrl, openBackend } from '../backends/open-backend.js';
import { isMetaColumn } from '../backends/sql.js';
import { isSluiceError, SluiceError } from '../core/errors.js';
import type { FieldType, RunSettings } from '../core/settings.js';
import type { RunFileRow } from '../ledger/ledger.js';
import { hashFile } from '../stages/discover/index.js';
import { exportBackendTable } from './export.js';
import { ColumnSet, inheritColumnTypes } from './columns.js';
import type { CommitContext } from './commit-batch.js';
import { loadFile, type LoadObserver } from './load-file.js';
import { acquirePipelineLock } from './lock.js';
import { prepareRun, type PreparedRun } from './prepare.js';
import type { RecordFlow } from './record-flow.js';
import { finishRun, markInterrupted, shadowTable, startOrResume, summarize, type RunStart } from './run-state.js';
import type { FileReport, RunSummary } from './summary.js';

/** How a run talks to whoever started it (the CLI: stderr, signals, --simulate-crash). */
export interface RunObserver {
  warn(message: string): void;
  /** After each committed batch. */
  progress(progress: RunProgress): void;
  /** Called for every record read; the CLI's --simulate-crash ends the process here. */
  recordRead(): void;
  /** True once a signal asked the run to stop at the next checkpoint. */
  stopRequested(): boolean;
}

export interface RunProgress {
  filesDone: number;
  filesTotal: number;
  records: number;
  bytesRead: number;
  bytesTotal: number;
}

export const silentObserver: RunObserver = { warn: () => {}, progress: () => {}, recordRead: () => {}, stopRequested: () => false };

/** Thrown when a signal stopped the run at a checkpoint; the run is `interrupted` and resumable. */
export class RunInterrupted extends SluiceError {
  constructor(readonly summary: RunSummary) {
    super('RUN_INTERRUPTED', `run ${summary.run_id} of pipeline ${summary.pipeline} was interrupted after a clean checkpoint`, {
      hint: 'run the same command again to resume it',
    });
  }
}

interface RunIo {
  observer: RunObserver;
  warn: (message: string) => void;
  warnings: string[];
  started: number;
}

/**
 * `sluice run`: loads the input files into the target table exactly once. Everything that can
 * be checked without the database is checked first (exit 2, nothing written).
 */
export async function runPipeline(settings: RunSettings, observer: RunObserver = silentObserver): Promise<RunSummary> {
  const warnings: string[] = [];
  const warn = (message: string): void => {
    warnings.push(message);
    observer.warn(message);
  };
  const io: RunIo = { observer, warnings, warn, started: Date.now() };
  const prepared = await prepareRun(settings, io.warn);
  // A dry run against a database that does not exist yet must not create it.
  const dryRunInMemory = settings.dryRun && settings.db !== ':memory:' && !isPostgresUrl(settings.db) && !existsSync(settings.db);
  const backend = await openBackend(dryRunInMemory ? ':memory:' : settings.db);
  try {
    if (settings.dryRun) return await dryRun(backend, settings, prepared, io);
    const release = await acquirePipelineLock(backend, settings.pipeline);
    try {
      return await execute(backend, settings, prepared, io);
    } finally {
      await release();
    }
  } finally {
    await backend.close();
  }
}

class DryRunRollback extends Error {
  constructor(readonly summary: RunSummary) {
    super('dry run rolled back');
  }
}

/** A dry run does everything inside one transaction, then rolls it back. */
async function dryRun(backend: Backend, settings: RunSettings, prepared: PreparedRun, io: RunIo): Promise<RunSummary> {
  try {
    await backend.transaction(async () => {
      throw new DryRunRollback(await execute(backend, settings, prepared, io));
    });
  } catch (error) {
    if (error instanceof DryRunRollback) return { ...error.summary, dry_run: true };
    throw error;
  }
  throw new Error('a dry run must roll back');
}

async function execute(backend: Backend, settings: RunSettings, prepared: PreparedRun, io: RunIo): Promise<RunSummary> {
  const start = await startOrResume(backend, settings, prepared, io.warn);
  const runId = start.run.id;
  const replace = settings.strategy === 'replace';
  // append takes --key for lineage only: its rows are not unique by key.
  const tableKey = settings.strategy === 'append' ? null : prepared.key;
  const targetColumns = (await backend.tableColumns(settings.table)).filter((c) => !isMetaColumn(c.name));
  const writeTable = replace ? shadowTable(runId) : settings.table;
  const writeColumns = replace ? (await backend.tableColumns(writeTable)).filter((c) => !isMetaColumn(c.name)) : targetColumns;
  inheritColumnTypes(prepared.rules.types as Record<string, FieldType>, writeColumns);
  const columns = new ColumnSet(prepared.rules.types, writeColumns);
  if (tableKey !== null) columns.include(tableKey);
  const cursorType = prepared.cursor === null ? null : prepared.cursor.type === 'timestamp' ? 'text' : 'real';
  const commit: CommitContext = {
    backend,
    runId,
    pipeline: settings.pipeline,
    table: writeTable,
    strategy: settings.strategy,
    key: tableKey,
    cursorField: prepared.cursor?.field ?? null,
    cursorType,
    rowHash: prepared.cursor !== null && tableKey === null,
    columns,
    maxCursor: start.run.maxCursor,
    ensuredVersion: -1,
    lastHeartbeat: 0,
  };
  const flow: RecordFlow & PreparedRun = { ...prepared, startWatermark: start.startWatermark, rowHash: commit.rowHash, columns };
  const known = new Set(targetColumns.map((c) => c.name));
  const files = await backend.ledger.runFiles(runId);
  let loaded: Awaited<ReturnType<typeof loadFiles>>;
  try {
    loaded = await loadFiles(commit, flow, settings, files, known, io, start);
  } catch (error) {
    throw settings.dryRun ? error : await markResumable(backend, runId, error);
  }
  const { reports, read } = loaded;
  const summary = await finishRun(backend, settings, commit, { start, reports, warnings: io.warnings, started: io.started, swap: replace && read });
  if (settings.output !== null && summary.status === 'succeeded') {
    summary.export = await exportBackendTable(backend, { table: settings.table, output: settings.output, dryRun: settings.dryRun });
  }
  return summary;
}

async function loadFiles(
  commit: CommitContext,
  flow: RecordFlow & PreparedRun,
  settings: RunSettings,
  files: RunFileRow[],
  knownColumns: Set<string>,
  io: RunIo,
  start: RunStart,
): Promise<{ reports: FileReport[]; read: boolean }> {
  const previous = await commit.backend.ledger.loadedFiles(settings.pipeline);
  // replace rebuilds the table from all files: either none changed (nothing to do) or all are read.
  const forceRead = settings.strategy === 'replace' && !(await allUnchanged(files, previous));
  const progress: RunProgress = { filesDone: 0, filesTotal: files.length, records: 0, bytesRead: 0, bytesTotal: files.reduce((n, f) => n + f.size, 0) };
  const observer: LoadObserver = {
    onRecordRead: () => {
      progress.records += 1;
      io.observer.recordRead();
    },
    onBytes: (count) => {
      progress.bytesRead += count;
    },
    onCheckpoint: () => io.observer.progress(progress),
    stopRequested: () => io.observer.stopRequested(),
    warn: io.warn,
  };
  const reports: FileReport[] = [];
  let read = false;
  for (const file of files) {
    if (file.status === 'loaded' || file.status === 'unchanged' || file.status === 'failed') {
      reports.push({ path: file.path, status: file.status === 'failed' ? 'failed' : file.status, records: 0, error: file.error, new_columns: [], missing_columns: [] });
      read ||= file.status === 'loaded';
      progress.filesDone += 1;
      continue;
    }
    if (io.observer.stopRequested()) throw await interrupted(commit, settings, start, reports, io);
    const input = { file, formatOf: flow.formatOf, batchSize: settings.batchSize, limits: settings.limits, previous: forceRead ? undefined : previous.get(file.path), knownColumns };
    const { stopped, ...report } = await loadFile(commit, flow, input, observer);
    if (stopped) throw await interrupted(commit, settings, start, reports, io);
    progress.filesDone += 1;
    reports.push(report);
    read ||= report.status !== 'unchanged';
    if (report.status === 'failed' && settings.onFileError === 'fail') break;
  }
  return { reports, read };
}

/**
 * A run stopped by its environment (disk full, I/O error, lost connection) stays resumable:
 * its committed batches are consistent, so it is marked interrupted and the next run of the
 * same command continues it once the cause is fixed.
 */
async function markResumable(backend: Backend, runId: number, error: unknown): Promise<unknown> {
  if (!isSluiceError(error) || !error.code.startsWith('BACKEND_')) return error;
  await markInterrupted(backend, runId, error.message).catch(() => undefined);
  const hint = error.hint ?? 'fix the cause, then run the same command again: it resumes from the last checkpoint';
  return new SluiceError(error.code, `run ${runId} stopped: ${error.message}`, { hint, cause: error });
}

async function allUnchanged(files: RunFileRow[], previous: Map<string, { size: number; hash: string }>): Promise<boolean> {
  for (const file of files) {
    const before = previous.get(file.path);
    if (before === undefined || before.size !== file.size) return false;
    if ((await hashFile(file.path).catch(() => null)) !== before.hash) return false;
  }
  return true;
}

async function interrupted(commit: CommitContext, settings: RunSettings, start: RunStart, reports: FileReport[], io: RunIo): Promise<RunInterrupted> {
  const run = await markInterrupted(commit.backend, start.run.id);
  return new RunInterrupted(await summarize(commit.backend, settings, run, { start, reports, warnings: io.warnings, started: io.started }));
}
