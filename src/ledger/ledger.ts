import type { LineageStep, ReasonCode } from '../core/record.js';
import type { LineageEntry } from '../backends/backend.js';

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'interrupted';
export type FileStatus = 'pending' | 'loading' | 'loaded' | 'unchanged' | 'failed';

export const RUN_STATUSES: readonly RunStatus[] = ['running', 'succeeded', 'failed', 'interrupted'];

/** Which dead letters a replay takes up: those of one run, or of one reason. */
export interface LetterFilter {
  runId?: number;
  reason?: string;
}

/** One page of waiting dead letters, by id (see Ledger.pendingDeadLetters). */
export interface LetterPage {
  afterId: number;
  limit: number;
  offset?: number;
  alsoReplayedBy?: number;
}

/** The counters of one run. They reconcile: see `reconciles` in pipeline/counters.ts. */
export interface RunCounters {
  files_total: number;
  files_loaded: number;
  files_unchanged: number;
  files_failed: number;
  input_records: number;
  staged: number;
  loaded: number;
  rejected: number;
  skipped_watermark: number;
  skipped_stale: number;
  skipped_duplicate: number;
  dropped: number;
  dead_letters: number;
  lineage_entries: number;
}

export const COUNTER_NAMES: readonly (keyof RunCounters)[] = [
  'files_total',
  'files_loaded',
  'files_unchanged',
  'files_failed',
  'input_records',
  'staged',
  'loaded',
  'rejected',
  'skipped_watermark',
  'skipped_stale',
  'skipped_duplicate',
  'dropped',
  'dead_letters',
  'lineage_entries',
];

export function zeroCounters(): RunCounters {
  const counters = {} as RunCounters;
  for (const name of COUNTER_NAMES) counters[name] = 0;
  return counters;
}

/** A cursor value both as the user wrote it and in its sortable form. */
export interface CursorValue {
  /** As given in the input, e.g. `2025-01-15T12:00:00`. */
  value: string;
  /** Sortable form: a number, or canonical UTC timestamp text. */
  sortable: number | string;
}

export interface RunRow {
  id: number;
  pipeline: string;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  heartbeatAt: string | null;
  pid: number;
  host: string;
  /** The run's settings as JSON (replay uses them). */
  settings: string;
  watermarkBefore: string | null;
  watermarkAfter: string | null;
  /** Largest cursor loaded so far (committed with each batch, so a resumed run keeps it). */
  maxCursor: CursorValue | null;
  counters: RunCounters;
  error: string | null;
}

export interface RunFileRow {
  runId: number;
  ordinal: number;
  path: string;
  fileId: number;
  size: number;
  hash: string | null;
  status: FileStatus;
  error: string | null;
  /** Checkpoint: records of this file committed so far. */
  position: number;
  line: number;
  byteOffset: number | null;
}

export interface WatermarkRow {
  pipeline: string;
  cursor: string;
  type: string;
  value: string;
  updatedAt: string;
  runId: number | null;
}

/** A file an earlier run loaded completely: the same content is not read again. */
export interface LoadedFile {
  size: number;
  hash: string;
  runId: number;
}

/** Files loaded by runs up to `afterRun` are read again by later runs (watermark reset). */
export interface RereadMark {
  pipeline: string;
  afterRun: number;
  reason: string;
  createdAt: string;
}

export interface DeadLetterInput {
  fileId: number;
  file: string;
  line: number;
  raw: string;
  reason: ReasonCode;
  field: string | null;
  message: string;
}

/** The letters of a batch already waiting (their positions), and the stored ones whose reason is not today's. */
export interface WaitingRepeats {
  positions: number[];
  outdated: LetterReason[];
  /** The stored letters found again (same file, line and text), with their line. */
  found: { id: number; line: number }[];
}

/** The lines of a file that one slice of a read settles (see SliceLines); `to` null: to the file's end. */
export interface LineSpan {
  fileId: number;
  from: number;
  to: number | null;
}

/** A waiting letter's new reason, field and message. */
export interface LetterReason {
  id: number;
  reason: ReasonCode;
  field: string | null;
  message: string;
}

export interface DeadLetterRow extends DeadLetterInput {
  id: number;
  runId: number;
  pipeline: string;
  createdAt: string;
  replayedBy: number | null;
}

export interface LockHolder {
  pipeline: string;
  runId: number | null;
  pid: number;
  host: string;
  since: string;
  heartbeatAt: string;
}

/** A process taking part in a parallel run: the owner of a file claim (see `Ledger.claimFile`). */
export interface ClaimHolder {
  pid: number;
  host: string;
  since: string;
  heartbeatAt: string;
}

export interface ClaimOptions {
  /** Whether a claim's holder is dead (SQLite; PostgreSQL knows by itself: its session ended). */
  isStale: (holder: ClaimHolder) => boolean;
  /**
   * --on-file-error fail: once a file of the run failed, no new file is started; files already
   * started (status `loading`) are still claimed, so a dead worker's half-loaded file completes.
   */
  stopAfterFailure: boolean;
}

/** A run's row and its files, read under the run's lock (finishing a parallel run). */
export interface LockedRun {
  run: RunRow;
  files: RunFileRow[];
}

export interface CheckpointInput {
  ordinal: number;
  position: number;
  line: number;
  byteOffset: number | null;
  status: FileStatus;
  error?: string | null;
  size?: number;
  hash?: string | null;
}

export interface LineageCount {
  step: LineageStep;
  file: string | null;
  count: number;
}

/** Ledger reads and the writes that stand alone (each its own transaction). */
export interface Ledger {
  getWatermark(pipeline: string): Promise<WatermarkRow | null>;
  getRun(id: number): Promise<RunRow | null>;
  /** The pipeline's newest run when it is `running` (crashed) or `interrupted` (signal): resumable. */
  findUnfinishedRun(pipeline: string): Promise<RunRow | null>;
  listRuns(options: { pipeline?: string; status?: RunStatus; limit?: number }): Promise<RunRow[]>;
  runFiles(runId: number): Promise<RunFileRow[]>;
  /** Fingerprints of files loaded by earlier runs of the pipeline, by path. */
  loadedFiles(pipeline: string): Promise<Map<string, LoadedFile>>;
  /** The pipeline's re-read mark, if `watermark reset` (or set backwards) left one. */
  rereadMark(pipeline: string): Promise<RereadMark | null>;
  /**
   * Where earlier runs of the pipeline last failed each file after committing part of it, by
   * path: a later run reads the same content on from there instead of loading that part again.
   */
  partlyFailedFiles(pipeline: string): Promise<Map<string, RunFileRow>>;
  /** Paths stored relative (by versions that kept a path as given), with their ids. */
  relativePaths(): Promise<{ id: number; path: string }[]>;
  lineageByStep(runId: number): Promise<LineageCount[]>;
  /**
   * One page of the pipeline's dead letters not replayed yet, oldest first: `limit` of those with
   * an id above `afterId`, `offset` skipped. With `alsoReplayedBy`, also those that replay run
   * resolved (the letters it started with, to resume it from its position).
   */
  pendingDeadLetters(pipeline: string, filter: LetterFilter & LetterPage): Promise<DeadLetterRow[]>;
  /** Takes the pipeline's writer lock; returns the current holder when someone else has it. */
  acquireLock(holder: LockHolder, isStale: (holder: LockHolder) => boolean): Promise<LockHolder | null>;
  heartbeat(pipeline: string, pid: number, runId: number | null): Promise<void>;
  releaseLock(pipeline: string, pid: number): Promise<void>;

  // Parallel workers (`sluice run --workers N`): the lock shared by the workers of one run, and
  // the files of the run claimed one at a time.

  /**
   * Opens the lock this process took with `acquireLock` to the other workers of run `runId`;
   * this process becomes one of them. A plain run's lock can never be joined.
   */
  shareLock(holder: LockHolder & { runId: number }): Promise<void>;
  /**
   * Joins the shared lock of run `holder.runId` as one more worker. Returns the holder when the
   * lock is not shared by a live worker of that run (a plain run, another run, nobody alive).
   */
  joinLock(holder: LockHolder & { runId: number }, isStale: (holder: LockHolder) => boolean): Promise<LockHolder | null>;
  /** Leaves the shared lock; the last worker to leave releases it. */
  leaveLock(holder: LockHolder & { runId: number }, isStale: (holder: LockHolder) => boolean): Promise<void>;
  /**
   * Claims the first file (by ordinal) of a running run that is not done and that no live worker
   * owns, marks it `loading`, and returns it as it stands (a taken-over file resumes from its
   * checkpoint). Null when there is none, or when the run is finished.
   */
  claimFile(runId: number, claimer: ClaimHolder, options: ClaimOptions): Promise<RunFileRow | null>;
  /** Gives a claimed file up (done, or stopped at a checkpoint: another worker may resume it). */
  releaseFile(runId: number, ordinal: number, claimer: ClaimHolder): Promise<void>;
  /** Keeps this process's claims visibly alive for workers on other hosts (SQLite). */
  heartbeatClaims(runId: number, claimer: ClaimHolder): Promise<void>;
}

/** Ledger writes that belong to a batch's transaction. */
export interface LedgerTx {
  createRun(run: Omit<RunRow, 'id' | 'finishedAt' | 'heartbeatAt' | 'counters' | 'maxCursor' | 'error' | 'watermarkAfter'>): Promise<number>;
  /** A resumed run: running again, under the new process. */
  reopenRun(runId: number, pid: number, host: string): Promise<void>;
  addRunFiles(runId: number, files: readonly { ordinal: number; path: string; size: number }[]): Promise<void>;
  fileId(path: string): Promise<number>;
  /** Adds to the counters; `maxCursor` replaces the stored one only when larger (workers commit in any order). */
  addCounters(runId: number, delta: Partial<RunCounters>, maxCursor: CursorValue | null): Promise<void>;
  setCheckpoint(runId: number, checkpoint: CheckpointInput): Promise<void>;
  /** Marks a file unchanged or failed without moving its checkpoint. */
  setFileStatus(runId: number, ordinal: number, status: FileStatus, error: string | null): Promise<void>;
  markFileLoaded(pipeline: string, path: string, size: number, hash: string, runId: number): Promise<void>;
  insertLineage(runId: number, entries: readonly LineageEntry[]): Promise<void>;
  /** A replace run that did not swap its table in: its `load` steps become `discard`. */
  discardLoads(runId: number): Promise<void>;
  insertDeadLetters(runId: number, pipeline: string, letters: readonly DeadLetterInput[]): Promise<void>;
  /**
   * The positions in `letters` of those the pipeline already has waiting (not replayed): same file, line and
   * raw text. A file read again (after a watermark reset, or delivered again with its bad lines
   * unchanged) stores each invalid record once, so one record is never replayed twice. `outdated`
   * are the waiting letters whose record now fails for another reason (the rules changed).
   * `aliases` maps the id of a path stored relative by an earlier version to the id of the same
   * file's absolute path: a letter stored under either counts as waiting. Letters of run
   * `exceptRun` (the run reading) are not repeated: its records are distinct records.
   */
  waitingRepeats(pipeline: string, letters: readonly DeadLetterInput[], exceptRun: number, aliases?: ReadonlyMap<number, number>): Promise<WaitingRepeats>;
  /** Gives waiting letters the reason, field and message their record fails with today. */
  updateLetterReasons(letters: readonly LetterReason[]): Promise<void>;
  /**
   * Marks as superseded by run `runId` the pipeline's waiting letters of a file read again whose
   * line falls in `span`, except `keep` (those the read found again, same text): the file holds
   * another record at their line now, or none, or the record passes now, so a replay must never
   * load the old one. Letters of run `runId` itself are left alone. `aliases` as for
   * waitingRepeats. Returns how many.
   */
  /** Whether the pipeline has letters waiting for the file (or an alias of it) from other runs. */
  hasWaitingLetters(pipeline: string, fileId: number, exceptRun: number, aliases?: ReadonlyMap<number, number>): Promise<boolean>;
  supersedeLetters(pipeline: string, span: LineSpan, keep: readonly number[], runId: number, aliases?: ReadonlyMap<number, number>): Promise<number>;
  /** Marks dead letters as replayed (loaded) by a run, so they are never replayed twice. */
  markReplayed(ids: readonly number[], runId: number): Promise<void>;
  finishRun(runId: number, status: RunStatus, watermarkAfter: string | null, error: string | null): Promise<void>;
  setWatermark(row: Omit<WatermarkRow, 'updatedAt'>): Promise<void>;
  deleteWatermark(pipeline: string): Promise<boolean>;
  /** Makes every run after the newest one so far read the files loaded until now again. */
  markReread(pipeline: string, reason: string): Promise<void>;
  /**
   * Locks the run's row until the transaction ends and reads it with its files. Every batch
   * commit updates that row, so under the lock the files' states are final: the one place a
   * parallel run checks that all its files are done and completes the run, exactly once.
   */
  lockRun(runId: number): Promise<LockedRun | null>;
}
