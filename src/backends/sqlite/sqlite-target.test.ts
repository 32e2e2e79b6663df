import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TargetRow, TargetSpec } from '../backend.js';
import { openSqlite } from './connection.js';
import { SqliteTarget } from './sqlite-target.js';

function row(values: unknown[], seq: number): TargetRow {
  return { values, key: values[0], cursor: null, rowHash: null, seq, file: 't.csv', line: seq + 1 };
}

describe('SqliteTarget.writeRows', () => {
  // A REAL column's numbers are bound as doubles (no BigInt per value); an untyped column keeps
  // a whole number an INTEGER, so 2 does not come back as 2.0.
  it('stores each number with the storage class of its column', () => {
    const db = openSqlite(path.join(mkdtempSync(path.join(tmpdir(), 'sluice-target-')), 't.db'));
    try {
      const target = new SqliteTarget(db);
      const spec: TargetSpec = {
        table: 't',
        columns: [{ name: 'id', type: 'any' }, { name: 'price', type: 'real' }, { name: 'count', type: 'any' }, { name: 'n', type: 'integer' }],
        key: null,
        cursor: null,
        rowHash: false,
      };
      target.ensureTarget(spec);
      target.writeRows('t', spec, 1, 'insert', [row(['a', 2, 2, 5], 0), row(['b', 2.5, 2.5, 9007199254740991], 1), row(['c', 'x', 3n, 6n], 2)]);
      const stored = db.prepare('SELECT typeof(price) AS p, price, typeof(count) AS c, count, typeof(n) AS t, n FROM t ORDER BY rowid').safeIntegers(true).all();
      expect(stored).toEqual([
        { p: 'real', price: 2, c: 'integer', count: 2n, t: 'integer', n: 5n },
        { p: 'real', price: 2.5, c: 'real', count: 2.5, t: 'integer', n: 9007199254740991n },
        { p: 'text', price: 'x', c: 'integer', count: 3n, t: 'integer', n: 6n },
      ]);
    } finally {
      db.close();
    }
  });

  it('stores a boolean as INTEGER 1/0 in an untyped column, as a declared boolean is stored', () => {
    const db = openSqlite(path.join(mkdtempSync(path.join(tmpdir(), 'sluice-target-')), 't.db'));
    try {
      const target = new SqliteTarget(db);
      const spec: TargetSpec = { table: 't', columns: [{ name: 'id', type: 'any' }, { name: 'flag', type: 'any' }, { name: 'typed', type: 'boolean' }], key: null, cursor: null, rowHash: false };
      target.ensureTarget(spec);
      target.writeRows('t', spec, 1, 'insert', [row(['a', true, true], 0), row(['b', false, false], 1)]);
      const stored = db.prepare('SELECT typeof(flag) AS f, flag, typeof(typed) AS t, typed FROM t ORDER BY rowid').all();
      expect(stored).toEqual([
        { f: 'integer', flag: 1, t: 'integer', typed: 1 },
        { f: 'integer', flag: 0, t: 'integer', typed: 0 },
      ]);
    } finally {
      db.close();
    }
  });
});

describe('SqliteTarget.columns', () => {
  // A user's table is read by SQLite's affinity rules: only a text column compares a key as
  // text, and a numeric-affinity DATE column holding ISO text must not type its field a number.
  it('types declared columns as their affinity does', () => {
    const db = openSqlite(path.join(mkdtempSync(path.join(tmpdir(), 'sluice-target-')), 't.db'));
    try {
      db.exec('CREATE TABLE u (a, b TEXT, c VARCHAR(5), d CLOB, e BLOB, f INT, g BIGINT, h REAL, i DOUBLE, j BOOLEAN, k NUMERIC, l DECIMAL(10,2), m DATE, n DATETIME)');
      expect(new SqliteTarget(db).columns('u').map((c) => `${c.name}:${c.type}`)).toEqual([
        'a:any', 'b:text', 'c:text', 'd:text', 'e:any', 'f:integer', 'g:integer', 'h:real', 'i:real', 'j:boolean', 'k:any', 'l:any', 'm:any', 'n:any',
      ]);
    } finally {
      db.close();
    }
  });
});
