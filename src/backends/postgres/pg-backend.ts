import type { RowBatch } from '../../core/row-batch.js';
import type { LedgerTx } from '../../ledger/ledger.js';
import type { Backend, BackendTx, ColumnSpec } from '../backend.js';
import { parsePgUrl, type PgOptions } from './connection.js';
import { isTransient } from './errors.js';
import { PgLedger } from './pg-ledger.js';
import { PgLedgerTx } from './pg-ledger-tx.js';
import { PgQueries } from './pg-queries.js';
import { PgTarget } from './pg-target.js';
import { PgSession } from './session.js';
import { streamTable } from './stream-rows.js';
import { TxRunner, backoff } from './transaction.js';

export type { PgOptions } from './connection.js';

const DEFAULT_RETRIES = 5;

/** Every LedgerTx method, so each is journaled (a method added to the interface must be listed). */
const LEDGER_TX_METHODS: Record<keyof LedgerTx, true> = {
  createRun: true,
  reopenRun: true,
  addRunFiles: true,
  fileId: true,
  addCounters: true,
  setCheckpoint: true,
  setFileStatus: true,
  markFileLoaded: true,
  insertLineage: true,
  discardLoads: true,
  insertDeadLetters: true,
  waitingRepeats: true,
  updateLetterReasons: true,
  hasWaitingLetters: true,
  supersedeLetters: true,
  markReplayed: true,
  finishRun: true,
  setWatermark: true,
  deleteWatermark: true,
  markReread: true,
  lockRun: true,
};

type Op = <R>(work: () => Promise<R>) => Promise<R>;

/** Arguments are kept for a replay: copy arrays and plain objects the caller may change later. */
function snapshot(value: unknown): unknown {
  if (Array.isArray(value)) return [...(value as unknown[])];
  if (typeof value === 'object' && value !== null && [Object.prototype, null].includes(Object.getPrototypeOf(value) as object | null)) return { ...value };
  return value;
}

function journaledLedger(impl: PgLedgerTx, op: Op): LedgerTx {
  const wrapped: Record<string, unknown> = {};
  for (const name of Object.keys(LEDGER_TX_METHODS) as (keyof LedgerTx)[]) {
    const method = impl[name] as unknown as (...args: unknown[]) => Promise<unknown>;
    wrapped[name] = (...args: unknown[]) => {
      const copy = args.map(snapshot);
      return op(() => method.apply(impl, copy));
    };
  }
  return wrapped as unknown as LedgerTx;
}

function retriesFromEnv(): number {
  const value = Number(process.env.SLUICE_PG_RETRIES);
  return Number.isInteger(value) && value >= 0 ? value : DEFAULT_RETRIES;
}

/**
 * PostgreSQL behind the async Backend interface: one session (a run is sequential), READ
 * COMMITTED transactions with savepoints for nesting, transient errors retried by replaying the
 * transaction's journal (transaction.ts). Durability: synchronous_commit=on (connection.ts).
 */
export class PostgresBackend implements Backend {
  readonly kind = 'postgres' as const;
  /**
   * About nine round trips per slice: a 100k-row load in batches of 10,000 took 2.5-2.8 s in
   * slices of 1,000, 1.9-2.3 s in slices of 2,500 and 1.8-2.0 s unsliced (peak RSS 148-158,
   * 157-171 and 196-203 MB).
   */
  readonly sliceSize = 2500;
  readonly typedColumns = true;
  readonly ledger: PgLedger;
  readonly queries: PgQueries;
  private readonly target: PgTarget;
  private readonly ledgerTx: PgLedgerTx;
  private readonly runner: TxRunner;
  private readonly tx: BackendTx;

  private constructor(
    private readonly session: PgSession,
    private readonly retries: number,
    /** The ledger is created inside each transaction, not at open (PgOptions.dryRun). */
    private readonly ledgerPerTransaction: boolean,
  ) {
    this.target = new PgTarget(session);
    this.ledgerTx = new PgLedgerTx(session);
    this.runner = new TxRunner(session, retries, () => this.forget());
    this.ledger = new PgLedger(session, (work) => this.standalone(work));
    this.queries = new PgQueries(session, (work) => this.standalone(work), this.target);
    this.tx = this.makeTx();
  }

  /** `url` is the --db URL; `location` the same without its password, for messages. */
  static async open(url: string, location: string, options: PgOptions = {}): Promise<PostgresBackend> {
    const target = parsePgUrl(url, location, options.schema);
    const dryRun = options.dryRun ?? false;
    const session = await PgSession.open(target, { mustExist: options.mustExist ?? false, readonly: options.readonly ?? false, dryRun });
    return new PostgresBackend(session, options.retries ?? retriesFromEnv(), dryRun);
  }

  get location(): string {
    return this.session.location;
  }

  get schema(): string {
    return this.session.target.schema;
  }

  /** The server process of this backend's session (tests terminate it). */
  get serverPid(): number {
    return this.session.backendPid;
  }

  private forget(): void {
    this.target.forget();
    this.ledgerTx.forget();
  }

  async transaction<T>(work: (tx: BackendTx) => Promise<T>): Promise<T> {
    if (!this.ledgerPerTransaction || this.runner.active) return this.runner.run(() => work(this.tx));
    return this.runner.run(async () => {
      // Journaled like any operation: a transaction replayed after a reconnect creates it again.
      await this.runner.op(() => this.session.createLedger());
      return work(this.tx);
    });
  }

  private makeTx(): BackendTx {
    const op: Op = (work) => this.runner.op(work);
    const target = this.target;
    return {
      ensureTarget: (spec) => op(() => target.ensureTarget({ ...spec, columns: [...spec.columns] })),
      lookupExisting: (table, key, keys) => {
        const copy = [...keys];
        return op(() => target.lookupExisting(table, key, copy));
      },
      lookupHashes: (table, hashes, runId) => {
        const copy = [...hashes];
        return op(() => target.lookupHashes(table, copy, runId));
      },
      writeRows: (table, spec, runId, mode, rows) => {
        const copy = [...rows];
        const frozen = { ...spec, columns: [...spec.columns] };
        return op(() => target.writeRows(table, frozen, runId, mode, copy));
      },
      swapTable: (shadow, table) => op(() => target.swapTable(shadow, table)),
      dropTable: (table) => op(() => target.dropTable(table)),
      ledger: journaledLedger(this.ledgerTx, op),
    };
  }

  /**
   * A statement outside any transaction, retried after a transient error (reads and the lock
   * calls are safe to repeat). Inside a transaction it cannot be journaled, so it makes that
   * transaction non-retryable instead.
   */
  private async standalone<T>(work: () => Promise<T>): Promise<T> {
    if (this.runner.active) {
      this.runner.noteUntracked();
      return work();
    }
    for (let attempt = 0; ; attempt += 1) {
      try {
        if (this.session.isLost) await this.session.reconnect();
        return await work();
      } catch (error) {
        if (!isTransient(error) || attempt >= this.retries) throw error;
        await new Promise((resolve) => setTimeout(resolve, backoff(attempt)));
      }
    }
  }

  async tableExists(table: string): Promise<boolean> {
    return this.standalone(() => this.target.tableExists(table));
  }

  async tableColumns(table: string): Promise<ColumnSpec[]> {
    return this.standalone(() => this.target.columns(table));
  }

  async countRows(table: string): Promise<number> {
    return this.standalone(() => this.target.countRows(table));
  }

  async keyColumns(table: string): Promise<string[]> {
    return this.standalone(() => this.target.keyColumns(table));
  }

  async duplicateValue(table: string, column: string): Promise<unknown> {
    return this.standalone(() => this.target.duplicateValue(table, column));
  }

  async *streamRowBatches(table: string, options: { withMeta?: boolean } = {}): AsyncIterable<RowBatch> {
    const info = await this.standalone(() => this.target.info(table));
    if (info === null) return;
    const inTransaction = this.runner.active;
    if (inTransaction) this.runner.noteUntracked();
    yield* streamTable(this.session, table, info, options.withMeta ?? false, inTransaction);
  }

  /** The server syncs each commit (its own `synchronous_commit`): nothing to change here. */
  async bulkLoad<T>(work: () => Promise<T>): Promise<T> {
    return work();
  }

  async close(): Promise<void> {
    // Ending the session releases its advisory locks on the server.
    await this.session.close();
  }
}
