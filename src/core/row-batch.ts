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

/** Between two cells of a TextBatch row: two unit separators (0x1F), so that one in the data shows. */
export const TEXT_CELL_SEPARATOR = '\u001f\u001f';
/** Between two rows of a TextBatch (0x1E). */
export const TEXT_ROW_SEPARATOR = '\u001e';

/**
 * Rows the database wrote out as UTF-8 text itself, for exports bound by the cost of reading
 * values one by one: `count` rows joined by TEXT_ROW_SEPARATOR, their cells by
 * TEXT_CELL_SEPARATOR. Each cell is the text String() makes of the value the row holds in a
 * RowBatch ('' for null), so an encoder may take a cell for its value's text. The data may
 * itself hold a separator character: an encoder that cannot tell the cells apart reads
 * `rows()`, the same rows as values from the same snapshot.
 */
export interface TextBatch {
  readonly columns: readonly string[];
  readonly count: number;
  readonly bytes: Uint8Array;
  rows(): Promise<unknown[][]>;
  /**
   * Columns the source checked to hold no blank cell in this batch (an export's --require: no
   * null, no text that is only white space), so the text need not be read as values to check.
   */
  readonly nonBlank?: readonly string[];
}

/** What a table streams for export: rows as values, or (where the database is faster) as text. */
export type SourceBatch = RowBatch | TextBatch;

export function isTextBatch(batch: SourceBatch): batch is TextBatch {
  return 'bytes' in batch;
}

/** A batch's rows as values, whichever form it came in. */
export async function batchRows(batch: SourceBatch): Promise<readonly (readonly unknown[])[]> {
  return isTextBatch(batch) ? batch.rows() : batch.rows;
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
