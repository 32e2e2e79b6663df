import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../backends/backend.js';
import { openBackend } from '../backends/open-backend.js';
import type { RunSettings } from '../core/settings.js';
import type { RunFileRow, RunRow } from '../ledger/ledger.js';
import { FileWorker } from './file-worker.js';
import type { LoadObserver } from './load-file.js';
import { joinPipelineLock, lockedError, sharePipelineLock, tryPipelineLock, type SharedLock } from './lock.js';
import { prepareRun, type PreparedRun } from './prepare.js';
import { exportAfterRun, markResumable, RunInterrupted, runIo, type RunIo, type RunObserver, type RunProgress } from './run-io.js';
import { joinRun, markInterrupted, notReplacedNote, startOrResume, summarize, type RunStart } from './run-state.js';
import type { FileReport, RunSummary } from './summary.js';
import type { WorkerMessage, WorkerStart } from './worker-process.js';

/** How long a new participant waits for a run being set up elsewhere before it is refused. */
const JOIN_WAIT_MS = 5_000;
/** How often a participant with nothing left to claim looks at the run again. */
const POLL_MS = 500;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const FINISHED = new Set<RunRow['status']>(['succeeded', 'failed']);

/**
 * `sluice run --workers N`: this process takes part in the pipeline's run (creating or resuming
 * it, or joining it when the same command already runs elsewhere against the same database),
 * starts N worker processes that claim its files one at a time, and waits for them. Then it
 * finishes what they left (the files of a worker that died) and waits until the run is complete,
 * taking over the files of workers elsewhere that die meanwhile; the last worker to find every
 * file done completes the run. The summary is the run's, whichever process completed it.
 */
export async function runWorkers(settings: RunSettings, observer: RunObserver): Promise<RunSummary> {
  const io = runIo(observer);
  const prepared = await prepareRun(settings, io.warn);
  const backend = await openBackend(settings.db);
  try {
    const { start, lock } = await enterRun(backend, settings, prepared, io);
    try {
      return await coordinate(backend, settings, prepared, start, lock, io);
    } catch (error) {
      throw await markResumable(backend, start.run.id, error);
    } finally {
      await lock.leave();
    }
  } finally {
    await backend.close();
  }
}

/**
 * The pipeline's lock, alone: the run is created or resumed, then the lock is shared with its
 * workers. Held by another process: join its run if that is a parallel run of the same command
 * (PostgreSQL: the same command on another machine); wait a moment in case it is being set up.
 */
async function enterRun(backend: Backend, settings: RunSettings, prepared: PreparedRun, io: RunIo): Promise<{ start: RunStart; lock: SharedLock }> {
  const deadline = Date.now() + JOIN_WAIT_MS;
  for (;;) {
    const holder = await tryPipelineLock(backend, settings.pipeline);
    if (holder === null) {
      try {
        const start = await startOrResume(backend, settings, prepared, io.warn);
        return { start, lock: await sharePipelineLock(backend, settings.pipeline, start.run.id) };
      } catch (error) {
        await backend.ledger.releaseLock(settings.pipeline, process.pid);
        throw error;
      }
    }
    const joined = settings.restart ? null : await joinUnfinished(backend, settings, prepared, io);
    if (joined !== null) return joined;
    if (Date.now() >= deadline) throw lockedError(settings.pipeline, holder);
    await sleep(250);
  }
}

async function joinUnfinished(backend: Backend, settings: RunSettings, prepared: PreparedRun, io: RunIo): Promise<{ start: RunStart; lock: SharedLock } | null> {
  const run = await backend.ledger.findUnfinishedRun(settings.pipeline);
  if (run === null) return null;
  const lock = await joinPipelineLock(backend, settings.pipeline, run.id);
  if (!('leave' in lock)) return null;
  try {
    // Under the shared lock no run is being created: is that run still the one to load?
    const current = await backend.ledger.findUnfinishedRun(settings.pipeline);
    if (current?.id === run.id) {
      io.warn(`joined run ${run.id} of pipeline ${settings.pipeline}, which other workers are loading`);
      return { start: await joinRun(backend, settings, prepared, current, io.warn), lock };
    }
  } catch (error) {
    await lock.leave();
    throw error;
  }
  await lock.leave();
  return null;
}

async function coordinate(backend: Backend, settings: RunSettings, prepared: PreparedRun, start: RunStart, lock: SharedLock, io: RunIo): Promise<RunSummary> {
  const runId = start.run.id;
  const files = await backend.ledger.runFiles(runId);
  const reports = new Map<string, FileReport>();
  const tally = new Tally(files, io.observer);
  await runChildren(settings, runId, settings.workers ?? 1, io, {
    message: (index, message) => {
      if (message.type === 'progress') tally.update(index, message);
      else if (message.type === 'file') reports.set(message.report.path, message.report);
      else if (message.type === 'warn') io.warn(message.message);
      else if (message.type === 'error') io.warn(`worker ${index + 1} stopped: ${message.message}`);
    },
  });
  // What the workers left: files of a worker that died, and (elsewhere) workers still loading.
  let worker: FileWorker | null = null;
  for (;;) {
    const run = (await backend.ledger.getRun(runId)) as RunRow;
    if (FINISHED.has(run.status)) break;
    if (io.observer.stopRequested()) throw await interrupted(backend, settings, start, reports, io);
    worker ??= await FileWorker.open(backend, settings, prepared, start);
    const loaded = await worker.drain(lock, {
      observer: tally.loadObserver(io),
      fileDone: (report) => {
        reports.set(report.path, report);
        tally.fileDone();
      },
    });
    if (loaded === 'stopped') throw await interrupted(backend, settings, start, reports, io);
    if (await worker.finishIfDone()) break;
    if (loaded === 0) await sleep(POLL_MS);
  }
  const summary = await runSummary(backend, settings, start, reports, io);
  await exportAfterRun(backend, settings, summary);
  return summary;
}

interface ChildEvents {
  message(index: number, message: WorkerMessage): void;
}

/**
 * Starts the worker processes and waits for all of them to end. They run in a process group of
 * their own, so a Ctrl-C reaches them once, from here (a stop at the next checkpoint); should
 * this process end abruptly, they are killed with it.
 */
async function runChildren(settings: RunSettings, runId: number, count: number, io: RunIo, events: ChildEvents): Promise<void> {
  const entry = fileURLToPath(new URL('./worker-process.js', import.meta.url));
  const children: ChildProcess[] = [];
  const killAll = (): void => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.on('exit', killAll);
  const ended = Array.from({ length: count }, (_, index) => {
    const child = fork(entry, [], { detached: true, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    children.push(child);
    child.on('message', (message: WorkerMessage) => events.message(index, message));
    const start: WorkerStart = { settings, runId, crashAfter: index === 0 ? settings.simulateCrash : null };
    child.send(start);
    return new Promise<void>((resolve) => {
      child.on('error', (error) => io.warn(`worker ${index + 1}: ${error.message}`));
      child.on('exit', (_code, signal) => {
        if (signal !== null && signal !== 'SIGTERM') io.warn(`worker ${index + 1} (pid ${child.pid}) was killed by ${signal}; its file is taken over from its last checkpoint`);
        resolve();
      });
    });
  });
  let forwarded = false;
  const watch = setInterval(() => {
    if (forwarded || !io.observer.stopRequested()) return;
    forwarded = true;
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  }, 100);
  try {
    await Promise.all(ended);
  } finally {
    clearInterval(watch);
    process.off('exit', killAll);
  }
}

/** Progress of all the workers of this process, summed, as one run's. */
class Tally {
  private readonly base: RunProgress;
  private readonly children = new Map<number, { records: number; bytesRead: number; filesDone: number }>();
  private readonly own = { records: 0, bytesRead: 0, filesDone: 0 };

  constructor(
    files: readonly RunFileRow[],
    private readonly runObserver: RunObserver,
  ) {
    const done = files.filter((f) => f.status === 'loaded' || f.status === 'unchanged' || f.status === 'failed');
    this.base = { filesDone: done.length, filesTotal: files.length, records: 0, bytesRead: done.reduce((n, f) => n + f.size, 0), bytesTotal: files.reduce((n, f) => n + f.size, 0) };
  }

  update(index: number, progress: { records: number; bytesRead: number; filesDone: number }): void {
    this.children.set(index, progress);
    this.show();
  }

  fileDone(): void {
    this.own.filesDone += 1;
  }

  /** The observer of this process's own loading. */
  loadObserver(io: RunIo): LoadObserver {
    return {
      onRecordRead: () => {
        this.own.records += 1;
        io.observer.recordRead();
      },
      onBytes: (count) => {
        this.own.bytesRead += count;
      },
      onCheckpoint: () => this.show(),
      stopRequested: () => io.observer.stopRequested(),
      warn: io.warn,
    };
  }

  private show(): void {
    const sum = { ...this.base };
    for (const part of [...this.children.values(), this.own]) {
      sum.records += part.records;
      sum.bytesRead += part.bytesRead;
      sum.filesDone += part.filesDone;
    }
    this.runObserver.progress(sum);
  }
}

/** The run's summary from the ledger; per-file detail from the workers of this process. */
async function runSummary(backend: Backend, settings: RunSettings, start: RunStart, reports: Map<string, FileReport>, io: RunIo): Promise<RunSummary> {
  const run = (await backend.ledger.getRun(start.run.id)) as RunRow;
  const files = await backend.ledger.runFiles(run.id);
  const fileReports = files.filter((f) => f.status !== 'pending').map((f) => reports.get(f.path) ?? fileReport(f));
  const failed = files.find((f) => f.status === 'failed');
  const tableKept = settings.strategy === 'replace' && failed !== undefined;
  if (tableKept) io.warn(notReplacedNote(settings.table, failed.path));
  return summarize(backend, settings, run, { start, reports: fileReports, warnings: io.warnings, started: io.started, tableKept });
}

function fileReport(file: RunFileRow): FileReport {
  const status = file.status === 'unchanged' || file.status === 'failed' || file.status === 'loaded' ? file.status : 'skipped';
  return { path: file.path, status, records: file.position, error: file.error, new_columns: [], missing_columns: [] };
}

async function interrupted(backend: Backend, settings: RunSettings, start: RunStart, reports: Map<string, FileReport>, io: RunIo): Promise<RunInterrupted> {
  const run = (await backend.ledger.getRun(start.run.id)) as RunRow;
  if (!FINISHED.has(run.status)) await markInterrupted(backend, run.id);
  return new RunInterrupted(await runSummary(backend, settings, start, reports, io));
}
