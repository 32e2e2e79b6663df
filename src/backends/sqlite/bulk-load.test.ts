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

describe('bulkLoad on SQLite', () => {
  it('commits without a sync each while a background thread folds the log in, then ends at FULL', async () => {
    const { backend, file } = freshBackend();
    const db = backend.connection;
    const sizeBefore = statSync(file).size;
    const seen = await backend.bulkLoad(async () => {
      const synchronous = durabilitySettings(db).synchronous;
      for (let c = 0; c < 4; c += 1) await commitRows(backend, c * 2000);
      // Only a checkpoint moves pages from the log into the database file, and the loader's
      // own comes at 8,000 pages: the file grows because the thread folded the log in.
      const deadline = Date.now() + 10_000;
      while (statSync(file).size <= sizeBefore && Date.now() < deadline) await sleep(20);
      return { synchronous, grew: statSync(file).size > sizeBefore };
    });
    expect(seen).toEqual({ synchronous: 1, grew: true });
    expect(durabilitySettings(db).synchronous).toBe(2);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 8000 });
    await backend.close();
  });

  it('restores FULL and rethrows when the load fails; the commits before the failure stay', async () => {
    const { backend } = freshBackend();
    const failing = backend.bulkLoad(async () => {
      await commitRows(backend, 0);
      throw new Error('the file broke');
    });
    await expect(failing).rejects.toThrow('the file broke');
    expect(durabilitySettings(backend.connection).synchronous).toBe(2);
    expect(backend.connection.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 2000 });
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
