import { SluiceError } from '../core/errors.js';
import type { Fields } from '../core/record.js';
import type { FieldType } from '../core/settings.js';
import type { ColumnSpec, ColumnType } from '../backends/backend.js';
import { isMetaColumn } from '../backends/sql.js';

/** The column whose name equals `name` in any case (itself first), if any. */
export function caseTwinIn(columns: Iterable<string>, name: string): string | undefined {
  const lower = name.toLowerCase();
  let twin: string | undefined;
  for (const column of columns) {
    if (column === name) return column;
    if (twin === undefined && column.toLowerCase() === lower) twin = column;
  }
  return twin;
}

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
 *
 * A field is stored in the column of its name, with two exceptions, each noted once: a field
 * named like sluice's own columns (`_sluice_*`, as in an `export --with-meta` file loaded again)
 * is not stored, since sluice writes its own; and a field that differs from a column only in
 * case (`ID` beside `id`, kept apart by --no-normalize) is stored as `ID_2`, since SQLite does
 * not tell such names apart (and PostgreSQL then gets the same table).
 */
export class ColumnSet {
  /** Column name → type, in first-seen order. */
  private readonly names = new Map<string, ColumnType>();
  /** Field name → the column storing it, or null for a field not stored; filled as fields appear. */
  private readonly columnOf = new Map<string, string | null>();
  /** Columns some field of this run is stored in. */
  private readonly claimed = new Set<string>();
  /** The field each column reads, in column order (rebuilt when a column is added). */
  private fieldsInOrder: string[] | null = null;
  version = 0;

  constructor(
    private readonly types: Readonly<Record<string, FieldType>>,
    existing: readonly ColumnSpec[] = [],
    private readonly note: (message: string) => void = () => {},
  ) {
    for (const column of existing) this.names.set(column.name, column.type);
  }

  /** Adds the record's new fields; returns the columns added (empty most of the time). */
  observe(fields: Fields): string[] {
    let added: string[] | null = null;
    for (const name in fields) {
      if (this.columnOf.has(name)) continue;
      const column = this.columnFor(name);
      this.columnOf.set(name, column);
      this.fieldsInOrder = null;
      if (column === null || this.names.has(column)) continue;
      const declared = Object.hasOwn(this.types, name) ? this.types[name] : undefined;
      this.names.set(column, declared ? COLUMN_TYPES[declared] : 'any');
      (added ??= []).push(column);
    }
    if (added === null) return [];
    this.version += 1;
    return added;
  }

  /**
   * The column of a field seen for the first time: its own name, else `NAME_2`, `NAME_3`...; a
   * candidate is taken when the table has it by that exact name and no field of this run is
   * stored there yet (so `ID` finds the `ID_2` an earlier run made), or when no column has it
   * in any case.
   */
  private columnFor(field: string): string | null {
    if (isMetaColumn(field)) {
      this.note(`field "${field}" is named like sluice's own columns (_sluice_*): its values are not stored, sluice writes its own`);
      return null;
    }
    for (let n = 1; ; n += 1) {
      const candidate = n === 1 ? field : `${field}_${n}`;
      const twin = this.caseTwin(candidate);
      const free = twin === undefined || (twin === candidate && !this.claimed.has(candidate));
      if (!free) continue;
      this.claimed.add(candidate);
      if (n > 1) {
        const clash = this.caseTwin(field) ?? field;
        this.note(`field "${field}" differs from column "${clash}" only in case, which SQLite does not tell apart: stored as "${candidate}"`);
      }
      return candidate;
    }
  }

  /** Runs only for a field not seen before. */
  private caseTwin(name: string): string | undefined {
    return this.names.has(name) ? name : caseTwinIn(this.names.keys(), name);
  }

  /** A record's values in column order (what TargetRow.values holds); call observe first. */
  valuesOf(fields: Fields): unknown[] {
    const order = (this.fieldsInOrder ??= this.fieldOfEachColumn());
    const values = new Array<unknown>(order.length);
    for (let i = 0; i < order.length; i += 1) values[i] = fields[order[i] as string];
    return values;
  }

  private fieldOfEachColumn(): string[] {
    const fieldOf = new Map<string, string>();
    for (const [field, column] of this.columnOf) if (column !== null) fieldOf.set(column, field);
    return [...this.names.keys()].map((column) => fieldOf.get(column) ?? column);
  }

  /**
   * Makes sure a column exists even before any record has it (the key of a keyed table). The
   * key must keep its name: a table whose column differs from it only in case is refused.
   */
  include(name: string): void {
    const twin = this.columnOf.has(name) ? undefined : this.caseTwin(name);
    if (twin !== undefined && twin !== name) {
      throw new SluiceError('CONFIG_INVALID', `--key ${name} differs only in case from the table's column ${twin}, which SQLite does not tell apart`, {
        hint: `use --key ${twin}`,
      });
    }
    const fields = Object.create(null) as Fields;
    fields[name] = null;
    this.observe(fields);
  }

  /** The columns these fields are stored in (a field not stored has none). */
  columnsOf(fields: Iterable<string>): Set<string> {
    const columns = new Set<string>();
    for (const field of fields) {
      const column = this.columnOf.has(field) ? this.columnOf.get(field) : field;
      if (column !== null && column !== undefined) columns.add(column);
    }
    return columns;
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  list(): ColumnSpec[] {
    return [...this.names].map(([name, type]) => ({ name, type }));
  }
}
