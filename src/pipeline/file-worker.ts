import { hostname } from 'node:os';
import type { Backend } from '../backends/backend.js';
import type { RunSettings } from '../core/settings.js';
import type { ClaimHolder, RunFileRow } from '../ledger/ledger.js';
import { loadFile, type LoadObserver } from './load-file.js';
import { isStaleLock, type SharedLock } from './lock.js';
import type { PreparedRun } from './prepare.js';
import { fileInput, readPlan, runContext, type ReadPlan, type RunContext } from './run-context.js';
import { completeRun, type RunStart } from './run-state.js';
import type { FileReport } from './summary.js';

/** Claims of a worker on another host are judged by age: keep them fresh well within that. */
const CLAIM_HEARTBEAT_MS = 10_000;

const DONE = new Set<RunFileRow['status']>(['loaded', 'unchanged', 'failed']);

export interface WorkerEvents {
  observer: LoadObserver;
  /** After each file this worker finished (loaded, unchanged or failed). */
  fileDone(report: FileReport): void;
}

/**
 * One process's share of a parallel run: it claims a file of the run through the ledger, loads
 * it in checkpointed batches exactly as a one-process run does (a file taken over from a dead
 * worker resumes from its checkpoint), gives it up, and claims the next, until no file is left
 * that no live worker owns. Whichever worker then finds every file done completes the run.
 */
export class FileWorker {
  private readonly me: ClaimHolder;

  private constructor(
    private readonly backend: Backend,
    private readonly settings: RunSettings,
    private readonly start: RunStart,
    private readonly context: RunContext,
  ) {
    const now = new Date().toISOString();
    this.me = { pid: process.pid, host: hostname(), since: now, heartbeatAt: now };
  }

  static async open(backend: Backend, settings: RunSettings, prepared: PreparedRun, start: RunStart): Promise<FileWorker> {
    return new FileWorker(backend, settings, start, await runContext(backend, settings, prepared, start));
  }

  get runId(): number {
    return this.start.run.id;
  }

  /** Loads files until none is left to claim. Returns how many it loaded, or 'stopped' (a signal). */
  async drain(lock: SharedLock, events: WorkerEvents): Promise<number | 'stopped'> {
    return this.backend.bulkLoad(() => this.claimAndLoad(lock, events));
  }

  private async claimAndLoad(lock: SharedLock, events: WorkerEvents): Promise<number | 'stopped'> {
    const { backend, settings } = this;
    let plan: ReadPlan | null = null;
    let count = 0;
    let lastBeat = Date.now();
    const observer: LoadObserver = {
      ...events.observer,
      onCheckpoint: () => {
        events.observer.onCheckpoint();
        if (Date.now() - lastBeat < CLAIM_HEARTBEAT_MS) return;
        lastBeat = Date.now();
        backend.ledger.heartbeatClaims(this.runId, this.me).catch(() => undefined);
      },
    };
    for (;;) {
      if (events.observer.stopRequested()) return 'stopped';
      if (!(await this.rejoin(lock))) return count;
      const file = await backend.ledger.claimFile(this.runId, this.me, { isStale: isStaleLock, stopAfterFailure: settings.onFileError === 'fail' });
      if (file === null) return count;
      // Read once the first file is claimed, so that this process sees the files done before it.
      plan ??= await readPlan(backend, settings, this.runId);
      let outcome: Awaited<ReturnType<typeof loadFile>>;
      try {
        outcome = await loadFile(this.context.commit, this.context.flow, fileInput(this.context, settings, plan, file), observer);
      } finally {
        // A claim that cannot be given up now ends with this process (its owner is then dead).
        await backend.ledger.releaseFile(this.runId, file.ordinal, this.me).catch(() => undefined);
      }
      const { stopped, ...report } = outcome;
      if (stopped) return 'stopped';
      count += 1;
      events.fileDone(report);
    }
  }

  /**
   * Joins the lock again before the next claim. A run another participant has completed in the
   * meantime is not an error: there is simply nothing left to claim (false).
   */
  private async rejoin(lock: SharedLock): Promise<boolean> {
    try {
      await lock.rejoin();
      return true;
    } catch (error) {
      const run = await this.backend.ledger.getRun(this.runId);
      if (run !== null && (run.status === 'succeeded' || run.status === 'failed')) return false;
      throw error;
    }
  }

  /**
   * Completes the run when every file is done (or, with --on-file-error fail, when a file failed
   * and no started file is left), under the run's lock, so exactly one worker does it. The
   * largest cursor is the run's, which every worker's batches raised. False: not yet.
   */
  async finishIfDone(): Promise<boolean> {
    const { settings, context } = this;
    return this.backend.transaction(async (tx) => {
      const locked = await tx.ledger.lockRun(this.runId);
      if (locked === null || locked.run.status === 'succeeded' || locked.run.status === 'failed') return false;
      const open = locked.files.filter((f) => !DONE.has(f.status));
      const failed = locked.files.find((f) => f.status === 'failed');
      const stopped = failed !== undefined && settings.onFileError === 'fail' && !open.some((f) => f.status === 'loading');
      if (open.length > 0 && !stopped) return false;
      context.commit.maxCursor = locked.run.maxCursor;
      const swap = locked.files.some((f) => f.status === 'loaded' || f.status === 'failed');
      await completeRun(tx, settings, context.commit, { start: this.start, failure: failed === undefined ? null : (failed.error ?? ''), swap });
      return true;
    });
  }
}
