import type { LineageEntry, TargetRow } from '../backends/backend.js';
import type { Rejection } from '../core/record.js';
import type { CursorValue, DeadLetterInput, LineSpan, RunCounters } from '../ledger/ledger.js';
import type { MergeCandidate } from '../stages/merge/index.js';

/**
 * A record that reached merge: at once its target row, what merge needs, and its lineage.
 * One object per record on the hot path, not three.
 */
export interface Staged extends TargetRow, MergeCandidate {
  cursor: number | string | null;
  fileId: number;
  line: number;
  lineageKey: string | null;
  /** The cursor as given, for the watermark. */
  cursorValue: CursorValue | null;
}

/**
 * Rejected records whose dead letter already waited (not stored again), those letters that took
 * a new reason, and the waiting letters of lines that hold another record now (superseded).
 */
export interface LettersWaiting {
  waiting: number;
  refreshed: number;
  superseded: number;
}

export interface ReplayedLetter {
  id: number;
  fileId: number;
  line: number;
}

export function noLettersWaiting(): LettersWaiting {
  return { waiting: 0, refreshed: 0, superseded: 0 };
}

export function addWaiting(total: LettersWaiting, more: LettersWaiting): void {
  total.waiting += more.waiting;
  total.refreshed += more.refreshed;
  total.superseded += more.superseded;
}

/**
 * The lines of its file a slice settles: every record starting on them has been read, by this
 * slice or an earlier one of the same read (`to` null: on to the file's end). With them, the
 * waiting letters that read found again so far (id → line), one map shared by its slices.
 */
export interface SliceLines {
  span: LineSpan;
  foundAgain: Map<number, number>;
  /** Whether other runs left letters waiting for the file: asked once per read (null: not yet). */
  read: { waiting: boolean | null };
}

/** Where the file stands once this batch commits. */
export interface BatchCheckpoint {
  ordinal: number;
  position: number;
  line: number;
  byteOffset: number | null;
}

/**
 * One batch: everything that commits together in one transaction (rows, lineage, dead letters,
 * counters, checkpoint). Built record by record, then handed to the committer.
 */
export class Batch {
  readonly staged: Staged[] = [];
  readonly deadLetters: DeadLetterInput[] = [];
  readonly lineage: LineageEntry[] = [];
  readonly counters: Partial<RunCounters> = {};
  inputRecords = 0;
  checkpoint: BatchCheckpoint | null = null;
  /** The lines of its file this slice settles; null for replayed dead letters. */
  lines: SliceLines | null = null;
  /** What became of the letters already waiting for its records (set when the batch is written). */
  lettersWaiting: LettersWaiting = noLettersWaiting();
  /** Dead letters this batch replays, by the line of their record: marked replayed when it commits. */
  readonly replayed: ReplayedLetter[] = [];

  /** A replay keeps a letter that fails again as it is, instead of storing a new one. */
  constructor(private readonly storeDeadLetters = true) {}

  get size(): number {
    return this.inputRecords;
  }

  count(name: keyof RunCounters, by = 1): void {
    this.counters[name] = (this.counters[name] ?? 0) + by;
  }

  reject(letter: Omit<DeadLetterInput, 'reason' | 'field' | 'message'>, rejection: Rejection, key: string | null): void {
    this.lineage.push({ fileId: letter.fileId, line: letter.line, key, step: 'reject' });
    this.count('rejected');
    if (!this.storeDeadLetters) return;
    this.deadLetters.push({ ...letter, reason: rejection.reason, field: rejection.field, message: rejection.message });
    this.count('dead_letters');
  }

  skipWatermark(fileId: number, line: number, key: string | null): void {
    this.lineage.push({ fileId, line, key, step: 'skip-watermark' });
    this.count('skipped_watermark');
  }

  drop(fileId: number, line: number): void {
    this.lineage.push({ fileId, line, key: null, step: 'drop' });
    this.count('dropped');
  }

  stage(staged: Staged): void {
    this.staged.push(staged);
    this.count('staged');
  }
}
