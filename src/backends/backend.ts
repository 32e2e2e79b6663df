import { SluiceError } from '../core/errors.js';
import type { LineageStep } from '../core/record.js';
import type { RowBatch, SourceBatch } from '../core/row-batch.js';
import type { Ledger, LedgerTx } from '../ledger/ledger.js';
import type { LedgerQueries } from '../ledger/queries.js';

export type BackendKind = 'sqlite' | 'postgres';

/** SQL-level type of a target column; undeclared fields keep the value as given. */
export type ColumnType = 'any' | 'text' | 'real' | 'integer' | 'boolean';

export interface ColumnSpec {
  name: string;
  type: ColumnType;
}

/** How a target table is keyed and guarded. Decided by the strategy, fixed per table. */
export interface TargetSpec {
  table: string;
  columns: readonly ColumnSpec[];
  /** Column with a unique index, for the key strategies. */
  key: string | null;
  /** Type of `_sluice_cursor` when a cursor is configured, else null. */
  cursor: 'real' | 'text' | null;
  /** True when rows carry `_sluice_hash` (append with a cursor and no key: boundary dedup). */
  rowHash: boolean;
}

/** A row ready for the target, with its bookkeeping columns. */
export interface TargetRow {
  /**
   * The record's values in the order of the run's columns (TargetSpec.columns), which only ever
   * grow at the end: a row staged before a column was added is shorter, its missing values null.
   * Arrays, not field objects: a batch holds thousands of rows until it commits.
   */
  values: readonly unknown[];
  key: unknown;
  /** Sortable cursor value (number, or canonical timestamp text), when a cursor is set. */
  cursor: number | string | null;
  rowHash: string | null;
  /** Order of the record within the run: file ordinal * 2^32 + position. */
  seq: number;
  /** Where the record comes from, stored as `file:line` in `_sluice_source` (joined by the backend). */
  file: string;
  line: number;
}

export type WriteMode =
  /** Insert every row. */
  | 'insert'
  /** Insert when the key is absent, or when an earlier (run, seq) of the same run claims it. */
  | 'first-wins'
  /** Insert or replace when (run, seq) is not older than the stored one. */
  | 'last-wins'
  /** Insert or replace only when the cursor is strictly newer. */
  | 'newer-wins';

/** What the target holds now for a key, as merge needs it. */
export interface ExistingRow {
  /** The key as lookupExisting was given it, not as the table stores it (a NUMERIC column stores '1' as 1). */
  key: unknown;
  cursor: number | string | null;
  runId: number;
  seq: number;
}

export interface LineageEntry {
  fileId: number;
  line: number;
  key: string | null;
  step: LineageStep;
}

/**
 * The storage a pipeline runs against. Async because PostgreSQL needs it, even though the SQLite
 * implementation is synchronous underneath. Only `open-backend.ts` names a concrete backend.
 */
export interface Backend {
  readonly kind: BackendKind;
  /**
   * Records per slice of a batch: a batch commits in one transaction but is written a slice at a
   * time, so its records are short-lived. Each slice costs this backend a few statements: a few
   * on SQLite, round trips to the server on PostgreSQL, which therefore takes larger slices.
   */
  readonly sliceSize: number;
  /**
   * A column holds only values of its type (PostgreSQL): a text value for a BIGINT column fails
   * its batch. SQLite stores any value in any column.
   */
  readonly typedColumns: boolean;
  /** Where the data lives, for messages (a path or a URL without its password). */
  readonly location: string;
  readonly ledger: Ledger;
  /** Inspection and repair: `sluice runs|status|lineage|dead-letters|watermark`. */
  readonly queries: LedgerQueries;
  /** Runs `work` in one transaction: all of it commits, or none of it. */
  transaction<T>(work: (tx: BackendTx) => Promise<T>): Promise<T>;
  tableExists(table: string): Promise<boolean>;
  tableColumns(table: string): Promise<ColumnSpec[]>;
  countRows(table: string): Promise<number>;
  /**
   * Streams a table's rows in insertion order, in batches (one await per batch, not per row:
   * exports are bound by per-row overhead), from one consistent snapshot, in constant memory.
   */
  streamRowBatches(table: string, options?: { withMeta?: boolean }): AsyncIterable<RowBatch>;
  /**
   * The same rows, where the database can write them out as text faster than they can be read
   * value by value (the CSV export): TextBatches, and RowBatches for rows it cannot render as
   * JavaScript would. A backend without it streams row batches only.
   */
  streamTextBatches?(table: string, options?: TextStreamOptions): AsyncIterable<SourceBatch>;
  /**
   * Runs a long load: `work` commits batch after batch. Each commit stays atomic, and survives a
   * crash of the process at once; a backend may sync them to disk in the background rather than
   * one by one. Everything committed is synced before this returns, however `work` ends.
   */
  bulkLoad<T>(work: () => Promise<T>): Promise<T>;
  /** The columns sluice keeps the table unique by (its key index from a keyed load); [] if none. */
  keyColumns(table: string): Promise<string[]>;
  /** One value the column holds more than once (the first key index would fail on it), or undefined. */
  duplicateValue(table: string, column: string): Promise<unknown>;
  close(): Promise<void>;
}

export interface TextStreamOptions {
  withMeta?: boolean;
  /**
   * Columns an export requires non-blank: a batch with a row whose cell in one is blank comes as
   * values, so the export can name the row; the text batches list them as `nonBlank`.
   */
  require?: readonly string[];
}

/**
 * What writeRows throws when the table refuses a row (a constraint of the table, a value its
 * column cannot hold): the rows before `written` are in the table, the others are not, and the
 * transaction goes on. The caller isolates the refused rows (commit-batch.ts).
 */
export class RowsRefused extends SluiceError {
  constructor(
    message: string,
    readonly written: number,
    cause: unknown,
  ) {
    super('BACKEND_REFUSED', message, { cause });
  }
}

/** What may be done inside one transaction. */
export interface BackendTx {
  /** Creates the target table or adds the columns it lacks; returns the added column names. */
  ensureTarget(spec: TargetSpec): Promise<string[]>;
  lookupExisting(table: string, keyColumn: string, keys: readonly unknown[]): Promise<ExistingRow[]>;
  /** Which of these row hashes earlier runs left in the table (the watermark boundary, unkeyed). */
  lookupHashes(table: string, hashes: readonly string[], currentRunId: number): Promise<Set<string>>;
  /** Writes the rows in order; a row the table refuses stops it with RowsRefused. */
  writeRows(table: string, spec: TargetSpec, runId: number, mode: WriteMode, rows: readonly TargetRow[]): Promise<void>;
  /** Swaps `shadow` in as `table` (the replace strategy). */
  swapTable(shadow: string, table: string): Promise<void>;
  dropTable(table: string): Promise<void>;
  ledger: LedgerTx;
}
