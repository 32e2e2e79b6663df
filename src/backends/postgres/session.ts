import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { SluiceError } from '../../core/errors.js';
import { connect, createLedger, ensureLedger, hasXactStatus, type ClientWithError, type PgTarget } from './connection.js';
import { isConnectionLost, sqlstateOf, translatePgError } from './errors.js';
import { testHook } from './test-hooks.js';

type LockMode = 'exclusive' | 'shared';

/** The server functions of each advisory lock mode (shared: the pipeline lock of a parallel run's workers). */
const LOCK_FUNCTIONS: Record<LockMode, { take: string; release: string }> = {
  exclusive: { take: 'pg_try_advisory_lock', release: 'pg_advisory_unlock' },
  shared: { take: 'pg_try_advisory_lock_shared', release: 'pg_advisory_unlock_shared' },
};

/**
 * The one connection of a backend (a run is sequential, so one session is enough), able to
 * come back after the server dropped it. Session-level state that must survive a reconnect,
 * the pipeline's advisory locks, is re-taken; if another process took a lock in the meantime
 * the session refuses to go on.
 */
export class PgSession {
  private lost = false;
  /** The advisory locks this session holds, by mode. */
  private readonly held: Record<LockMode, Set<bigint>> = { exclusive: new Set(), shared: new Set() };
  /** Whether the server can say if a transaction committed (pg_xact_status, PostgreSQL 13+). */
  xactStatus = false;
  /** The server process serving this session (pg_terminate_backend in tests aims here). */
  backendPid = 0;
  /** Counts reconnects: session-local objects (TEMP tables) of an older generation are gone. */
  generation = 0;

  private constructor(
    private client: pg.Client,
    readonly target: PgTarget,
    private readonly readonly: boolean,
  ) {}

  static async open(target: PgTarget, options: { mustExist: boolean; readonly: boolean; dryRun: boolean }): Promise<PgSession> {
    const client = await connect(target, options.readonly);
    const session = new PgSession(client, target, options.readonly);
    try {
      await ensureLedger(client, target, options);
      await session.describe();
    } catch (error) {
      await session.close();
      throw translatePgError(error, target.location);
    }
    return session;
  }

  get location(): string {
    return this.target.location;
  }

  /** The schema and the ledger, created inside the open transaction (a dry run's, rolled back). */
  async createLedger(): Promise<void> {
    if (this.lost) throw this.lostError('creating the ledger');
    try {
      await createLedger(this.client, this.target);
    } catch (error) {
      throw this.failed(error, 'creating the ledger');
    }
  }

  get isLost(): boolean {
    return this.lost;
  }

  private async describe(): Promise<void> {
    this.xactStatus = await hasXactStatus(this.client);
    const pid = await this.client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    this.backendPid = Number(pid.rows[0]?.pid ?? 0);
  }

  /** One statement; errors come back as one-line SluiceErrors that keep the pg error as cause. */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[], doing?: string): Promise<pg.QueryResult<R>> {
    if (this.lost) throw this.lostError(doing);
    try {
      return await this.client.query<R>(sql, params);
    } catch (error) {
      throw this.failed(error, doing);
    }
  }

  /** Array-mode rows (streaming reads): no per-row objects keyed by column name. */
  async queryRows(sql: string, params?: unknown[]): Promise<unknown[][]> {
    if (this.lost) throw this.lostError();
    try {
      const result = await this.client.query<unknown[]>({ text: sql, values: params, rowMode: 'array' });
      return result.rows;
    } catch (error) {
      throw this.failed(error);
    }
  }

  /** COPY ... FROM STDIN fed with text-format chunks; resolves once the server has them all. */
  async copyIn(sql: string, chunks: Iterable<string>, doing: string): Promise<void> {
    if (this.lost) throw this.lostError(doing);
    try {
      await pipeline(Readable.from(this.feed(chunks), { objectMode: false }), this.client.query(copyFrom(sql)));
    } catch (error) {
      throw this.failed(error, doing);
    }
  }

  /** The chunks, with the test hook that ends the session once the first one is on its way. */
  private async *feed(chunks: Iterable<string>): AsyncGenerator<string> {
    let first = true;
    for (const chunk of chunks) {
      yield chunk;
      if (first) await testHook('copy', this);
      first = false;
    }
  }

  private failed(error: unknown, doing?: string): SluiceError {
    if (!isConnectionLost(error)) return translatePgError(error, this.location, doing);
    this.lost = true;
    // The error the dropped socket raised earlier names the reason; prefer it.
    const earlier = (this.client as ClientWithError).sluiceLastError;
    return translatePgError(sqlstateOf(error) === null && earlier !== undefined ? earlier : error, this.location, doing);
  }

  private lostError(doing?: string): SluiceError {
    return translatePgError(Object.assign(new Error('Connection terminated unexpectedly'), {}), this.location, doing);
  }

  /** Marks the session dead (a test hook, or a reply known to be lost). */
  markLost(): void {
    this.lost = true;
  }

  /** A new session in place of a dropped one, with the pipeline locks taken again. */
  async reconnect(): Promise<void> {
    this.destroy();
    this.client = await connect(this.target, this.readonly);
    this.lost = false;
    this.generation += 1;
    await this.describe();
    const held = (['exclusive', 'shared'] as const).flatMap((mode) => [...this.held[mode]].map((key) => ({ key, mode })));
    for (const { key, mode } of held) {
      if (!(await this.tryLock(key, mode))) {
        this.lost = true;
        throw new SluiceError('BACKEND_LOCKED', `lost the connection to ${this.location} and, with it, the pipeline lock: another process holds it now`, {
          hint: 'let that process finish; the work committed before the connection dropped stays committed',
        });
      }
    }
  }

  /** Session advisory lock: held until unlocked or until the session ends (even by a crash). */
  async lock(key: bigint, mode: LockMode = 'exclusive'): Promise<boolean> {
    if (this.held[mode].has(key)) return true;
    if (!(await this.tryLock(key, mode))) return false;
    this.held[mode].add(key);
    return true;
  }

  /** Shared mode: many sessions hold the lock together, none exclusively. */
  lockShared(key: bigint): Promise<boolean> {
    return this.lock(key, 'shared');
  }

  private async tryLock(key: bigint, mode: LockMode): Promise<boolean> {
    const result = await this.query<{ got: boolean }>(`SELECT ${LOCK_FUNCTIONS[mode].take}($1::bigint) AS got`, [key.toString()]);
    return result.rows[0]?.got === true;
  }

  async unlock(key: bigint, mode: LockMode = 'exclusive'): Promise<void> {
    if (!this.held[mode].delete(key) || this.lost) return;
    await this.query(`SELECT ${LOCK_FUNCTIONS[mode].release}($1::bigint)`, [key.toString()]).catch(() => {});
  }

  unlockShared(key: bigint): Promise<void> {
    return this.unlock(key, 'shared');
  }

  holds(key: bigint): boolean {
    return this.held.exclusive.has(key);
  }

  private destroy(): void {
    const client = this.client as pg.Client & { connection?: { stream?: { destroy(): void } } };
    client.connection?.stream?.destroy();
    client.end().catch(() => {});
  }

  async close(): Promise<void> {
    if (this.lost) {
      this.destroy();
      return;
    }
    await this.client.end().catch(() => {});
  }
}
