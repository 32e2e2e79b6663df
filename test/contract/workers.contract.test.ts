import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { expect, it } from 'vitest';
import { openBackend, type Backend } from '../../src/index.js';
import type { ClaimHolder, ClaimOptions, LockHolder } from '../../src/ledger/ledger.js';
import { isStaleLock } from '../../src/pipeline/lock.js';
import { forEachBackend, type TestDb } from './backends.js';

/**
 * The ledger's side of parallel workers, the same on both backends: files claimed one worker at
 * a time, a dead worker's claim taken over from its checkpoint, the pipeline lock shared by the
 * workers of one run only, the run's largest cursor kept whatever the commit order. Each
 * "worker" is a backend of its own (PostgreSQL: a session of its own, as a process would have).
 */
const now = new Date().toISOString();
const live: ClaimHolder = { pid: process.pid, host: hostname(), since: now, heartbeatAt: now };
const claims: ClaimOptions = { isStale: isStaleLock, stopAfterFailure: false };

/** A pid that certainly belongs to no running process: its process has exited. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

/** Several connections to one database, as separate workers would hold. */
async function backends(t: TestDb, count: 3): Promise<[Backend, Backend, Backend]>;
async function backends(t: TestDb, count: 2): Promise<[Backend, Backend]>;
async function backends(t: TestDb, count: 1): Promise<[Backend]>;
async function backends(t: TestDb, count: number): Promise<Backend[]> {
  return Promise.all(Array.from({ length: count }, () => openBackend(t.db)));
}

async function closeAll(list: readonly Backend[]): Promise<void> {
  for (const backend of list) await backend.close();
}

async function newRun(backend: Backend, files: number, pipeline = 'default'): Promise<number> {
  return backend.transaction(async (tx) => {
    const id = await tx.ledger.createRun({ pipeline, status: 'running', startedAt: now, pid: process.pid, host: hostname(), settings: '{}', watermarkBefore: null });
    await tx.ledger.addRunFiles(id, Array.from({ length: files }, (_, ordinal) => ({ ordinal, path: `/drop/${pipeline}/f${ordinal}.csv`, size: 10 })));
    return id;
  });
}

async function setFile(backend: Backend, runId: number, ordinal: number, status: 'loading' | 'loaded' | 'failed', position = 0): Promise<void> {
  await backend.transaction(async (tx) => {
    if (status === 'failed') await tx.ledger.setFileStatus(runId, ordinal, 'failed', 'broken');
    else await tx.ledger.setCheckpoint(runId, { ordinal, position, line: position + 1, byteOffset: position * 10, status });
  });
}

forEachBackend('contract: parallel workers', (db) => {
  it('each file goes to one worker at a time, in order; a file given up unfinished is claimed again', async () => {
    const [a, b] = await backends(db(), 2);
    try {
      const runId = await newRun(a, 3);
      const first = await a.ledger.claimFile(runId, live, claims);
      expect(first).toMatchObject({ ordinal: 0, status: 'loading', position: 0 });
      expect(await b.ledger.claimFile(runId, live, claims)).toMatchObject({ ordinal: 1 });
      expect(await a.ledger.claimFile(runId, live, claims)).toMatchObject({ ordinal: 2 });
      expect(await b.ledger.claimFile(runId, live, claims)).toBeNull();
      // Given up after a checkpoint (a signal): resumed by the next worker from there.
      await setFile(a, runId, 0, 'loading', 7);
      await a.ledger.releaseFile(runId, 0, live);
      expect(await b.ledger.claimFile(runId, live, claims)).toMatchObject({ ordinal: 0, position: 7, line: 8, byteOffset: 70 });
      // Loaded files are never handed out again; a finished run hands out nothing.
      for (const ordinal of [0, 1]) {
        await setFile(b, runId, ordinal, 'loaded', 9);
        await b.ledger.releaseFile(runId, ordinal, live);
      }
      await a.ledger.releaseFile(runId, 2, live);
      expect(await b.ledger.claimFile(runId, live, claims)).toMatchObject({ ordinal: 2 });
      await b.ledger.releaseFile(runId, 2, live);
      await a.transaction(async (tx) => tx.ledger.finishRun(runId, 'succeeded', null, null));
      expect(await a.ledger.claimFile(runId, live, claims)).toBeNull();
    } finally {
      await closeAll([a, b]);
    }
  });

  it("a dead worker's claim is taken over, and the file resumes from its checkpoint", async () => {
    const t = db();
    const [a, b] = await backends(t, 2);
    try {
      const runId = await newRun(a, 2);
      // The worker that dies: on SQLite its pid is gone, on PostgreSQL its session ends.
      const doomed: ClaimHolder = { ...live, pid: deadPid() };
      expect(await a.ledger.claimFile(runId, doomed, { ...claims, isStale: () => false })).toMatchObject({ ordinal: 0 });
      await setFile(a, runId, 0, 'loading', 40);
      await a.close();
      expect(await b.ledger.claimFile(runId, live, claims)).toMatchObject({ ordinal: 0, status: 'loading', position: 40 });
      expect(await b.ledger.claimFile(runId, live, claims)).toMatchObject({ ordinal: 1, position: 0 });
    } finally {
      await closeAll([a, b]);
    }
  });

  it('--on-file-error fail: after a failed file, files already started are completed and no new one is started', async () => {
    const [a, b] = await backends(db(), 2);
    try {
      const runId = await newRun(a, 4);
      const stopping = { ...claims, stopAfterFailure: true };
      expect(await a.ledger.claimFile(runId, live, stopping)).toMatchObject({ ordinal: 0 });
      expect(await b.ledger.claimFile(runId, live, stopping)).toMatchObject({ ordinal: 1 });
      await setFile(a, runId, 0, 'failed');
      await a.ledger.releaseFile(runId, 0, live);
      await b.ledger.releaseFile(runId, 1, live);
      // File 1 was started (claimed): it is still handed out, files 2 and 3 are not.
      expect(await a.ledger.claimFile(runId, live, stopping)).toMatchObject({ ordinal: 1 });
      await setFile(a, runId, 1, 'loaded', 3);
      await a.ledger.releaseFile(runId, 1, live);
      expect(await b.ledger.claimFile(runId, live, stopping)).toBeNull();
      expect(await b.ledger.claimFile(runId, live, claims)).toMatchObject({ ordinal: 2 });
      // Under the run's lock the files' states are read as committed.
      const locked = await a.transaction(async (tx) => tx.ledger.lockRun(runId));
      expect(locked?.run).toMatchObject({ id: runId, status: 'running' });
      expect(locked?.files.map((f) => f.status)).toEqual(['failed', 'loaded', 'loading', 'pending']);
    } finally {
      await closeAll([a, b]);
    }
  });

  it("the pipeline lock is shared by the workers of one run only; the last one to leave releases it", async () => {
    const [w1, w2, other] = await backends(db(), 3);
    const alive = (): boolean => false;
    const holder = (pid: number, runId: number | null): LockHolder => ({ pipeline: 'default', runId, pid, host: hostname(), since: now, heartbeatAt: now });
    try {
      const runId = await newRun(w1, 2);
      expect(await w1.ledger.acquireLock(holder(process.pid, null), alive)).toBeNull();
      // Held exclusively (a run being set up, or a plain run): nobody joins.
      expect(await w2.ledger.joinLock({ ...holder(process.pid + 1, runId), runId }, alive)).not.toBeNull();
      await w1.ledger.shareLock({ ...holder(process.pid, runId), runId });
      expect(await w2.ledger.joinLock({ ...holder(process.pid + 1, runId), runId }, alive)).toBeNull();
      // Another run, or a plain run, of the pipeline is refused while the workers hold it.
      expect(await other.ledger.joinLock({ ...holder(process.pid + 2, runId + 1), runId: runId + 1 }, alive)).not.toBeNull();
      expect(await other.ledger.acquireLock(holder(process.pid + 2, null), alive)).not.toBeNull();
      await w1.ledger.leaveLock({ ...holder(process.pid, runId), runId }, alive);
      expect(await other.ledger.acquireLock(holder(process.pid + 2, null), alive)).not.toBeNull();
      await w2.ledger.leaveLock({ ...holder(process.pid + 1, runId), runId }, alive);
      expect(await other.ledger.acquireLock(holder(process.pid + 2, null), alive)).toBeNull();
    } finally {
      await closeAll([w1, w2, other]);
    }
  });

  it("the run's largest cursor is kept whatever order the workers commit in (numbers as numbers)", async () => {
    const [backend] = await backends(db(), 1);
    try {
      const numbers = await newRun(backend, 1, 'n');
      for (const n of [9, 100, 10, 20, 99.5]) await backend.transaction(async (tx) => tx.ledger.addCounters(numbers, { loaded: 1 }, { value: String(n), sortable: n }));
      expect(await backend.ledger.getRun(numbers)).toMatchObject({ maxCursor: { value: '100', sortable: 100 }, counters: { loaded: 5 } });
      const times = await newRun(backend, 1, 't');
      const at = (day: number): { value: string; sortable: string } => ({ value: `2025-01-${day}`, sortable: `2025-01-${String(day).padStart(2, '0')}T00:00:00.000000000Z` });
      for (const day of [3, 12, 9, 11]) await backend.transaction(async (tx) => tx.ledger.addCounters(times, {}, at(day)));
      expect((await backend.ledger.getRun(times))?.maxCursor).toEqual(at(12));
    } finally {
      await backend.close();
    }
  });
});
