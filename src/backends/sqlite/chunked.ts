import type Database from 'better-sqlite3';
import { rowsPerStatement } from '../sql.js';

type Statement = Database.Statement<unknown[]>;

/** SQLite allows 32,766 parameters per statement; stay under it whatever the row's width. */
const MAX_PARAMS = 30_000;

/**
 * Rows per multi-row INSERT. Measured with 10,000-row batches of an 11-column upsert on the
 * 2-core machine: 100 rows per statement ran as fast as single-row statements and 15-25% faster
 * than 500 or 2,727 rows per statement.
 */
const ROWS_PER_STATEMENT = 100;

/**
 * Runs `statementFor(n)` (an n-row INSERT) over `rows` in full chunks, and the remainder row by
 * row: two statements per table, not one per remainder size, each holding its compiled program
 * in memory for the whole run. A failing statement changes nothing (SQLite backs it out) and
 * stops the rest; `progress.written` then says how many rows are in.
 */
export function insertChunked<T>(
  rows: readonly T[],
  paramsPerRow: number,
  statementFor: (count: number) => Statement,
  pushParams: (row: T, into: unknown[]) => void,
  progress: { written: number } = { written: 0 },
): void {
  const per = rowsPerStatement(paramsPerRow, MAX_PARAMS, ROWS_PER_STATEMENT);
  const full = rows.length - (rows.length % per);
  const params: unknown[] = [];
  const run = (statement: Statement, from: number, to: number): void => {
    params.length = 0;
    for (let i = from; i < to; i += 1) pushParams(rows[i] as T, params);
    // Spread, not one array: the driver reads an array element by element through V8's generic
    // property lookup, which cost a quarter of each INSERT (1M-row bench CSV, perf); arguments it
    // reads directly. 30,000 arguments are well within what a call may take.
    statement.run(...params);
    progress.written = to;
  };
  if (full > 0) {
    const many = statementFor(per);
    for (let start = 0; start < full; start += per) run(many, start, start + per);
  }
  if (full === rows.length) return;
  const one = statementFor(1);
  for (let i = full; i < rows.length; i += 1) run(one, i, i + 1);
}
