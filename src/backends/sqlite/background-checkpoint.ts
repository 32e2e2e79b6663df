import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the thread folds the log into the database. */
const INTERVAL_MS = 50;

/**
 * The thread's program: its own connection, a PASSIVE checkpoint every INTERVAL_MS (it never
 * waits for or blocks the loader), errors ignored (a busy or full database: the loader's own
 * automatic checkpoint is the fallback). A checkpoint fsyncs the log before it copies it and
 * the database after. Evaluated as a string so the built package and the tests that run the
 * TypeScript source start the same program.
 */
const PROGRAM = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true, timeout: 0 });
db.pragma('synchronous = FULL');
db.pragma('cache_size = -64');
const fold = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {}
};
const timer = setInterval(fold, workerData.intervalMs);
parentPort.once('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

const driver = createRequire(import.meta.url).resolve('better-sqlite3');

/**
 * Folds the write-ahead log into the database on the second core while the loader writes on
 * the first. Measured on the 1M-row bench CSV (2-core machine, 3 interleaved rounds): 11.2 s
 * with every commit fsynced and checkpointed by the loader, 9.9 s with this thread doing it.
 */
export class BackgroundCheckpoint {
  private readonly exited: Promise<void>;

  private constructor(private readonly worker: Worker) {
    // A thread that fails (it cannot open the file, it runs out of memory) only stops folding.
    this.exited = new Promise((resolve) => {
      worker.once('exit', () => resolve());
      worker.once('error', () => resolve());
    });
  }

  static start(file: string): BackgroundCheckpoint {
    return new BackgroundCheckpoint(new Worker(PROGRAM, { eval: true, workerData: { file, driver, intervalMs: INTERVAL_MS } }));
  }

  /** Stops the thread and waits until its connection is closed. */
  async stop(): Promise<void> {
    this.worker.postMessage('stop');
    await this.exited;
  }
}
