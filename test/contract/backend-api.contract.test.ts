import { expect, it } from 'vitest';
import type { Backend, BackendTx } from '../../src/backends/backend.js';
import type { TargetRow, TargetSpec } from '../../src/backends/backend.js';
import { keyIdentity } from '../../src/core/record.js';
import { forEachBackend, tableRows, withBackend } from './backends.js';

/** The Backend interface itself, below the pipeline: transactions, lookups, ledger text. */
const SPEC: TargetSpec = {
  table: 'items',
  columns: [
    { name: 'id', type: 'any' },
    { name: 'v', type: 'any' },
  ],
  key: 'id',
  cursor: null,
  rowHash: false,
};

/** Values in SPEC's column order. */
function row(id: unknown, v: string, seq: number): TargetRow {
  return { values: [id, v], key: id, cursor: null, rowHash: null, seq, file: 'test', line: seq };
}

async function write(backend: Backend, rows: TargetRow[], runId = 1): Promise<void> {
  await backend.transaction(async (tx) => {
    // Creating the table adds every column; later calls add none.
    expect([[], ['id', 'v']]).toContainEqual(await tx.ensureTarget(SPEC));
    await tx.writeRows('items', SPEC, runId, 'last-wins', rows);
  });
}

async function newRun(tx: BackendTx): Promise<number> {
  const at = new Date().toISOString();
  return tx.ledger.createRun({ pipeline: 'p', status: 'running', startedAt: at, pid: process.pid, host: 'h', settings: '{}', watermarkBefore: null });
}

forEachBackend('contract: Backend interface', (db) => {
  it('a transaction commits all or nothing; a nested one rolls back alone', async () => {
    const t = db();
    await withBackend(t, async (backend) => {
      await write(backend, [row('a', '1', 1)]);
      const failed = backend.transaction(async (tx) => {
        await tx.writeRows('items', SPEC, 1, 'last-wins', [row('b', '2', 2)]);
        throw new Error('boom');
      });
      await expect(failed).rejects.toThrow('boom');
      await backend.transaction(async (tx) => {
        await tx.writeRows('items', SPEC, 1, 'last-wins', [row('c', '3', 3)]);
        await expect(backend.transaction(async (inner) => {
          await inner.writeRows('items', SPEC, 1, 'last-wins', [row('d', '4', 4)]);
          throw new Error('inner');
        })).rejects.toThrow('inner');
      });
      expect(await backend.countRows('items')).toBe(2);
    });
    expect((await tableRows(t, 'items')).map((r) => r.id)).toEqual(['a', 'c']);
  });

  it('columns added in a rolled-back transaction are added again by the next one', async () => {
    const t = db();
    await withBackend(t, async (backend) => {
      await write(backend, [row('a', '1', 1)]);
      const wider: TargetSpec = { ...SPEC, columns: [...SPEC.columns, { name: 'extra', type: 'any' }] };
      await expect(backend.transaction(async (tx) => {
        expect(await tx.ensureTarget(wider)).toEqual(['extra']);
        throw new Error('undo');
      })).rejects.toThrow('undo');
      await backend.transaction(async (tx) => {
        expect(await tx.ensureTarget(wider)).toEqual(['extra']);
        const r = { ...row('b', '2', 2), values: ['b', '2', 'x'] };
        await tx.writeRows('items', wider, 1, 'last-wins', [r, row('c', '3', 3)]);
      });
      expect((await backend.tableColumns('items')).map((c) => c.name)).toContain('extra');
    });
    // A row staged before the column existed is shorter: its missing value is null.
    expect((await tableRows(t, 'items')).map((r) => [r.id, r.extra])).toEqual([
      ['a', null],
      ['b', 'x'],
      ['c', null],
    ]);
  });

  it('lookupExisting gives back the keys as asked, so merge finds them by identity', async () => {
    const t = db();
    await withBackend(t, async (backend) => {
      await write(backend, [row(7, 'seven', 1), row('x', 'ex', 2), row(true, 'yes', 3)], 4);
      const found = await backend.transaction((tx) => tx.lookupExisting('items', 'id', [7, 'x', true, 'absent']));
      const identities = found.map((f) => keyIdentity(f.key)).sort();
      expect(identities).toEqual([keyIdentity(7), keyIdentity(true), keyIdentity('x')].sort());
      expect(found.every((f) => f.runId === 4 && f.cursor === null)).toBe(true);
      expect(found.map((f) => f.seq).sort()).toEqual([1, 2, 3]);
    });
  });

  it('guards: first-wins keeps the earlier record of a run, last-wins never takes an older run', async () => {
    const t = db();
    await withBackend(t, async (backend) => {
      await write(backend, [row('k', 'run2', 10)], 2);
      await backend.transaction((tx) => tx.writeRows('items', SPEC, 1, 'last-wins', [row('k', 'run1', 99)]));
      expect((await tableRows(t, 'items'))[0]?.v).toBe('run2');
      await backend.transaction((tx) => tx.writeRows('items', SPEC, 2, 'first-wins', [row('k', 'earlier', 5)]));
      await backend.transaction((tx) => tx.writeRows('items', SPEC, 2, 'first-wins', [row('k', 'later', 7)]));
      expect((await tableRows(t, 'items'))[0]?.v).toBe('earlier');
    });
  });

  it('ledger text survives any character the database can hold (PostgreSQL: NUL as \\u0000)', async () => {
    const t = db();
    await withBackend(t, async (backend) => {
      const raw = 'tab\there\nnewline \\N back\\slash nul\u0000end é';
      const runId = await backend.transaction(async (tx) => {
        const id = await newRun(tx);
        const fileId = await tx.ledger.fileId('/in/a.csv');
        await tx.ledger.insertDeadLetters(id, 'p', [{ fileId, file: '/in/a.csv', line: 3, raw, reason: 'malformed_row', field: null, message: 'bad\u0000row' }]);
        await tx.ledger.insertLineage(id, [{ fileId, line: 3, key: 'k\tk', step: 'reject' }]);
        return id;
      });
      const [letter] = await backend.queries.listDeadLetters({ pipeline: 'p' });
      const expected = backend.kind === 'postgres' ? raw.replace('\u0000', '\\u0000') : raw;
      expect(letter?.raw).toBe(expected);
      expect(await backend.ledger.lineageByStep(runId)).toEqual([{ step: 'reject', file: '/in/a.csv', count: 1 }]);
      expect((await backend.queries.lineageForKey('k\tk', {})).map((l) => l.line)).toEqual([3]);
    });
  });

  it('a stream stopped early leaves the backend usable', async () => {
    const t = db();
    await withBackend(t, async (backend) => {
      await write(backend, Array.from({ length: 5000 }, (_v, i) => row(`k${i}`, String(i), i + 1)));
      let seen = 0;
      for await (const batch of backend.streamRowBatches('items')) {
        const v = batch.columns.indexOf('v');
        expect(batch.rows.length).toBeGreaterThan(0);
        expect(batch.rows.map((values) => values[v])).toEqual(batch.rows.map((_values, i) => String(seen + i)));
        if ((seen += batch.rows.length) >= 10) break;
      }
      await write(backend, [row('more', 'x', 6000)]);
      expect(await backend.countRows('items')).toBe(5001);
    });
  });
});
