import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SAMPLE_INPUT, scratchDir, snapshot, tempFilesIn } from '../../test/fixtures/export/helpers.js';
import { convertFile, exportFormatOf, exportTable } from './export.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = scratchDir()));
afterEach(() => cleanup());

/** A database as a run leaves it: the target table with its bookkeeping columns. */
function employeesDb(): string {
  const path = join(dir, 'sluice.db');
  const db = new Database(path);
  db.exec('CREATE TABLE employees (id INTEGER, name TEXT, department TEXT, salary INTEGER, _sluice_run_id INTEGER, _sluice_source TEXT)');
  const insert = db.prepare('INSERT INTO employees VALUES (?, ?, ?, ?, 1, ?)');
  const sample = JSON.parse(readFileSync(SAMPLE_INPUT, 'utf8')) as { id: number; name: string; department: string; salary: number }[];
  for (const [i, e] of sample.entries()) insert.run(e.id, e.name, e.department, e.salary, `sample_input.json:${i + 2}`);
  db.close();
  return path;
}

describe('exportTable', () => {
  it('exports a table to CSV in column order, without the bookkeeping columns', async () => {
    const db = employeesDb();
    const output = join(dir, 'exported.csv');
    const result = await exportTable({ db, table: 'employees', output });
    expect(result).toEqual({ status: 'exported', exported: 4, format: 'csv', path: output, backup: null });
    const lines = readFileSync(output, 'utf8').split('\r\n');
    expect(lines.slice(0, 2)).toEqual(['id,name,department,salary', '1,Alice Johnson,Engineering,95000']);
  });

  it('includes the bookkeeping columns with withMeta', async () => {
    const db = employeesDb();
    const output = join(dir, 'exported.json');
    await exportTable({ db, table: 'employees', output, withMeta: true });
    const rows = JSON.parse(readFileSync(output, 'utf8')) as Record<string, unknown>[];
    expect(rows[0]).toEqual({ id: 1, name: 'Alice Johnson', department: 'Engineering', salary: 95000, _sluice_run_id: 1, _sluice_source: 'sample_input.json:2' });
  });

  it('writes integers beyond 2^53 exactly', async () => {
    const path = join(dir, 'big.db');
    const db = new Database(path);
    db.exec('CREATE TABLE t (n INTEGER)');
    db.prepare('INSERT INTO t VALUES (?)').run(2n ** 62n);
    db.close();
    await exportTable({ db: path, table: 't', output: join(dir, 't.ndjson') });
    expect(readFileSync(join(dir, 't.ndjson'), 'utf8')).toBe(`{"n":${2n ** 62n}}\n`);
  });

  it('names a missing table', async () => {
    const db = employeesDb();
    await expect(exportTable({ db, table: 'nope', output: join(dir, 'x.json') })).rejects.toMatchObject({
      code: 'EXPORT_INPUT',
      message: `cannot export table "nope": there is no such table in ${db}`,
    });
    expect(existsSync(join(dir, 'x.json'))).toBe(false);
  });

  it('refuses a missing database without creating it', async () => {
    const db = join(dir, 'missing.db');
    await expect(exportTable({ db, table: 'employees', output: join(dir, 'x.json') })).rejects.toMatchObject({ code: 'CONFIG_NO_DATABASE' });
    expect(existsSync(db)).toBe(false);
  });
});

describe('convertFile', () => {
  it('converts the seed sample to CSV', async () => {
    const output = join(dir, 'exported.csv');
    const result = await convertFile({ input: SAMPLE_INPUT, output });
    expect(result).toEqual({ status: 'exported', exported: 4, format: 'csv', path: output, backup: null });
    expect(readFileSync(output, 'utf8').split('\r\n')[0]).toBe('id,name,department,salary');
  });

  it('converts NDJSON with inconsistent keys to a padded CSV', async () => {
    const input = join(dir, 'ragged.ndjson');
    writeFileSync(input, '{"id":1,"name":"a"}\n{"id":2,"email":"b@x"}\n');
    await convertFile({ input, output: join(dir, 'ragged.csv') });
    expect(readFileSync(join(dir, 'ragged.csv'), 'utf8')).toBe('id,name,email\r\n1,a,\r\n2,,b@x\r\n');
  });

  it('fails on a malformed input record, naming file and line, writing nothing', async () => {
    const input = join(dir, 'broken.ndjson');
    writeFileSync(input, '{"id":1}\n{"id":2\n{"id":3}\n');
    const output = join(dir, 'out.json');
    writeFileSync(output, 'old');
    const before = snapshot(dir);
    const error = await convertFile({ input, output }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EXPORT_INPUT', file: input, line: 2 });
    expect((error as Error).message).toMatch(new RegExp(`^cannot convert ${input}: line 2: `));
    expect(snapshot(dir)).toEqual(before);
    expect(tempFilesIn(dir)).toEqual([]);
  });

  it('turns a missing input file into an export input error', async () => {
    const error = await convertFile({ input: join(dir, 'missing.json'), output: join(dir, 'out.json') }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EXPORT_INPUT' });
    expect(existsSync(join(dir, 'out.json'))).toBe(false);
  });
});

describe('exportFormatOf', () => {
  it('reads the format from the output extension', () => {
    expect(exportFormatOf('a/b.JSON')).toBe('json');
    expect(exportFormatOf('b.csv')).toBe('csv');
    expect(exportFormatOf('b.ndjson')).toBe('ndjson');
    expect(exportFormatOf('b.jsonl')).toBe('ndjson');
    expect(() => exportFormatOf('b.txt')).toThrow(/cannot tell the export format of b.txt/);
  });
});
