import { emptyFields, type Fields } from './record.js';

/**
 * Rows of one shape: each row holds its values in `columns` order (`undefined`: the record has
 * no such field). Tables stream this way: one array per row instead of one object, and the
 * column names once per batch, since exports are bound by per-row costs.
 */
export interface RowBatch {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly unknown[])[];
}

/** One row as a record's fields. */
export function rowFields(columns: readonly string[], values: readonly unknown[]): Fields {
  const fields = emptyFields();
  for (let i = 0; i < columns.length; i += 1) {
    if (values[i] !== undefined) fields[columns[i] as string] = values[i];
  }
  return fields;
}

/**
 * Groups records into batches: consecutive records with the same fields in the same order share
 * a batch (so each record keeps its own field order), at most `limit` rows each.
 */
export class RowBatcher {
  private columns: string[] = [];
  private rows: unknown[][] = [];

  constructor(private readonly limit: number) {}

  /** Adds a record; returns the batch it completed, if any. */
  add(fields: Fields): RowBatch | null {
    const keys = Object.keys(fields);
    const done = this.rows.length > 0 && (this.rows.length >= this.limit || !sameKeys(keys, this.columns)) ? this.take() : null;
    if (this.rows.length === 0) this.columns = keys;
    this.rows.push(keys.map((key) => fields[key]));
    return done;
  }

  /** The batch in progress, if it has rows. */
  take(): RowBatch | null {
    if (this.rows.length === 0) return null;
    const batch = { columns: this.columns, rows: this.rows };
    this.rows = [];
    return batch;
  }
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}
