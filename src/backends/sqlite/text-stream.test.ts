import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTextBatch, TEXT_CELL_SEPARATOR, TEXT_ROW_SEPARATOR, type SourceBatch } from '../../core/row-batch.js';
import { SqliteBackend } from './sqlite-backend.js';
import { streamTextBatches } from './text-stream.js';

let dir: string;
let backend: SqliteBackend;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-text-'));
  backend = SqliteBackend.open(join(dir, 'db.sqlite'));
});
afterEach(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

function fill(rows: number): void {
  backend.connection.exec('CREATE TABLE t (k TEXT, price REAL, n INTEGER)');
  const insert = backend.connection.prepare('INSERT INTO t VALUES (?, ?, ?)');
  backend.connection.transaction(() => {
    for (let i = 0; i < rows; i += 1) insert.run(`k${i}`, i % 2 === 0 ? i : i + 0.5, i);
  })();
}

async function collect(batches: AsyncIterable<SourceBatch>): Promise<SourceBatch[]> {
  const all: SourceBatch[] = [];
  for await (const batch of batches) all.push(batch);
  return all;
}

const cellsOf = (bytes: Uint8Array): string[][] =>
  Buffer.from(bytes).toString('utf8').split(TEXT_ROW_SEPARATOR).map((row) => row.split(TEXT_CELL_SEPARATOR));

describe('SqliteBackend.streamTextBatches', () => {
  it('writes each cell as String() writes its value, whole REALs included, in rowid order', async () => {
    fill(2500);
    const batches = await collect(backend.streamTextBatches('t'));
    const values = (await collect(backend.streamRowBatches('t'))).flatMap((b) => (isTextBatch(b) ? [] : b.rows));
    expect(batches.every(isTextBatch)).toBe(true);
    const cells = batches.flatMap((b) => (isTextBatch(b) ? cellsOf(b.bytes) : []));
    expect(cells).toEqual(values.map((row) => row.map(String)));
    expect(cells[2]).toEqual(['k2', '2', '2']);
    expect(batches.map((b) => (isTextBatch(b) ? b.count : 0))).toEqual([1000, 1000, 500]);
  });

  it('reads a batch again as values, from the same snapshot, when asked', async () => {
    fill(1500);
    const batches = backend.streamTextBatches('t')[Symbol.asyncIterator]();
    const first = (await batches.next()).value as SourceBatch;
    // Committed after the stream began: neither the rows nor the counts may show it.
    backend.connection.prepare("UPDATE t SET k = 'changed'").run();
    backend.connection.prepare("INSERT INTO t VALUES ('late', 1, 1)").run();
    expect(isTextBatch(first) && (await first.rows()).slice(0, 2)).toEqual([['k0', 0, 0], ['k1', 1.5, 1]]);
    const second = (await batches.next()).value as SourceBatch;
    expect(isTextBatch(second) && second.count).toBe(500);
    expect((await batches.next()).done).toBe(true);
  });

  it('stops its thread when the reader stops early', async () => {
    fill(3000);
    for await (const batch of backend.streamTextBatches('t')) {
      expect(isTextBatch(batch)).toBe(true);
      break;
    }
    // The thread has let go of its read transaction: a checkpoint can reset the whole log.
    expect(backend.connection.pragma('wal_checkpoint(TRUNCATE)', { simple: false })).toEqual([{ busy: 0, log: 0, checkpointed: 0 }]);
  });

  it("fails with SQLite's message when its thread cannot read the file", async () => {
    const stream = streamTextBatches(join(dir, 'missing.sqlite'), 't', [{ name: 'k', type: 'text' }]);
    await expect(collect(stream)).rejects.toThrow(/unable to open database file/);
  });
});
