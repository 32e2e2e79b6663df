import type { TargetRow, TargetSpec, WriteMode } from '../backend.js';
import { META, quoteIdent } from '../sql.js';
import { physicalName } from './identifiers.js';

/** The columns a write fills, in order: the data columns, then the bookkeeping ones. */
export interface WriteColumn {
  /** Name as stored (maybe truncated). */
  physical: string;
  value: (row: TargetRow, runId: number) => unknown;
}

export function writeColumns(spec: TargetSpec): WriteColumn[] {
  const columns: WriteColumn[] = spec.columns.map((c, i) => ({ physical: physicalName(c.name), value: (row: TargetRow) => row.values[i] }));
  columns.push(
    { physical: META.runId, value: (_row, runId) => runId },
    { physical: META.source, value: (row) => `${row.file}:${row.line}` },
    { physical: META.seq, value: (row) => row.seq },
  );
  if (spec.cursor !== null) columns.push({ physical: META.cursor, value: (row) => row.cursor });
  if (spec.rowHash) columns.push({ physical: META.hash, value: (row) => row.rowHash });
  return columns;
}

/**
 * The guard of each write mode, evaluated by the server per row (the same rules as SQLite's),
 * so concurrent writers of one run (parallel workers, later) cannot put an older record over a
 * newer one: `x` is the stored row, EXCLUDED the incoming one.
 */
const GUARDS: Record<Exclude<WriteMode, 'insert'>, string> = {
  'first-wins': `EXCLUDED.${META.runId} = x.${META.runId} AND EXCLUDED.${META.seq} < x.${META.seq}`,
  'last-wins': `EXCLUDED.${META.runId} > x.${META.runId} OR (EXCLUDED.${META.runId} = x.${META.runId} AND EXCLUDED.${META.seq} >= x.${META.seq})`,
  'newer-wins': `x.${META.cursor} IS NULL OR EXCLUDED.${META.cursor} > x.${META.cursor} OR (EXCLUDED.${META.cursor} = x.${META.cursor} AND EXCLUDED.${META.runId} = x.${META.runId} AND EXCLUDED.${META.seq} < x.${META.seq})`,
};

/**
 * Which staged row of a key survives when several reach the statement: PostgreSQL refuses to
 * update one row twice in a statement, and keys the merge plan keeps apart (the number 1 and
 * the text "1") are one value in a TEXT column. Same order as the guards.
 */
const WINNER_ORDER: Record<Exclude<WriteMode, 'insert'>, (seq: string, cursor: string) => string> = {
  'first-wins': (seq) => `${seq} ASC`,
  'last-wins': (seq) => `${seq} DESC`,
  'newer-wins': (seq, cursor) => `${cursor} DESC NULLS LAST, ${seq} ASC`,
};

/**
 * One set-based statement from the staging table `stage` (columns c0..cN in write order) into
 * the target: one winner per key, inserted in record order (so the identity row id follows the
 * input), existing keys updated only where the guard allows.
 */
export function upsertSql(table: string, stage: string, spec: TargetSpec, mode: Exclude<WriteMode, 'insert'>, columns: readonly WriteColumn[], uniqueKeys: boolean): string {
  const staged = columns.map((_c, i) => `c${i}`);
  const position = (name: string): string => `c${columns.findIndex((c) => c.physical === name)}`;
  const key = position(physicalName(spec.key as string));
  const seq = position(META.seq);
  const order = WINNER_ORDER[mode](seq, spec.cursor === null ? seq : position(META.cursor));
  const targetColumns = columns.map((c) => quoteIdent(c.physical));
  // The key is equal by definition of the conflict; leaving it out lets PostgreSQL update in place (HOT).
  const keyColumn = quoteIdent(physicalName(spec.key as string));
  const set = targetColumns
    .filter((c) => c !== keyColumn)
    .map((c) => `${c} = EXCLUDED.${c}`)
    .join(', ');
  // Keys already unique (the usual case, checked by the caller) need no DISTINCT ON pass.
  const source = uniqueKeys ? quoteIdent(stage) : `(SELECT DISTINCT ON (${key}) * FROM ${quoteIdent(stage)} ORDER BY ${key}, ${order})`;
  return `INSERT INTO ${quoteIdent(table)} AS x (${targetColumns.join(', ')})
    SELECT ${staged.join(', ')} FROM ${source} s ORDER BY ${seq}
    ON CONFLICT (${keyColumn}) DO UPDATE SET ${set} WHERE ${GUARDS[mode]}`;
}
