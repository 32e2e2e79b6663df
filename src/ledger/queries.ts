import type { Fields, LineageStep, ReasonCode } from '../core/record.js';
import type { DeadLetterRow } from './ledger.js';

/** One lineage entry of a key, with the dead letter that explains it when the step is `reject`. */
export interface KeyLineageRow {
  runId: number;
  pipeline: string;
  file: string;
  line: number;
  key: string;
  step: LineageStep;
  deadLetterId: number | null;
  reason: ReasonCode | null;
  field: string | null;
  message: string | null;
}

/** Which dead letters a list, count or purge is about; absent members do not filter. */
export interface DeadLetterFilter {
  pipeline?: string;
  runId?: number;
  reason?: string;
  /** Only those not replayed yet (`replayed_by` is null). */
  waitingOnly?: boolean;
  /** Created strictly before this instant (ISO-8601 UTC text, as `created_at` is stored). */
  before?: string;
}

/**
 * The ledger's inspection and repair queries (`sluice runs|status|lineage|dead-letters|watermark`).
 * Kept apart from `Ledger`, which the pipeline itself needs, so a backend can grow them without
 * touching the load path. Every write here stands alone: it is its own transaction.
 */
export interface LedgerQueries {
  /** True when the database holds a sluice ledger at all (a read-only open creates nothing). */
  hasLedger(): Promise<boolean>;
  /** Every pipeline with a run or a watermark, sorted by name. */
  pipelines(): Promise<string[]>;
  /** The lineage entries of one key, oldest run first, then by file and line. */
  lineageForKey(key: string, scope: { pipeline?: string; runId?: number }): Promise<KeyLineageRow[]>;
  /** Newest first. */
  listDeadLetters(filter: DeadLetterFilter, limit?: number): Promise<DeadLetterRow[]>;
  countDeadLetters(filter: DeadLetterFilter): Promise<number>;
  getDeadLetter(id: number): Promise<DeadLetterRow | null>;
  /** Deletes the matching dead letters; returns how many went. */
  deleteDeadLetters(filter: DeadLetterFilter): Promise<number>;
  /** Deletes the pipeline's watermark; false when it had none. */
  deleteWatermark(pipeline: string): Promise<boolean>;
  /**
   * The target table's rows whose key column holds `key`. Lineage stores keys as text, the
   * table may hold them as numbers: both spellings match.
   */
  targetRowsByKey(table: string, keyColumn: string, key: string): Promise<Fields[]>;
}
