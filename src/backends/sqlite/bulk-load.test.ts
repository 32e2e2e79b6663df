import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { durabilitySettings } from './connection.js';
import { SqliteBackend } from './sqlite-backend.js';

function freshBackend(): { backend: SqliteBackend; file: string } {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'sluice-bulk-')), 'b.db');
  const backend = SqliteBackend.open(file);
  backend.connection.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)');
  return { backend, file };
}

/** About 2 MB of rows in one transaction: 500 pages, far below the loader's own fallback. */
async function commitRows(backend: SqliteBackend, from: number): Promise<void> {
  const insert = backend.connection.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
  await backend.transaction(async () => {
    for (let k = from; k < from + 2000; k += 1) insert.run(k, 'x'.repeat(1000));
  });
}

/** Whether the database file grows within `ms`: only a checkpoint moves pages from the log into it. */
async function fileGrows(file: string, sizeBefore: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (statSync(file).size <= sizeBefore && Date.now() < deadline) await sleep(20);
  return statSync(file).size > sizeBefore;
}

describe('bulkLoad on SQLite', () => {
  it('from its second transaction on, commits without a sync each while a background thread folds the log in, then ends at FULL', async () => {
    const { backend, file } = freshBackend();
    const db = backend.connection;
    const sizeBefore = statSync(file).size;
    const seen = await backend.bulkLoad(async () => {
      const before = durabilitySettings(db).synchronous;
      await commitRows(backend, 0);
      const afterFirst = durabilitySettings(db).synchronous;
      for (let c = 1; c < 4; c += 1) await commitRows(backend, c * 2000);
      const during = durabilitySettings(db).synchronous;
      // The loader's own checkpoint comes at 24,000 pages: the file grows because the thread
      // folded the log in.
      return { before, afterFirst, during, grew: await fileGrows(file, sizeBefore, 10_000) };
    });
    expect(seen).toEqual({ before: 2, afterFirst: 2, during: 1, grew: true });
    expect(durabilitySettings(db).synchronous).toBe(2);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 8000 });
    await backend.close();
  });

  it('a load that commits once stays at FULL and starts no thread', async () => {
    const { backend, file } = freshBackend();
    const db = backend.connection;
    const sizeBefore = statSync(file).size;
    const seen = await backend.bulkLoad(async () => {
      await commitRows(backend, 0);
      // No thread: nothing folds the 500 pages of the log in while the load goes on.
      return { synchronous: durabilitySettings(db).synchronous, grew: await fileGrows(file, sizeBefore, 500) };
    });
    expect(seen).toEqual({ synchronous: 2, grew: false });
    // The end folds the log in, as after any load.
    expect(statSync(file).size).toBeGreaterThan(sizeBefore);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    await backend.close();
  });

  it('restores FULL and rethrows when the load fails; the commits before the failure stay', async () => {
    const { backend } = freshBackend();
    const failing = backend.bulkLoad(async () => {
      await commitRows(backend, 0);
      await commitRows(backend, 2000);
      throw new Error('the file broke');
    });
    await expect(failing).rejects.toThrow('the file broke');
    expect(durabilitySettings(backend.connection).synchronous).toBe(2);
    expect(backend.connection.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    expect(backend.connection.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 4000 });
    await backend.close();
  });

  it('inside a transaction (a dry run) changes nothing', async () => {
    const { backend } = freshBackend();
    await backend.transaction(async () => {
      const synchronous = await backend.bulkLoad(async () => durabilitySettings(backend.connection).synchronous);
      expect(synchronous).toBe(2);
    });
    await backend.close();
  });
});
