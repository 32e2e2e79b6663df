import path from 'node:path';
import type { Backend } from '../backends/backend.js';
import { isPostgresUrl } from '../backends/open-backend.js';
import { DEFAULT_LIMITS, type RunSettings } from '../core/settings.js';
import type { RunFileRow, RunRow, RunStatus } from '../ledger/ledger.js';
import type { CursorType } from '../stages/watermark/index.js';
import { isReplayRun, reading, settingsOf, type InspectOptions } from './inspect-common.js';
import { cursorOf } from './inspect-watermark.js';
import { isStaleLock } from './lock.js';
import { pendingReread, type PendingReread } from './rereads.js';

export interface TableCount {
  table: string;
  exists: boolean;
  rows: number;
}

/** Where an unfinished run stands: its first file not done yet, and how far into it. */
export interface CheckpointPosition {
  /** Null when every file is done and only the run's completion is missing. */
  file: string | null;
  files_done: number;
  files_total: number;
  /** Records of `file` committed so far (the run resumes after this one). */
  record: number;
  /** Input line of `file` at the checkpoint, as its decoder records it. */
  line: number;
  /** Percent of `file`'s bytes committed; null where offsets are unknown (gzip, some formats). */
  file_percent: number | null;
  /** Percent of all the run's input bytes committed; null when unknown. */
  total_percent: number | null;
}

export interface UnfinishedRun {
  run_id: number;
  status: RunStatus;
  /** alive: loading right now; dead: its process is gone (crashed); stopped: interrupted by a signal. */
  process: 'alive' | 'dead' | 'stopped';
  pid: number;
  host: string;
  started_at: string;
  heartbeat_at: string | null;
  loaded: number;
  checkpoint: CheckpointPosition;
  /** The command that resumes it; null while its process is still loading. */
  resume_command: string | null;
}

export interface PipelineStatus {
  pipeline: string;
  /**
   * `type` is how the ledger sorts the value (number or timestamp); `cursor_type` the type the
   * runs declare (integer, number, timestamp), as `watermark show` gives it.
   */
  watermark: { cursor: string; type: string; cursor_type: CursorType; value: string; updated_at: string; run_id: number | null } | null;
  last_run: { id: number; status: RunStatus; started_at: string; finished_at: string | null; error: string | null } | null;
  runs: number;
  unfinished: UnfinishedRun | null;
  /** Every table the pipeline's runs loaded, with its row count now. */
  tables: TableCount[];
  /** Dead letters not replayed yet. */
  dead_letters_waiting: number;
  /** Files the next run reads again after `watermark reset` (or a watermark moved back). */
  reread: PendingReread | null;
}

/** `sluice status`: where each pipeline stands (or the named one). */
export async function pipelineStatus(options: InspectOptions): Promise<PipelineStatus[]> {
  return reading(options.db, [], async (backend) => {
    const pipelines = options.pipeline === undefined ? await backend.queries.pipelines() : [options.pipeline];
    const statuses: PipelineStatus[] = [];
    for (const pipeline of pipelines) {
      const status = await statusOf(backend, backend.location, pipeline);
      if (status.runs > 0 || status.watermark !== null) statuses.push(status);
    }
    return statuses;
  });
}

async function statusOf(backend: Backend, db: string, pipeline: string): Promise<PipelineStatus> {
  const runs = await backend.ledger.listRuns({ pipeline });
  const last = runs[0];
  const watermark = await backend.ledger.getWatermark(pipeline);
  const unfinished = await backend.ledger.findUnfinishedRun(pipeline);
  return {
    pipeline,
    watermark: watermark === null ? null : { cursor: watermark.cursor, type: watermark.type, cursor_type: (await cursorOf(backend, pipeline, watermark))?.type ?? 'timestamp', value: watermark.value, updated_at: watermark.updatedAt, run_id: watermark.runId },
    last_run: last === undefined ? null : { id: last.id, status: last.status, started_at: last.startedAt, finished_at: last.finishedAt, error: last.error },
    runs: runs.length,
    unfinished: unfinished === null ? null : await unfinishedRun(backend, db, unfinished),
    tables: await tableCounts(backend, runs),
    dead_letters_waiting: await backend.queries.countDeadLetters({ pipeline, waitingOnly: true }),
    reread: await pendingReread(backend, pipeline),
  };
}

async function tableCounts(backend: Backend, runs: readonly RunRow[]): Promise<TableCount[]> {
  const tables = [...new Set(runs.map((run) => settingsOf(run).table).filter((t): t is string => typeof t === 'string'))].sort();
  const counts: TableCount[] = [];
  for (const table of tables) {
    const exists = await backend.tableExists(table);
    counts.push({ table, exists, rows: exists ? await backend.countRows(table) : 0 });
  }
  return counts;
}

async function unfinishedRun(backend: Backend, db: string, run: RunRow): Promise<UnfinishedRun> {
  const holder = { pipeline: run.pipeline, runId: run.id, pid: run.pid, host: run.host, since: run.startedAt, heartbeatAt: run.heartbeatAt ?? run.startedAt };
  const state = run.status === 'interrupted' ? 'stopped' : isStaleLock(holder) ? 'dead' : 'alive';
  return {
    run_id: run.id,
    status: run.status,
    process: state,
    pid: run.pid,
    host: run.host,
    started_at: run.startedAt,
    heartbeat_at: run.heartbeatAt,
    loaded: run.counters.loaded,
    checkpoint: checkpointOf(await backend.ledger.runFiles(run.id)),
    resume_command: state === 'alive' ? null : continueCommand(run, db),
  };
}

const DONE = new Set<RunFileRow['status']>(['loaded', 'unchanged', 'failed']);

function checkpointOf(files: readonly RunFileRow[]): CheckpointPosition {
  const current = files.find((f) => !DONE.has(f.status));
  const done = files.filter((f) => DONE.has(f.status));
  const totalBytes = files.reduce((n, f) => n + f.size, 0);
  const doneBytes = done.reduce((n, f) => n + f.size, 0);
  // A gzip file's offsets count decompressed bytes: they say nothing about its size on disk.
  const offset = current === undefined ? 0 : current.position === 0 ? 0 : /\.gz$/i.test(current.path) ? null : current.byteOffset;
  const percent = (part: number, whole: number): number => (whole <= 0 ? 100 : Math.min(100, Math.round((1000 * part) / whole) / 10));
  return {
    file: current?.path ?? null,
    files_done: done.length,
    files_total: files.length,
    record: current?.position ?? 0,
    line: current?.line ?? 0,
    file_percent: current === undefined ? null : offset === null ? null : percent(offset, current.size),
    total_percent: offset === null ? null : percent(doneBytes + offset, totalBytes),
  };
}

/** What continues an unfinished run: a replay's own command, or the run's. */
function continueCommand(run: RunRow, db: string): string {
  if (!isReplayRun(run)) return resumeCommand(settingsOf(run), db, run.pipeline);
  return ['sluice', 'dead-letters', 'replay', '--db', db, '--pipeline', run.pipeline].map(shellQuote).join(' ');
}

/**
 * The `sluice run` command that resumes a run, rebuilt from its stored settings (a --config
 * path is not stored: its settings are, so they become flags). `db` is the database as the
 * user named it now. Input paths stay as the run stored them (a resume must name the same
 * files and transform), so when the run started in another directory and any of them is
 * relative, the command first changes to that directory, and a relative `db` is made absolute.
 */
export function resumeCommand(s: Partial<RunSettings> & { cwd?: string }, db: string, pipeline: string): string {
  const from = s.cwd !== undefined && s.cwd !== process.cwd() && hasRelativePath(s) ? s.cwd : null;
  const dbHere = from === null || db === ':memory:' || isPostgresUrl(db) ? db : path.resolve(db);
  const args: string[] = ['sluice', 'run', '--db', dbHere, '--pipeline', pipeline];
  const flag = (name: string, value: string | number | null | undefined, omit?: string | number): void => {
    if (value !== null && value !== undefined && value !== omit) args.push(`--${name}`, String(value));
  };
  flag('table', s.table);
  for (const input of s.inputs ?? []) flag('input', input);
  flag('source-dir', s.sourceDir);
  if (s.sourceDir !== null && s.sourceDir !== undefined) flag('pattern', s.pattern, '*');
  flag('format', s.format, 'auto');
  flag('key', s.key);
  flag('cursor', s.cursor);
  flag('strategy', s.strategy, 'append');
  if (s.require !== undefined && s.require.length > 0) flag('require', s.require.join(','));
  for (const [field, type] of Object.entries(s.types ?? {})) flag('type', `${field}=${type}`);
  flag('schema', s.schemaFile);
  flag('transform', s.transform);
  flag('batch-size', s.batchSize, 1000);
  flag('on-file-error', s.onFileError, 'skip');
  if (s.normalize === false) args.push('--no-normalize');
  flag('max-record-bytes', s.limits?.maxRecordBytes, DEFAULT_LIMITS.maxRecordBytes);
  flag('output', s.output);
  flag('workers', s.workers);
  const command = args.map(shellQuote).join(' ');
  return from === null ? command : `cd ${shellQuote(from)} && ${command}`;
}

function hasRelativePath(s: Partial<RunSettings>): boolean {
  const paths = [...(s.inputs ?? []), s.sourceDir, s.schemaFile, s.transform, s.output];
  return paths.some((p) => typeof p === 'string' && !path.isAbsolute(p));
}

/** POSIX shell quoting, only where needed, so the command can be pasted as it is. */
export function shellQuote(arg: string): string {
  if (/^[\w./:=,@%+-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}
