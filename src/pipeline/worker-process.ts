/**
 * A worker process of `sluice run --workers N` (forked by pipeline/workers.ts, never run by
 * hand). It gets the run's settings and id over IPC, joins the run's shared lock, loads the
 * files it can claim, completes the run if it turns out to be the last, and reports progress,
 * warnings, finished files and its end over IPC.
 */
import type { RunSettings } from '../core/settings.js';
import type { RunRow } from '../ledger/ledger.js';
import type { Backend } from '../backends/backend.js';
import { openBackend } from '../backends/open-backend.js';
import { FileWorker } from './file-worker.js';
import { joinPipelineLock, lockedError, type SharedLock } from './lock.js';
import { prepareRules } from './prepare.js';
import { joinRun } from './run-state.js';
import type { FileReport } from './summary.js';

/** What the coordinator sends a worker to start it. */
export interface WorkerStart {
  settings: RunSettings;
  runId: number;
  /** --simulate-crash: die like kill -9 after this many records (worker 1 only). */
  crashAfter: number | null;
}

/** What a worker tells the coordinator. */
export type WorkerMessage =
  | { type: 'progress'; records: number; bytesRead: number; filesDone: number }
  | { type: 'file'; report: FileReport }
  | { type: 'warn'; message: string }
  | { type: 'error'; message: string }
  | { type: 'end'; outcome: 'done' | 'stopped' };

export const EXIT_STOPPED = 130;

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

/** SIGTERM/SIGINT: stop after the batch in flight (a second one: at once, the database rolls back). */
function stopSwitch(): () => boolean {
  let stop = false;
  const onSignal = (): void => {
    if (stop) process.exit(EXIT_STOPPED);
    stop = true;
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => stop;
}

async function work(start: WorkerStart): Promise<number> {
  const settings = Object.freeze(start.settings);
  const stopRequested = stopSwitch();
  const pending: Promise<void>[] = [];
  const post = (message: WorkerMessage): void => void pending.push(send(message));
  const progress = { records: 0, bytesRead: 0, filesDone: 0 };
  let read = 0;
  const warn = (message: string): void => post({ type: 'warn', message });
  const prepared = { ...(await prepareRules(settings, warn)), files: [], warn };
  const backend = await openBackend(settings.db);
  try {
    const lock = await join(backend, settings.pipeline, start.runId);
    if (lock === null) {
      post({ type: 'end', outcome: 'done' });
      return 0;
    }
    try {
      const run = (await backend.ledger.getRun(start.runId)) as RunRow;
      const worker = await FileWorker.open(backend, settings, prepared, await joinRun(backend, settings, prepared, run, warn));
      const outcome = await worker.drain(lock, {
        observer: {
          onRecordRead: () => {
            progress.records += 1;
            read += 1;
            // Like kill -9: no cleanup, no rollback beyond what the database does by itself.
            if (start.crashAfter !== null && read >= start.crashAfter) process.kill(process.pid, 'SIGKILL');
          },
          onBytes: (count) => {
            progress.bytesRead += count;
          },
          onCheckpoint: () => post({ type: 'progress', ...progress }),
          stopRequested,
          warn,
        },
        fileDone: (report) => {
          // Counted in the next progress message: the file's last checkpoint just sent one.
          progress.filesDone += 1;
          post({ type: 'file', report });
        },
      });
      if (outcome !== 'stopped') await worker.finishIfDone();
      post({ type: 'end', outcome: outcome === 'stopped' ? 'stopped' : 'done' });
      return outcome === 'stopped' ? EXIT_STOPPED : 0;
    } finally {
      await lock.leave();
    }
  } finally {
    await backend.close();
    await Promise.all(pending);
  }
}

/**
 * The coordinator shared the lock before starting this worker. Null: the run is complete
 * already (the other workers were quicker), nothing to do.
 */
async function join(backend: Backend, pipeline: string, runId: number): Promise<SharedLock | null> {
  const lock = await joinPipelineLock(backend, pipeline, runId);
  if ('leave' in lock) return lock;
  const run = await backend.ledger.getRun(runId);
  if (run?.status === 'succeeded' || run?.status === 'failed') return null;
  throw lockedError(pipeline, lock);
}

let finishing = false;

// The coordinator gone without ending its workers (kill -9) closes this channel. A worker left
// loading would race a resumed run for the same records (a resume without --workers does not
// know its claims), so it ends as abruptly: the database rolls back its batch in flight, and the
// resumed run reads on from the last checkpoint.
process.on('disconnect', () => {
  if (!finishing) process.kill(process.pid, 'SIGKILL');
});

process.once('message', (start: WorkerStart) => {
  work(start).then(
    (code) => finish(code),
    async (error: unknown) => {
      const text = error instanceof Error ? error.message : String(error);
      await send({ type: 'error', message: text });
      finish(1);
    },
  );
});

function finish(code: number): void {
  finishing = true;
  process.exitCode = code;
  if (process.connected) process.disconnect();
}
