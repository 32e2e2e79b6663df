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

/** A lock is stale when its process is gone (same host) or silent for long (other host). */
export function isStaleLock(holder: LockHolder): boolean {
  if (holder.host === hostname()) return holder.pid !== process.pid && !isAlive(holder.pid);
  return Date.now() - Date.parse(holder.heartbeatAt) > REMOTE_STALE_MS;
}

/**
 * One writer per pipeline: takes the pipeline's lock or fails with the holder's name.
 * A lock left by a dead process is taken over.
 */
export async function acquirePipelineLock(backend: Backend, pipeline: string): Promise<() => Promise<void>> {
  const now = new Date().toISOString();
  const me: LockHolder = { pipeline, runId: null, pid: process.pid, host: hostname(), since: now, heartbeatAt: now };
  const holder = await backend.ledger.acquireLock(me, isStaleLock);
  if (holder !== null) {
    const run = holder.runId === null ? '' : ` (run ${holder.runId})`;
    throw new SluiceError('BACKEND_LOCKED', `pipeline ${pipeline} is being loaded by another process: pid ${holder.pid} on ${holder.host}, since ${holder.since}${run}`, {
      hint: `wait for it to finish (sluice status --pipeline ${pipeline} shows its progress), or use another --pipeline`,
    });
  }
  return () => backend.ledger.releaseLock(pipeline, process.pid);
}
