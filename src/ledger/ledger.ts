import type { LineageStep, ReasonCode } from '../core/record.js';
import type { LineageEntry } from '../backends/backend.js';

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'interrupted';
export type FileStatus = 'pending' | 'loading' | 'loaded' | 'unchanged' | 'failed';

export const RUN_STATUSES: readonly RunStatus[] = ['running', 'succeeded', 'failed', 'interrupted'];

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

export interface DeadLetterInput {
  fileId: number;
  file: string;
  line: number;
  raw: string;
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
  loadedFiles(pipeline: string): Promise<Map<string, { size: number; hash: string }>>;
  lineageByStep(runId: number): Promise<LineageCount[]>;
  /** Dead letters of the pipeline not replayed yet, oldest first. */
  pendingDeadLetters(pipeline: string, filter: { runId?: number; reason?: string }): Promise<DeadLetterRow[]>;
  /** Takes the pipeline's writer lock; returns the current holder when someone else has it. */
  acquireLock(holder: LockHolder, isStale: (holder: LockHolder) => boolean): Promise<LockHolder | null>;
  heartbeat(pipeline: string, pid: number, runId: number | null): Promise<void>;
  releaseLock(pipeline: string, pid: number): Promise<void>;
}

/** Ledger writes that belong to a batch's transaction. */
export interface LedgerTx {
  createRun(run: Omit<RunRow, 'id' | 'finishedAt' | 'heartbeatAt' | 'counters' | 'maxCursor' | 'error' | 'watermarkAfter'>): Promise<number>;
  /** A resumed run: running again, under the new process. */
  reopenRun(runId: number, pid: number, host: string): Promise<void>;
  addRunFiles(runId: number, files: readonly { ordinal: number; path: string; size: number }[]): Promise<void>;
  fileId(path: string): Promise<number>;
  addCounters(runId: number, delta: Partial<RunCounters>, maxCursor: CursorValue | null): Promise<void>;
  setCheckpoint(runId: number, checkpoint: CheckpointInput): Promise<void>;
  /** Marks a file unchanged or failed without moving its checkpoint. */
  setFileStatus(runId: number, ordinal: number, status: FileStatus, error: string | null): Promise<void>;
  markFileLoaded(pipeline: string, path: string, size: number, hash: string, runId: number): Promise<void>;
  insertLineage(runId: number, entries: readonly LineageEntry[]): Promise<void>;
  insertDeadLetters(runId: number, pipeline: string, letters: readonly DeadLetterInput[]): Promise<void>;
  /** Marks dead letters as replayed (loaded) by a run, so they are never replayed twice. */
  markReplayed(ids: readonly number[], runId: number): Promise<void>;
  finishRun(runId: number, status: RunStatus, watermarkAfter: string | null, error: string | null): Promise<void>;
  setWatermark(row: Omit<WatermarkRow, 'updatedAt'>): Promise<void>;
}
