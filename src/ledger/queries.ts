import type { Fields, LineageStep, ReasonCode } from '../core/record.js';
import type { DeadLetterRow } from './ledger.js';
import { LINEAGE_STEPS_SQL } from './schema.js';

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

/** What tells one SQL dialect from the other in the ledger's shared queries. */
export interface SqlDialect {
  /** The n-th (1-based) bound parameter: `?` or `$n`. */
  placeholder(n: number): string;
  /** Appended to ORDER BY text columns so both backends sort by bytes. */
  collate: string;
}

/**
 * The lineage of one key, with the dead letter behind each reject, oldest run first, then by
 * file and line, the stage step before the outcome. The letter is the newest one of that file
 * and line stored by this run or before it: a file read again does not store a letter that is
 * still waiting a second time (see LedgerTx.waitingRepeats).
 */
export function keyLineageQuery(key: string, scope: { pipeline?: string; runId?: number }, dialect: SqlDialect): { sql: string; params: unknown[] } {
  const params: unknown[] = [key];
  const where = [`l.key = ${dialect.placeholder(1)}`];
  if (scope.pipeline !== undefined) where.push(`r.pipeline = ${dialect.placeholder(params.push(scope.pipeline))}`);
  if (scope.runId !== undefined) where.push(`l.run_id = ${dialect.placeholder(params.push(scope.runId))}`);
  const sql = `SELECT l.run_id, r.pipeline, p.path, l.line, l.key, l.step, d.id AS dead_letter_id, d.reason, d.field, d.message
    FROM (${LINEAGE_STEPS_SQL}) l
    JOIN _sluice_runs r ON r.id = l.run_id
    JOIN _sluice_paths p ON p.id = l.file_id
    LEFT JOIN _sluice_dead_letters d ON l.step = 'reject' AND d.id = (SELECT max(x.id) FROM _sluice_dead_letters x
      WHERE x.pipeline = r.pipeline AND x.file_id = l.file_id AND x.line = l.line AND x.run_id <= l.run_id)
    WHERE ${where.join(' AND ')}
    ORDER BY l.run_id, p.path${dialect.collate}, l.line, CASE l.step WHEN 'stage' THEN 0 ELSE 1 END, l.step${dialect.collate}`;
  return { sql, params };
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
  /**
   * The target table's rows whose key column holds `key`. Lineage stores keys as text, the
   * table may hold them as numbers: both spellings match.
   */
  targetRowsByKey(table: string, keyColumn: string, key: string): Promise<Fields[]>;
}
