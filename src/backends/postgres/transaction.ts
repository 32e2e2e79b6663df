import { SluiceError } from '../../core/errors.js';
import { isConnectionLost, isTransient } from './errors.js';
import type { PgSession } from './session.js';
import { testHook } from './test-hooks.js';

/** One operation of the open transaction, kept so it can be replayed on a new attempt. */
interface Entry {
  replay: () => Promise<unknown>;
  /** What it returned, to check that a replay sees the same database. */
  result: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * 0.1, 0.3, 0.9, 2.7, 8.1 s (with jitter, so retrying writers do not collide again in step):
 * the default five retries ride out a deadlock at once and a server restart of about 10 s.
 */
export function backoff(attempt: number): number {
  return 100 * 3 ** attempt * (0.75 + Math.random() / 2);
}

/** A stable text of an operation's result (BigInt, Set and Map included). */
function fingerprint(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (v instanceof Set) return [...(v as Set<unknown>)].map(String).sort();
    if (v instanceof Map) return [...(v as Map<unknown, unknown>)].sort();
    return v;
  });
  return text ?? 'undefined';
}

/**
 * Transactions on one session: BEGIN ... COMMIT at the top, SAVEPOINTs when nested.
 *
 * Retrying a batch. A transient error (serialization failure, deadlock, a dropped connection)
 * rolls back the whole transaction, and the pipeline's callback has already updated its own
 * state for the work done so far, so running the callback again would count twice. Instead
 * every operation of the transaction (each BackendTx/LedgerTx call) is journaled with its
 * result; a retry starts a new transaction (on a new connection if needed), replays the
 * journal, checks that each replayed read returns what it returned before (the pipeline lock
 * keeps other writers away, so it does unless something outside sluice changed the table),
 * and carries on with the failed operation (inside savepoints too: they are journaled). Retries
 * are bounded and only happen in a transaction whose every statement went through the journal:
 * a read outside it (a dry run wraps a whole run) makes the transaction non-replayable.
 *
 * COMMIT with an unknown outcome. If the connection drops while COMMIT is in flight, the batch
 * may or may not have committed. BEGIN records the transaction id, so after reconnecting the
 * server is asked (pg_xact_status): committed → done, nothing replayed; aborted → replayed and
 * committed again (a retry). If the server cannot tell, the run stops with BACKEND_CONNECTION
 * and the next `sluice run` resumes from the checkpoint that did or did not commit with the
 * batch, so the batch is neither lost nor repeated.
 */
export class TxRunner {
  private depth = 0;
  private journal: Entry[] = [];
  private replayable = true;
  private xid: string | null = null;

  constructor(
    private readonly session: PgSession,
    private readonly retries: number,
    /** Drops caches of state a rollback undid (known columns, path ids). */
    private readonly forget: () => void,
  ) {}

  get active(): boolean {
    return this.depth > 0;
  }

  /** A statement outside the journal ran inside the transaction: it cannot be replayed. */
  noteUntracked(): void {
    if (this.depth === 0) return;
    this.replayable = false;
    this.journal = [];
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.depth > 0) return this.nested(work);
    this.depth = 1;
    this.journal = [];
    this.replayable = true;
    try {
      await this.withRetry(() => this.begin(), () => this.reset());
      const result = await work();
      await this.withRetry(() => this.commitOnce(), () => this.resume());
      return result;
    } catch (error) {
      await this.rollbackQuietly();
      throw error;
    } finally {
      this.depth = 0;
      this.journal = [];
      this.xid = null;
    }
  }

  /** Runs one journaled operation of the open transaction, retrying it when that is safe. */
  async op<T>(invoke: () => Promise<T>): Promise<T> {
    if (this.depth === 0) return invoke();
    const result = await this.withRetry(invoke, () => this.resume());
    // A transaction that cannot be replayed keeps no journal (a dry run would hold every row).
    if (this.replayable) this.journal.push({ replay: invoke, result: fingerprint(result) });
    return result;
  }

  /**
   * A savepoint. SAVEPOINT and RELEASE go through the journal like any operation, so a retry
   * inside it (a dropped connection during a slice's COPY) replays the transaction up to and
   * into the savepoint; a rollback to it takes its part of the journal out again.
   */
  private async nested<T>(work: () => Promise<T>): Promise<T> {
    const name = `sluice_sp${this.depth}`;
    const mark = this.journal.length;
    const statement = (sql: string) => async (): Promise<null> => {
      await this.session.query(sql);
      return null;
    };
    await this.op(statement(`SAVEPOINT ${name}`));
    this.depth += 1;
    try {
      const result = await work();
      await this.op(statement(`RELEASE SAVEPOINT ${name}`));
      return result;
    } catch (error) {
      if (!this.session.isLost) await this.session.query(`ROLLBACK TO SAVEPOINT ${name}; RELEASE SAVEPOINT ${name}`).catch(() => {});
      this.journal.splice(mark);
      this.forget();
      throw error;
    } finally {
      this.depth -= 1;
    }
  }

  private async withRetry<T>(attempt: () => Promise<T>, restart: () => Promise<void>): Promise<T> {
    for (let n = 0; ; n += 1) {
      try {
        if (n > 0) await restart();
        return await attempt();
      } catch (error) {
        if (!isTransient(error) || !this.replayable || n >= this.retries) throw error;
        await sleep(backoff(n));
      }
    }
  }

  /** BEGIN, recording the transaction id so a lost COMMIT's outcome can be asked for later. */
  private async begin(): Promise<void> {
    if (!this.session.xactStatus) {
      await this.session.query('BEGIN');
      this.xid = null;
      return;
    }
    const result = (await this.session.query('BEGIN; SELECT pg_current_xact_id()::text AS xid')) as unknown as { rows: { xid: string }[] }[];
    this.xid = result[1]?.rows[0]?.xid ?? null;
  }

  /** Back to no transaction: a new connection if the old one dropped, else a rollback. */
  private async reset(): Promise<void> {
    this.forget();
    if (this.session.isLost) await this.session.reconnect();
    else await this.session.query('ROLLBACK').catch(() => {});
  }

  /** A fresh transaction holding everything the failed one had done. */
  private async resume(): Promise<void> {
    await this.reset();
    await this.begin();
    for (const entry of this.journal) {
      if (fingerprint(await entry.replay()) !== entry.result) {
        this.replayable = false;
        throw new SluiceError('BACKEND_QUERY', `cannot retry the batch on ${this.session.location}: the database changed while the connection was down`, {
          hint: 'run the same command again: it resumes from the last committed batch',
        });
      }
    }
  }

  private async commitOnce(): Promise<void> {
    await testHook('before-commit', this.session);
    try {
      await this.session.query('COMMIT', undefined, 'committing the batch');
      await testHook('after-commit', this.session);
    } catch (error) {
      if (!isConnectionLost(error)) throw error;
      const outcome = await this.outcome();
      if (outcome === 'committed') return;
      if (outcome === 'aborted') throw error;
      throw new SluiceError('BACKEND_CONNECTION', `lost the connection to ${this.session.location} during COMMIT and could not find out whether the batch committed`, {
        hint: 'run the same command again: the resumed run reads the checkpoint, so the batch is neither lost nor loaded twice',
        cause: error,
      });
    }
  }

  /** Asks a new session whether the transaction whose COMMIT reply was lost committed. */
  private async outcome(): Promise<'committed' | 'aborted' | 'unknown'> {
    if (this.xid === null) return 'unknown';
    for (let attempt = 0; attempt <= Math.max(1, this.retries); attempt += 1) {
      try {
        if (this.session.isLost) await this.session.reconnect();
        const result = await this.session.query<{ status: string | null }>('SELECT pg_xact_status($1::xid8) AS status', [this.xid]);
        const status = result.rows[0]?.status ?? null;
        if (status === 'committed' || status === 'aborted') return status;
        if (status === null) return 'unknown';
      } catch (error) {
        if (!isTransient(error)) throw error;
      }
      // 'in progress': the old server process is still finishing; give it a moment.
      await sleep(backoff(Math.min(attempt, 2)));
    }
    return 'unknown';
  }

  private async rollbackQuietly(): Promise<void> {
    this.forget();
    if (this.session.isLost) return;
    await this.session.query('ROLLBACK').catch(() => {});
  }
}
