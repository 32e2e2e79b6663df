import type { Fields } from '../core/record.js';
import type { FieldType } from '../core/settings.js';
import type { ColumnSpec, ColumnType } from '../backends/backend.js';

const COLUMN_TYPES: Record<FieldType, ColumnType> = {
  string: 'text',
  number: 'real',
  integer: 'integer',
  boolean: 'boolean',
  timestamp: 'text',
};

/**
 * The target's data columns: the union of the records' fields in first-seen order, typed where
 * the user declared a type. `version` changes whenever a column is added, so the table is
 * altered only then.
 */
export class ColumnSet {
  private readonly names = new Map<string, ColumnType>();
  private ordered: string[] | null = null;
  version = 0;

  constructor(
    private readonly types: Readonly<Record<string, FieldType>>,
    existing: readonly ColumnSpec[] = [],
  ) {
    for (const column of existing) this.names.set(column.name, column.type);
  }

  /** Adds the record's new fields; returns them (empty most of the time). */
  observe(fields: Fields): string[] {
    let added: string[] | null = null;
    for (const name in fields) {
      if (this.names.has(name)) continue;
      const declared = Object.hasOwn(this.types, name) ? this.types[name] : undefined;
      this.names.set(name, declared ? COLUMN_TYPES[declared] : 'any');
      (added ??= []).push(name);
    }
    if (added === null) return [];
    this.version += 1;
    this.ordered = null;
    return added;
  }

  /** A record's values in column order (what TargetRow.values holds); call observe first. */
  valuesOf(fields: Fields): unknown[] {
    const names = (this.ordered ??= [...this.names.keys()]);
    const values = new Array<unknown>(names.length);
    for (let i = 0; i < names.length; i += 1) values[i] = fields[names[i] as string];
    return values;
  }

  /** Makes sure a column exists even before any record has it (the key of a keyed table). */
  include(name: string): void {
    const fields = Object.create(null) as Fields;
    fields[name] = null;
    this.observe(fields);
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  list(): ColumnSpec[] {
    return [...this.names].map(([name, type]) => ({ name, type }));
  }
}

const INHERITED: Partial<Record<ColumnType, FieldType>> = { real: 'number', integer: 'integer', boolean: 'boolean' };

/**
 * A typed column of an existing table types its field for this run too, so a value that does
 * not fit becomes a dead letter here instead of failing the batch (PostgreSQL) or being stored
 * as text in a number column (SQLite). Types given for this run win.
 */
export function inheritColumnTypes(types: Record<string, FieldType>, columns: readonly ColumnSpec[]): void {
  for (const column of columns) {
    const inherited = INHERITED[column.type];
    if (inherited !== undefined && !Object.hasOwn(types, column.name)) types[column.name] = inherited;
  }
}
