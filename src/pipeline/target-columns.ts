import type { ColumnSpec, ColumnType } from '../backends/backend.js';
import type { FieldType } from '../core/settings.js';
import { ColumnSet } from './columns.js';

const INHERITED: Partial<Record<ColumnType, FieldType>> = { real: 'number', integer: 'integer', boolean: 'boolean' };

export interface TargetColumns {
  columns: ColumnSet;
  /** The key's values are stored and compared as their text (see keyComparesAsText). */
  keyAsText: boolean;
}

/**
 * The run's target columns. A typed column of an existing table types its field for this run
 * too, so a value that does not fit becomes a dead letter here instead of failing the batch
 * (PostgreSQL) or being stored as text in a number column (SQLite). Types given for this run win.
 * `types` is completed in place: validation applies the inherited types.
 */
export function targetColumnSet(types: Record<string, FieldType>, existing: readonly ColumnSpec[], tableKey: string | null, note?: (message: string) => void): TargetColumns {
  for (const column of existing) {
    const inherited = INHERITED[column.type];
    if (inherited !== undefined && !Object.hasOwn(types, column.name)) types[column.name] = inherited;
  }
  const keyAsText = tableKey !== null && keyComparesAsText(tableKey, types, existing);
  const columnTypes = keyAsText ? { ...types, [tableKey]: 'string' as const } : types;
  const columns = new ColumnSet(columnTypes, existing, note);
  if (tableKey !== null) columns.include(tableKey);
  return { columns, keyAsText };
}

/**
 * Whether an undeclared key is one text value, whatever the type it came with: JSON's `1`,
 * `"1"` and CSV's `1` are one key, `true` is the key `true`, on every backend. The merge plans
 * by the key's identity and must see two values as one key exactly when the database does. A
 * text column (PostgreSQL's columns for undeclared fields, a user's TEXT column on SQLite, a
 * new table's key column) compares the text, so the key is made text before it is planned and
 * stored. The exception is a key column made untyped on SQLite by an earlier version: it keeps
 * each value's type (`1` and `"1"` are two rows there), and rows already in it stay reachable.
 */
function keyComparesAsText(key: string, types: Readonly<Record<string, FieldType>>, existing: readonly ColumnSpec[]): boolean {
  if (Object.hasOwn(types, key)) return false;
  const column = existing.find((c) => c.name === key);
  return column === undefined || column.type === 'text';
}
