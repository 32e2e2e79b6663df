import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scratchDir } from '../../test/fixtures/export/helpers.js';
import { openBackend } from '../backends/open-backend.js';
import { isMetaColumn } from '../backends/sql.js';
import { exportRecords } from '../stages/export/index.js';
import { exportTable } from './export.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = scratchDir()));
afterEach(() => cleanup());

/** Values whose text SQLite and JavaScript may write differently, or CSV must quote or guard. */
const TRICKY: unknown[] = [
  'plain', '', null, 'a,b', 'say "hi"', 'two\nlines', 'cr\r\nlf', '=1+2', '+cmd', '@x', '-abc', '-5', '\tx', 'émoji 🎉',
  'x\u001fy', 'x\u001f', 'x\u001ey', '5.0', '1.0e+20', 'Inf', '0.33333333333333332', '12345678.9',
  5, -0, 0.1 + 0.2, 1 / 3, 1e20, 1e-7, 2 ** 60, 123456789012345.6, 47590.92, -371.4, Infinity, -Infinity, NaN,
  2n ** 62n, -(2n ** 63n), Buffer.from('hi'), Buffer.from([0xff, 0x00]),
];

const COLUMNS = ['k', 'name', 'price', 'n', 'flag', 'note'];

/**
 * A table as another writer may leave one: each tricky value in each kind of column, alone in
 * its batch of 1,000 rows (a batch the text cannot carry is read as values: a value sharing it
 * would go untested), text that is not UTF-8 alone in another, and all of them mixed in the
 * first and last batches. Rowids sparse, negative, at both ends of their range; rows inserted
 * in reverse order.
 */
function trickyDb(): string {
  const path = join(dir, 'tricky.db');
  const db = new Database(path);
  db.exec(`CREATE TABLE t ("k", "name", "price" REAL, "n" INTEGER, "flag" BOOLEAN, "note" TEXT, _sluice_run_id INTEGER, _sluice_source TEXT)`);
  const insert = db.prepare('INSERT INTO t (rowid, k, name, price, n, flag, note, _sluice_run_id, _sluice_source) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)');
  const rows: unknown[][] = [];
  const plain = (i: number): unknown[] => [`k${i}`, i % 5 === 0 ? 'Zoë' : 'Ann', i % 7 === 0 ? -(i + 0.25) : i + 0.5, i, i % 2, i % 3 === 0 ? '' : `note ${i}`];
  const mixed = (count: number): void => {
    for (let i = 0; i < count; i += 1) rows.push(COLUMNS.map((_c, column) => TRICKY[(rows.length + column * 7) % TRICKY.length]));
  };
  mixed(1000);
  for (const [column] of COLUMNS.entries()) {
    for (const value of TRICKY) {
      for (let j = 0; j < 1000; j += 1) rows.push(j === 500 ? plain(rows.length).with(column, value) : plain(rows.length));
    }
  }
  const notUtf8 = rows.length + 500;
  for (let j = 0; j < 1000; j += 1) rows.push(plain(rows.length));
  mixed(1000);
  const rowids = rows.map((_r, i) => BigInt(i * 2));
  rowids.splice(0, 2, -(2n ** 63n), -5n);
  rowids.splice(-2, 2, 10n ** 12n, 2n ** 63n - 1n);
  db.transaction(() => {
    for (let i = rows.length - 1; i >= 0; i -= 1) insert.run(rowids[i], ...(rows[i] as unknown[]), `f.csv:${i}`);
    // Bytes another writer stored as TEXT: reading them as values makes U+FFFD of the 0xFF.
    db.prepare("UPDATE t SET name = CAST(x'ff41' AS TEXT) WHERE rowid = ?").run(rowids[notUtf8]);
  })();
  db.close();
  return path;
}

/** The same export read value by value: the reference the text path must equal byte for byte. */
async function exportedByValues(db: string, table: string, output: string, options: { withMeta?: boolean; formulaGuard?: boolean } = {}): Promise<string> {
  const backend = await openBackend(db, { mustExist: true, readonly: true });
  try {
    const columns = (await backend.tableColumns(table)).map((c) => c.name).filter((name) => options.withMeta === true || !isMetaColumn(name));
    await exportRecords(() => backend.streamRowBatches(table, { withMeta: options.withMeta }), { output, format: 'csv', columns, formulaGuard: options.formulaGuard });
  } finally {
    await backend.close();
  }
  return readFileSync(output, 'latin1');
}

describe('CSV export from SQLite text', () => {
  it.each([
    ['as it is', {}],
    ['with the bookkeeping columns', { withMeta: true }],
    ['without the formula guard', { formulaGuard: false }],
  ])('writes what reading the values writes, byte for byte, %s', async (_how, options) => {
    const db = trickyDb();
    await exportTable({ db, table: 't', output: join(dir, 'text.csv'), ...options });
    const expected = await exportedByValues(db, 't', join(dir, 'values.csv'), options);
    expect(expected.split('\r\n').length).toBeGreaterThan(COLUMNS.length * TRICKY.length * 1000);
    // Compared byte for byte (as Latin-1): bytes that are not UTF-8 would read alike as U+FFFD.
    expect(readFileSync(join(dir, 'text.csv'), 'latin1')).toBe(expected);
  });

  it.each([
    ['a column named rowid', 'CREATE TABLE w ("rowid" TEXT, v)'],
    ['a WITHOUT ROWID table', 'CREATE TABLE w (rowid_like TEXT PRIMARY KEY, v) WITHOUT ROWID'],
  ])('reads the values of a table with %s', async (_what, ddl) => {
    const path = join(dir, 'w.db');
    const db = new Database(path);
    db.exec(ddl);
    const insert = db.prepare('INSERT INTO w VALUES (?, ?)');
    for (let i = 0; i < 50; i += 1) insert.run(`r${(i * 7) % 50}`, i % 2 === 0 ? 'a,b' : i);
    db.close();
    await exportTable({ db: path, table: 'w', output: join(dir, 'text.csv') });
    expect(readFileSync(join(dir, 'text.csv'), 'latin1')).toBe(await exportedByValues(path, 'w', join(dir, 'values.csv')));
  });

  it('exports an empty table as its header', async () => {
    const path = join(dir, 'e.db');
    const db = new Database(path);
    db.exec('CREATE TABLE e (a TEXT, b REAL)');
    db.close();
    const result = await exportTable({ db: path, table: 'e', output: join(dir, 'e.csv') });
    expect(result.exported).toBe(0);
    expect(readFileSync(join(dir, 'e.csv'), 'utf8')).toBe('a,b\r\n');
  });
});

describe('CSV export of a wide table', () => {
  it('writes 1,200 columns as reading the values does', async () => {
    const path = join(dir, 'wide.db');
    const db = new Database(path);
    const names = Array.from({ length: 1200 }, (_v, i) => `c${i}`);
    db.exec(`CREATE TABLE w (${names.map((n, i) => `${n}${i % 3 === 0 ? ' REAL' : ''}`).join(', ')})`);
    const insert = db.prepare(`INSERT INTO w VALUES (${names.map(() => '?').join(', ')})`);
    for (let row = 0; row < 30; row += 1) insert.run(...names.map((_n, i) => (i % 3 === 0 ? row + i / 2 : i % 7 === 0 ? `a,${row}` : `v${row}.${i}`)));
    db.close();
    await exportTable({ db: path, table: 'w', output: join(dir, 'text.csv') });
    const written = readFileSync(join(dir, 'text.csv'), 'latin1');
    expect(written.split('\r\n')[1]?.split(',').length).toBeGreaterThan(1200);
    expect(written).toBe(await exportedByValues(path, 'w', join(dir, 'values.csv')));
  });
});

/** What String.prototype.trim() removes, and characters that look blank but are not to it. */
const JS_WHITE_SPACE = ['\t', '\n', '\v', '\f', '\r', ' ', '\u00a0', '\u1680', '\u2000', '\u2005', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff'];
const NOT_WHITE_SPACE = ['\u200b', '\u0085', '\u180e', '\u0000', 'x'];

describe('CSV export from SQLite text with --require', () => {
  /** A table whose `name` holds each candidate alone in its batch of 1,000 rows. */
  function candidatesDb(candidates: readonly unknown[]): string {
    const path = join(dir, 'r.db');
    const db = new Database(path);
    db.exec('CREATE TABLE r (k INTEGER, name, score REAL)');
    const insert = db.prepare('INSERT INTO r VALUES (?, ?, ?)');
    db.transaction(() => {
      let k = 0;
      for (const value of candidates) for (let j = 0; j < 1000; j += 1) insert.run((k += 1), j === 500 ? value : `n${k}`, k / 4);
    })();
    db.close();
    return path;
  }

  it('calls blank exactly what the values check calls blank', async () => {
    const candidates = [
      '', null, ...JS_WHITE_SPACE, ...JS_WHITE_SPACE.map((c) => c + c + ' '),
      ...NOT_WHITE_SPACE, ...JS_WHITE_SPACE.map((c) => `${c}a${c}`), 0, 0.5, Buffer.from(' '),
    ];
    const db = candidatesDb(candidates);
    const output = join(dir, 'out.csv');
    const byValues = await exportTable({ db, table: 'r', output, require: ['name'], dryRun: true }).catch((error: Error) => error.message);
    const blank = 2 + 2 * JS_WHITE_SPACE.length;
    expect(byValues).toMatch(new RegExp(`: ${blank} of ${candidates.length * 1000} records lack required fields: record 501 \\(name\\); record 1501 \\(name\\)`));
    await expect(exportTable({ db, table: 'r', output, require: ['name'] })).rejects.toThrow(byValues as string);
    expect(readdirSync(dir).sort()).toEqual(['r.db']);
  });

  it('writes what an export without --require writes when every row has the fields', async () => {
    const db = candidatesDb([...NOT_WHITE_SPACE, ...JS_WHITE_SPACE.map((c) => `${c}a`), 7]);
    await exportTable({ db, table: 'r', output: join(dir, 'checked.csv'), require: ['name', 'k', 'score'] });
    await exportTable({ db, table: 'r', output: join(dir, 'plain.csv') });
    expect(readFileSync(join(dir, 'checked.csv'), 'latin1')).toBe(readFileSync(join(dir, 'plain.csv'), 'latin1'));
  });

  it('fails on a required field the table does not have, naming the first records', async () => {
    const db = candidatesDb(['a']);
    await expect(exportTable({ db, table: 'r', output: join(dir, 'out.csv'), require: ['email'] })).rejects.toThrow(
      /: 1000 of 1000 records lack required fields: record 1 \(email\); record 2 \(email\); record 3 \(email\); record 4 \(email\); record 5 \(email\); and 995 more$/,
    );
  });
});
