import { SluiceError } from '../../core/errors.js';
import type { RowBatch, SourceBatch } from '../../core/row-batch.js';
import type { Backend, BackendTx, ColumnSpec, TextStreamOptions } from '../backend.js';
import { BulkSession } from './bulk-session.js';
import { createLedger, openSqlite, type Db, type OpenOptions } from './connection.js';
import { SqliteLedger, SqliteLedgerTx } from './sqlite-ledger.js';
import { SqliteQueries } from './sqlite-queries.js';
import { SqliteTarget } from './sqlite-target.js';
import { streamTextBatches } from './text-stream.js';

/** Rows per streamed batch: per-row awaits cost more than the export's encoding. */
const STREAM_BATCH_ROWS = 1000;

/**
 * SQLite behind the async Backend interface. better-sqlite3 is synchronous, which suits a
 * single writer: a transaction is BEGIN IMMEDIATE (take the write lock up front, so two writers
 * never deadlock upgrading a read lock) ... COMMIT; nested calls become savepoints.
 */
export class SqliteBackend implements Backend {
  readonly kind = 'sqlite' as const;
  /**
   * A batch of 10,000 records held whole until its commit outlived V8's young generation: peak
   * RSS 205-250 MB at 1M rows, 125-160 MB in slices of 1,000, at the same speed.
   */
  readonly sliceSize = 1000;
  readonly typedColumns = false;
  readonly ledger: SqliteLedger;
  readonly queries: SqliteQueries;
  private readonly target: SqliteTarget;
  private readonly ledgerTx: SqliteLedgerTx;
  private readonly tx: BackendTx;
  private depth = 0;
  /** The load in progress (bulkLoad), told of each transaction it begins. */
  private bulk: BulkSession | null = null;

  constructor(
    readonly location: string,
    private readonly db: Db,
    /** The ledger is created inside each transaction, not at open (OpenOptions.dryRun). */
    private readonly ledgerPerTransaction = false,
  ) {
    this.ledger = new SqliteLedger(db);
    this.queries = new SqliteQueries(db);
    this.target = new SqliteTarget(db);
    this.ledgerTx = new SqliteLedgerTx(db);
    this.tx = this.makeTx();
  }

  static open(file: string, options: OpenOptions = {}): SqliteBackend {
    return new SqliteBackend(file, openSqlite(file, options), options.dryRun ?? false);
  }

  /** The raw connection, for tests that check durability settings and file state. */
  get connection(): Db {
    return this.db;
  }

  async transaction<T>(work: (tx: BackendTx) => Promise<T>): Promise<T> {
    const depth = this.depth;
    this.begin(depth);
    this.depth += 1;
    try {
      if (depth === 0 && this.ledgerPerTransaction) createLedger(this.db);
      const result = await work(this.tx);
      this.db.exec(depth === 0 ? 'COMMIT' : `RELEASE sp${depth}`);
      return result;
    } catch (error) {
      if (this.db.inTransaction) this.db.exec(depth === 0 ? 'ROLLBACK' : `ROLLBACK TO sp${depth}; RELEASE sp${depth}`);
      this.target.forgetAll();
      this.ledgerTx.forgetAll();
      throw translate(error, this.location);
    } finally {
      this.depth = depth;
    }
  }

  private begin(depth: number): void {
    if (depth === 0) this.bulk?.beginning();
    try {
      this.db.exec(depth === 0 ? 'BEGIN IMMEDIATE' : `SAVEPOINT sp${depth}`);
    } catch (error) {
      throw translate(error, this.location);
    }
  }

  private makeTx(): BackendTx {
    const target = this.target;
    return {
      ensureTarget: async (spec) => target.ensureTarget(spec),
      lookupExisting: async (table, key, keys) => target.lookupExisting(table, key, keys),
      lookupHashes: async (table, hashes, runId) => target.lookupHashes(table, hashes, runId),
      writeRows: async (table, spec, runId, mode, rows) => target.writeRows(table, spec, runId, mode, rows),
      swapTable: async (shadow, table) => target.swapTable(shadow, table),
      dropTable: async (table) => target.dropTable(table),
      ledger: this.ledgerTx,
    };
  }

  async tableExists(table: string): Promise<boolean> {
    return this.target.tableExists(table);
  }

  async tableColumns(table: string): Promise<ColumnSpec[]> {
    return this.target.columns(table);
  }

  async countRows(table: string): Promise<number> {
    return this.target.countRows(table);
  }

  async keyColumns(table: string): Promise<string[]> {
    return this.target.keyColumns(table);
  }

  async duplicateValue(table: string, column: string): Promise<unknown> {
    return this.target.duplicateValue(table, column);
  }

  async *streamRowBatches(table: string, options: { withMeta?: boolean } = {}): AsyncIterable<RowBatch> {
    yield* this.target.iterate(table, options.withMeta ?? false, STREAM_BATCH_ROWS);
  }

  /**
   * The rows as SQLite renders them on a second thread (text-stream.ts). As values: a database in
   * memory (no file a second connection could read), a table without a plain rowid to page by.
   */
  async *streamTextBatches(table: string, options: TextStreamOptions = {}): AsyncIterable<SourceBatch> {
    const columns = this.target.exportColumns(table, options.withMeta ?? false);
    if (this.db.memory || columns.length === 0 || !this.target.hasPlainRowid(table, columns)) {
      yield* this.streamRowBatches(table, options);
      return;
    }
    const names = new Set(columns.map((c) => c.name));
    yield* streamTextBatches(this.db.name, table, columns, (options.require ?? []).filter((name) => names.has(name)));
  }

  /**
   * During a load, from its second transaction on (BulkSession), commits are not fsynced one by
   * one (synchronous = NORMAL) and a background thread does the checkpoints, which fsync the
   * log, then the database. A commit is atomic either way and survives a crash of sluice at
   * once; a crash of the machine may roll back the last few, data and checkpoints together, so
   * the next run reads them again (exactly once still holds). The end restores FULL and folds
   * the log in, so what the run reports when it completes is on disk. A dry run (one
   * transaction) and :memory: are left as they are.
   */
  async bulkLoad<T>(work: () => Promise<T>): Promise<T> {
    if (this.db.memory || this.db.inTransaction) return work();
    const bulk = new BulkSession(this.db);
    this.bulk = bulk;
    try {
      return await work();
    } finally {
      this.bulk = null;
      await bulk.end();
      this.syncLog();
    }
  }

  /** A checkpoint fsyncs the log first: every commit so far is then on disk. */
  private syncLog(): void {
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // A full disk: the next commit (FULL) syncs the log, or the next open replays it.
    }
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    // Fold the write-ahead log back into the database so no -wal file grows between runs. Best
    // effort: on a full disk it fails, and the log (complete and consistent) simply stays.
    if (!this.db.readonly && this.db.name !== ':memory:') {
      try {
        this.db.pragma('wal_checkpoint(TRUNCATE)');
      } catch {
        // the next open replays the log
      }
    }
    this.db.close();
  }
}

/** SQLite's own error codes in plain words: never a raw SQLITE_BUSY or SQLITE_FULL. */
function translate(error: unknown, location: string): unknown {
  const code = (error as { code?: string } | undefined)?.code ?? '';
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new SluiceError('BACKEND_IO', `database ${location} is busy: another process kept it locked for more than 30 s`, {
      hint: 'retry when the other sluice command has finished',
      cause: error,
    });
  }
  if (code === 'SQLITE_FULL') {
    return new SluiceError('BACKEND_FULL', `database ${location}: no space left on device; the batch in flight was rolled back`, {
      hint: 'free disk space, then run the same command again: it resumes from the last checkpoint',
      cause: error,
    });
  }
  if (code === 'SQLITE_IOERR' || code.startsWith('SQLITE_IOERR') || code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN') {
    return new SluiceError('BACKEND_IO', `database ${location}: ${(error as Error).message}`, { cause: error });
  }
  return error;
}
