import type { TextBatch } from '../../core/row-batch.js';
import { csvFromText } from './csv-text.js';
import { csvHeader, csvLine, type CsvOptions } from './csv.js';
import type { ExportFormat } from './types.js';

/** Encodes one row: its values in the order of the columns the encoder was made for. */
export type RowEncoder = (values: readonly unknown[]) => string;

/** Turns rows into the text of one output format. */
export interface RecordEncoder {
  /** Text before the first record. */
  head(): string;
  /**
   * The encoder of rows with these columns, made once per column list (a table streams one list
   * for all its rows). Throws when such rows cannot be written (a field the CSV header lacks).
   */
  rows(columns: readonly string[]): RowEncoder;
  /**
   * A batch the database wrote out as text, as this format's bytes, or null: it must be encoded
   * from its values. Absent: every batch is encoded from values.
   */
  text?(batch: TextBatch): Uint8Array | null;
  /** Text after the last record. */
  tail(): string;
}

export interface EncoderOptions extends CsvOptions {
  /** CSV header, in order; every field a record has must be one of them. */
  columns: readonly string[];
}

export function createEncoder(format: ExportFormat, options: EncoderOptions): RecordEncoder {
  switch (format) {
    case 'json':
      return new JsonArrayEncoder();
    case 'ndjson':
      return { head: () => '', rows: (columns) => jsonObjects(columns, '', '\n'), tail: () => '' };
    case 'csv':
      return new CsvEncoder(options);
  }
}

/**
 * Rows as JSON objects, built member by member: a value `undefined` (no such field) is left out
 * as JSON.stringify would, and integers beyond 2^53 (BigInt from the database) are written as
 * exact JSON numbers, which JSON.stringify refuses.
 */
function jsonObjects(columns: readonly string[], before: string, after: string): RowEncoder {
  const names = columns.map((name) => `${JSON.stringify(name)}:`);
  return (values) => {
    let text = '';
    for (let i = 0; i < names.length; i += 1) {
      const value = values[i];
      if (value === undefined) continue;
      text += (text === '' ? '' : ',') + (names[i] as string) + jsonValue(value);
    }
    return `${before}{${text}}${after}`;
  };
}

function jsonValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'bigint':
    case 'boolean':
      return String(value);
    default:
      // null, objects, arrays, dates: as JSON.stringify writes them (a nested BigInt throws).
      return JSON.stringify(value) ?? 'null';
  }
}

/** A JSON array with one record per line: valid JSON that still streams and diffs well. */
class JsonArrayEncoder implements RecordEncoder {
  private count = 0;

  head(): string {
    return '[';
  }

  rows(columns: readonly string[]): RowEncoder {
    const object = jsonObjects(columns, '', '');
    return (values) => ((this.count += 1) === 1 ? '\n' : ',\n') + object(values);
  }

  tail(): string {
    return this.count === 0 ? ']\n' : '\n]\n';
  }
}

class CsvEncoder implements RecordEncoder {
  private readonly position: ReadonlyMap<string, number>;

  constructor(private readonly options: EncoderOptions) {
    this.position = new Map(options.columns.map((name, i) => [name, i]));
  }

  head(): string {
    return this.options.columns.length === 0 ? '' : csvHeader(this.options.columns, this.options);
  }

  rows(columns: readonly string[]): RowEncoder {
    const header = this.options.columns;
    // The header is fixed before writing; a field it lacks would be silently dropped.
    const positions = columns.map((name) => {
      const at = this.position.get(name);
      if (at === undefined) throw new Error(`it has a field "${name}" that is not in the header (the source changed during the export)`);
      return at;
    });
    const inOrder = positions.length === header.length && positions.every((at, i) => at === i);
    return inOrder ? (values) => csvLine(values, this.options) : (values) => csvLine(reorder(values, positions, header.length), this.options);
  }

  text(batch: TextBatch): Uint8Array | null {
    const header = this.options.columns;
    const inOrder = batch.columns.length === header.length && batch.columns.every((name, i) => name === header[i]);
    return inOrder ? csvFromText(batch, this.options) : null;
  }

  tail(): string {
    return '';
  }
}

function reorder(values: readonly unknown[], positions: readonly number[], width: number): unknown[] {
  const row = new Array<unknown>(width);
  for (let i = 0; i < positions.length; i += 1) row[positions[i] as number] = values[i];
  return row;
}
