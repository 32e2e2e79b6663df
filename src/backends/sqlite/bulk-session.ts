import { BackgroundCheckpoint } from './background-checkpoint.js';
import type { Db } from './connection.js';

/** SQLite's default: fold the log in once it holds this many pages. */
const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;
/**
 * The log (pages of 4 KB) the loader lets grow before it folds it in itself, about 96 MB. The
 * background thread folds each commit in, but the log starts over only when a transaction begins
 * with all of it folded, and the loader begins the next one a few milliseconds after committing,
 * before the thread is through: so the log grows until the loader checkpoints, on its own thread,
 * with two fsyncs. On the 1M-row bench CSV (about 1,300 pages per commit of 10,000 records) that
 * was 17 times a run at 8,000 pages, 8 at 24,000; ten interleaved rounds came out faster in 8, by
 * 0.35 s on average (9.3 s).
 */
const BULK_AUTOCHECKPOINT_PAGES = 24_000;

/**
 * One load's durability on SQLite (see SqliteBackend.bulkLoad). Its first transaction commits
 * like any other, fsynced (synchronous = FULL). When a second one begins, the load has more than
 * one batch: from then on commits are not fsynced one by one (NORMAL) and a background thread
 * folds the log in. A load that commits once (a small file, a re-run with nothing new) never
 * starts the thread, which would cost it more than the one fsync: on the 2-core machine, a
 * 10-record run took 0.34-0.43 s without it and 0.40-0.55 s with it, and 10 MB more memory.
 */
export class BulkSession {
  private transactions = 0;
  private thread: BackgroundCheckpoint | null = null;

  constructor(private readonly db: Db) {
    // The fallback when the thread falls behind (a reader holds the log): the loader folds it in.
    db.pragma(`wal_autocheckpoint = ${BULK_AUTOCHECKPOINT_PAGES}`);
  }

  /** Called before each top-level BEGIN of the load. */
  beginning(): void {
    this.transactions += 1;
    if (this.transactions < 2 || this.thread !== null) return;
    this.thread = BackgroundCheckpoint.start(this.db.name);
    this.db.pragma('synchronous = NORMAL');
  }

  /** Stops the thread, if it started, and restores the connection's own settings. */
  async end(): Promise<void> {
    if (this.thread !== null) await this.thread.stop();
    this.db.pragma('synchronous = FULL');
    this.db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
  }
}
