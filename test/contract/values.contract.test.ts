import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { expect, it } from 'vitest';
import { exportTable } from '../../src/index.js';
import { forEachBackend, run, tableRows, withBackend, type Kind } from './backends.js';

/**
 * What each backend gives back for a value of an undeclared ('any') column. SQLite keeps the
 * JSON type (booleans as 1/0); PostgreSQL stores undeclared columns as TEXT (see
 * src/backends/postgres/values.ts), so a JSON number or boolean reads back as its text.
 * Declared types read back the same on both, except booleans (SQLite has none: 1/0).
 */
const EXPECTED: Record<Kind, Record<string, unknown>> = {
  sqlite: { id: 1, flag: 1, ok: 1 },
  postgres: { id: '1', flag: 'true', ok: true },
};

forEachBackend('contract: values and names', (db) => {
  it('streamRowBatches gives each value back with its type, exactly', async () => {
    const t = db();
    const file = path.join(t.dir, 'typed.ndjson');
    const text = 'tab\there\nnewline \\ backslash \\N "quoted" é 😀';
    // (A JSON integer beyond 2^53 is a dead letter unless quoted: the decoder never rounds.)
    const record = { id: 1, big: '9007199254740993', flag: true, obj: { a: [1, 2] }, price: '2.50', count: '7', huge: '9223372036854775807', ok: 'yes', when: '2025-01-15T12:00:00+02:00', text };
    writeFileSync(file, JSON.stringify(record) + '\n');
    const types = ['price=number', 'count=integer', 'huge=integer', 'big=integer', 'ok=boolean', 'when=timestamp'];
    expect(await run(t, { input: [file], type: types, normalize: false })).toMatchObject({ loaded: 1 });
    const [row] = await tableRows(t, 'records');
    expect(row).toEqual({
      ...EXPECTED[t.kind],
      obj: '{"a":[1,2]}',
      price: 2.5,
      count: 7,
      huge: 9223372036854775807n,
      big: 9007199254740993n,
      when: '2025-01-15T12:00:00+02:00',
      text,
    });
  });

  it('a CSV export of a table reads back as its rows, however the backend streams them', async () => {
    const t = db();
    const file = path.join(t.dir, 'mixed.csv');
    writeFileSync(file, 'id,name,price,note\n1,"Ritchie, Edsger",12.5,=cmd\n2,"say ""hi""",5,-3\n3,Zoë,-0.25,"two\nlines"\n4,,,\n');
    expect(await run(t, { input: [file], type: ['price=number'], normalize: false })).toMatchObject({ loaded: 4 });
    const output = path.join(t.dir, 'out.csv');
    await exportTable({ db: t.db, table: 'records', output });
    expect(parse(readFileSync(output), { columns: true })).toEqual([
      { id: '1', name: 'Ritchie, Edsger', price: '12.5', note: "'=cmd" },
      { id: '2', name: 'say "hi"', price: '5', note: '-3' },
      { id: '3', name: 'Zoë', price: '-0.25', note: 'two\nlines' },
      { id: '4', name: '', price: '', note: '' },
    ]);
  });

  it('streamRowBatches keeps insertion order; an updated row keeps its place', async () => {
    const t = db();
    const file = path.join(t.dir, 'rows.csv');
    writeFileSync(file, 'id,v\nc,1\na,2\nb,3\n');
    await run(t, { input: [file], key: 'id', strategy: 'update', batchSize: 1 });
    writeFileSync(file, 'id,v\nd,4\na,5\n');
    await run(t, { input: [file], key: 'id', strategy: 'update', batchSize: 1 });
    expect(await tableRows(t, 'records')).toEqual([
      { id: 'c', v: '1' },
      { id: 'a', v: '5' },
      { id: 'b', v: '3' },
      { id: 'd', v: '4' },
    ]);
    const withMeta = await tableRows(t, 'records', true);
    expect(withMeta.map((r) => [r._sluice_run_id, r._sluice_source])).toEqual([
      [1, `${file}:2`],
      [2, `${file}:3`],
      [1, `${file}:4`],
      [2, `${file}:2`],
    ]);
  });

  it('hostile header and table names are just names', async () => {
    const t = db();
    const file = path.join(t.dir, 'hostile.csv');
    const names = ['id', 'x"); drop table t; --', '__proto__', 'constructor', 'ünïcödé name', "quote'single", 'semi;colon', '$1', '_sluice_not_meta?'];
    const header = names.map((n) => `"${n.replaceAll('"', '""')}"`).join(',');
    writeFileSync(file, `${header}\n${names.map((_n, i) => `v${i}`).join(',')}\n`);
    const table = 'we"ird; table';
    expect(await run(t, { input: [file], table, key: 'id', strategy: 'update' })).toMatchObject({ loaded: 1, target_rows: 1 });
    const [row] = await tableRows(t, table);
    expect(Object.keys(row ?? {})).toEqual(names.filter((n) => !n.startsWith('_sluice_')));
    expect(row?.['x"); drop table t; --']).toBe('v1');
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    await withBackend(t, async (backend) => {
      expect(await backend.tableExists(table)).toBe(true);
      expect((await backend.tableColumns(table)).map((c) => c.name)).toEqual(expect.arrayContaining(names.slice(0, 8)));
    });
  });

  it('names equal but for case become NAME_2, and _sluice_* fields are not stored: each noted, the load goes on', async () => {
    const t = db();
    const [one, two] = [path.join(t.dir, 'one.csv'), path.join(t.dir, 'two.csv')];
    writeFileSync(one, 'id,ID,_sluice_source\n1,2,elsewhere.csv:9\n');
    writeFileSync(two, 'Id,name\n3,cid\n');
    const summary = await run(t, { input: [one, two], normalize: false });
    expect(summary).toMatchObject({ status: 'succeeded', loaded: 2, target_rows: 2 });
    expect(summary.warnings).toEqual([
      'field "ID" differs from column "id" only in case, which SQLite does not tell apart: stored as "ID_2"',
      `field "_sluice_source" is named like sluice's own columns (_sluice_*): its values are not stored, sluice writes its own`,
      'field "Id" differs from column "id" only in case, which SQLite does not tell apart: stored as "Id_3"',
    ]);
    expect(await tableRows(t, 'records')).toEqual([
      { id: '1', ID_2: '2', Id_3: null, name: null },
      { id: null, ID_2: null, Id_3: '3', name: 'cid' },
    ]);
    const [row] = await tableRows(t, 'records', true);
    expect(row?._sluice_source).toBe(`${one}:2`);
    // A later run finds the same columns again, however its fields come in.
    writeFileSync(one, 'Id,ID,id\n5,6,7\n');
    const again = await run(t, { input: [one], normalize: false });
    expect(again).toMatchObject({ loaded: 1, target_rows: 3 });
    expect(again.files[0]?.new_columns).toEqual([]);
    expect((await tableRows(t, 'records'))[2]).toEqual({ id: '7', ID_2: '6', Id_3: '5', name: null });
  });

  it('keys keep their type: a JSON number key and its text are merged as the table stores them', async () => {
    const t = db();
    const file = path.join(t.dir, 'keys.ndjson');
    writeFileSync(file, '{"id": 7, "v": "a"}\n{"id": 1.5, "v": "b"}\n{"id": true, "v": "b"}\n');
    await run(t, { input: [file], key: 'id', strategy: 'deduplicate' });
    writeFileSync(file, '{"id": 7, "v": "c"}\n{"id": 1.5, "v": "d"}\n{"id": true, "v": "d"}\n{"id": 8, "v": "e"}\n');
    const second = await run(t, { input: [file], key: 'id', strategy: 'deduplicate' });
    expect(second).toMatchObject({ staged: 4, loaded: 1, skipped_duplicate: 3, target_rows: 4 });
    const big = path.join(t.dir, 'big.ndjson');
    writeFileSync(big, '{"id": "9007199254740993", "v": "x"}\n{"id": "9007199254740993", "v": "y"}\n{"id": "9007199254740992", "v": "z"}\n');
    const exact = await run(t, { input: [big], key: 'id', strategy: 'update', type: ['id=integer'], table: 'big' });
    expect(exact).toMatchObject({ loaded: 3, target_rows: 2 });
    expect(await tableRows(t, 'big')).toEqual([
      { id: 9007199254740993n, v: 'y' },
      { id: 9007199254740992n, v: 'z' },
    ]);
  });
});
