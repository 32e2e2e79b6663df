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
 * One statement's parameters, written in place into an array that keeps the statement's full
 * length: emptied with `length = 0` and pushed to, V8 dropped the array's storage and grew it
 * again for every statement (about 200 bytes of garbage per row of the 1M-row bench CSV).
 */
export class StatementParams {
  readonly values: unknown[];
  private at = 0;

  constructor(length: number) {
    // Filled, not `new Array(length)`: an array with holes is spread through a slower path.
    this.values = Array.from({ length }, () => null);
  }

  add(value: unknown): void {
    // Past the end the array would grow, and stay too long for every later statement of its length.
    if (this.at === this.values.length) throw new Error(`statement parameters: more than ${this.values.length} given`);
    this.values[this.at] = value;
    this.at += 1;
  }

  /** For rows off the hot path, where an array per row costs nothing that matters. */
  addAll(values: readonly unknown[]): void {
    for (const value of values) this.add(value);
  }

  /** The values, once exactly their length were added. */
  full(): unknown[] {
    if (this.at !== this.values.length) throw new Error(`statement parameters: ${this.at} given, ${this.values.length} expected`);
    return this.values;
  }

  /** Empty again, holding on to no value (the array is kept for the next statement). */
  clear(): void {
    this.values.fill(null);
    this.at = 0;
  }
}

/**
 * Runs `statementFor(n)` (an n-row INSERT) over `rows` in full chunks, and the remainder row by
 * row: two statements per table, not one per remainder size, each holding its compiled program
 * in memory for the whole run. A failing statement changes nothing (SQLite backs it out) and
 * stops the rest; `progress.written` then says how many rows are in. `addParams` adds exactly
 * `paramsPerRow` values per row.
 */
export function insertChunked<T>(
  rows: readonly T[],
  paramsPerRow: number,
  statementFor: (count: number) => Statement,
  addParams: (row: T, params: StatementParams) => void,
  progress: { written: number } = { written: 0 },
): void {
  const per = rowsPerStatement(paramsPerRow, MAX_PARAMS, ROWS_PER_STATEMENT);
  const full = rows.length - (rows.length % per);
  const run = (statement: Statement, params: StatementParams, from: number, to: number): void => {
    try {
      for (let i = from; i < to; i += 1) addParams(rows[i] as T, params);
      // Spread, not one array: the driver reads an array element by element through V8's generic
      // property lookup, which cost a quarter of each INSERT (1M-row bench CSV, perf); arguments it
      // reads directly. 30,000 arguments are well within what a call may take.
      statement.run(...params.full());
    } finally {
      params.clear();
    }
    progress.written = to;
  };
  if (full > 0) {
    const many = statementFor(per);
    const params = paramsOf(per * paramsPerRow);
    for (let start = 0; start < full; start += per) run(many, params, start, start + per);
  }
  if (full === rows.length) return;
  const one = statementFor(1);
  const params = paramsOf(paramsPerRow);
  for (let i = full; i < rows.length; i += 1) run(one, params, i, i + 1);
}

/**
 * One StatementParams per length, kept: making a 1,100-value array for every slice's writes cost
 * 76 to 133 ms per 1M-row run (profile). Shared safely: insertChunked runs start
 * to end without yielding, never inside itself, and leaves them empty.
 */
const paramsByLength = new Map<number, StatementParams>();

function paramsOf(length: number): StatementParams {
  let params = paramsByLength.get(length);
  if (params === undefined) {
    params = new StatementParams(length);
    paramsByLength.set(length, params);
  }
  return params;
}
