import { hostname } from 'node:os';
import type { Backend } from '../backends/backend.js';
import { SluiceError } from '../core/errors.js';
import type { LockHolder } from '../ledger/ledger.js';

/** A holder on another host is presumed dead when its heartbeat is this old. */
const REMOTE_STALE_MS = 10 * 60_000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A lock (or a file claim) is stale when its process is gone (same host) or silent for long (other host). */
export function isStaleLock(holder: Pick<LockHolder, 'pid' | 'host' | 'heartbeatAt'>): boolean {
  if (holder.host === hostname()) return holder.pid !== process.pid && !isAlive(holder.pid);
  return Date.now() - Date.parse(holder.heartbeatAt) > REMOTE_STALE_MS;
}

/**
 * One writer per pipeline: takes the pipeline's lock or fails with the holder's name.
 * A lock left by a dead process is taken over.
 */
export async function acquirePipelineLock(backend: Backend, pipeline: string): Promise<() => Promise<void>> {
  const holder = await tryPipelineLock(backend, pipeline);
  if (holder !== null) throw lockedError(pipeline, holder);
  return () => backend.ledger.releaseLock(pipeline, process.pid);
}

/** This process as a lock holder (of run `runId`, when known). */
export function lockHolder<R extends number | null>(pipeline: string, runId: R): LockHolder & { runId: R } {
  const now = new Date().toISOString();
  return { pipeline, runId, pid: process.pid, host: hostname(), since: now, heartbeatAt: now };
}

/** Takes the pipeline's lock exclusively; returns the current holder when someone else has it. */
export function tryPipelineLock(backend: Backend, pipeline: string): Promise<LockHolder | null> {
  return backend.ledger.acquireLock(lockHolder(pipeline, null), isStaleLock);
}

export function lockedError(pipeline: string, holder: LockHolder): SluiceError {
  const run = holder.runId === null ? '' : ` (run ${holder.runId})`;
  return new SluiceError('BACKEND_LOCKED', `pipeline ${pipeline} is being loaded by another process: pid ${holder.pid} on ${holder.host}, since ${holder.since}${run}`, {
    hint: `wait for it to finish (sluice status --pipeline ${pipeline} shows its progress), or use another --pipeline`,
  });
}

/**
 * Parallel workers: the lock held exclusively while a run is created or resumed is then shared
 * with the run's workers; each worker joins it and leaves it. Another run of the pipeline (a
 * plain one, or a new parallel one) stays refused while any worker of this run holds it.
 */
export interface SharedLock {
  /** Leaves the lock; the last worker to leave releases it. */
  leave(): Promise<void>;
  /** Joins again (SQLite: takes the lock over for the run if its holder died). */
  rejoin(): Promise<void>;
}

export async function sharePipelineLock(backend: Backend, pipeline: string, runId: number): Promise<SharedLock> {
  const me = lockHolder(pipeline, runId);
  await backend.ledger.shareLock(me);
  return sharedLock(backend, me);
}

/** Joins the shared lock of run `runId`; returns the holder instead when the lock is not that run's. */
export async function joinPipelineLock(backend: Backend, pipeline: string, runId: number): Promise<SharedLock | LockHolder> {
  const me = lockHolder(pipeline, runId);
  const holder = await backend.ledger.joinLock(me, isStaleLock);
  return holder ?? sharedLock(backend, me);
}

function sharedLock(backend: Backend, me: LockHolder & { runId: number }): SharedLock {
  return {
    leave: () => backend.ledger.leaveLock(me, isStaleLock),
    rejoin: async () => {
      const holder = await backend.ledger.joinLock(me, isStaleLock);
      if (holder !== null) throw lockedError(me.pipeline, holder);
    },
  };
}
