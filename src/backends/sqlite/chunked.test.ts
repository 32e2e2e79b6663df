import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { insertChunked } from './chunked.js';

describe('insertChunked', () => {
  const setup = () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (a INTEGER, b TEXT CHECK (b <> \'bad\'))');
    const statementFor = (count: number) => db.prepare(`INSERT INTO t VALUES ${new Array(count).fill('(?, ?)').join(', ')}`);
    return { db, statementFor };
  };

  it('writes full chunks and the remainder, and says how far a refused write got', () => {
    const { db, statementFor } = setup();
    const rows = Array.from({ length: 250 }, (_, i) => ({ a: i, b: i === 230 ? 'bad' : `v${i}` }));
    const progress = { written: 0 };
    expect(() => insertChunked(rows, 2, statementFor, (row, params) => params.addAll([row.a, row.b]), progress)).toThrow(/CHECK/);
    expect(progress.written).toBe(230);
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 230 });
  });

  it('starts clean after a row whose values threw, and after a refused statement', () => {
    const { db, statementFor } = setup();
    const boom = () => insertChunked([{ a: 1 }], 2, statementFor, (row, params) => {
      params.add(row.a);
      throw new Error('value failed');
    });
    expect(boom).toThrow('value failed');
    expect(() => insertChunked([{ a: 1, b: 'bad' }], 2, statementFor, (row, params) => params.addAll([row.a, row.b]))).toThrow(/CHECK/);
    insertChunked([{ a: 2, b: 'x' }], 2, statementFor, (row, params) => params.addAll([row.a, row.b]));
    expect(db.prepare('SELECT a, b FROM t').all()).toEqual([{ a: 2, b: 'x' }]);
  });

  it('refuses a row that gives too few or too many values, and the next statement is unharmed', () => {
    const { statementFor } = setup();
    insertChunked([{ a: 1, b: 'x' }], 2, statementFor, (row, params) => params.addAll([row.a, row.b]));
    expect(() => insertChunked([{ a: 2 }], 2, statementFor, (row, params) => params.add(row.a))).toThrow('1 given, 2 expected');
    expect(() => insertChunked([{ a: 3 }], 2, statementFor, (row, params) => params.addAll([row.a, 'x', 'y']))).toThrow('more than 2 given');
    insertChunked([{ a: 4, b: 'z' }], 2, statementFor, (row, params) => params.addAll([row.a, row.b]));
  });
});
