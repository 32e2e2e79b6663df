import type { Fields } from '../../core/record.js';
import { csvHeader, csvLine, type CsvOptions } from './csv.js';
import type { ExportFormat } from './types.js';

/** Turns records into the text of one output format, one record at a time. */
export interface RecordEncoder {
  /** Text before the first record. */
  head(): string;
  /** One record's text, with whatever separates it from the previous one. */
  record(fields: Fields): string;
  /** Text after the last record. */
  tail(): string;
}

export interface EncoderOptions extends CsvOptions {
  /** CSV header, in order; every field a record has must be one of them. */
  columns: readonly string[];
  /**
   * Check every record's fields against the header (a header from a pass over a file, which may
   * change between passes), or only the first one's (a table's schema: one SELECT gives every
   * row the same fields, so the first row proves the header; checking each row costs a third of
   * the encoding time).
   */
  checkEveryRecord: boolean;
}

export function createEncoder(format: ExportFormat, options: EncoderOptions): RecordEncoder {
  switch (format) {
    case 'json':
      return new JsonArrayEncoder();
    case 'ndjson':
      return { head: () => '', record: (fields) => `${jsonObject(fields)}\n`, tail: () => '' };
    case 'csv':
      return new CsvEncoder(options);
  }
}

/**
 * A record as JSON text. Integers beyond 2^53 come from the database as BigInt, which
 * JSON.stringify refuses; they are written as exact JSON numbers. The common case stays on the
 * fast native path; only a record that holds a BigInt takes the field-by-field one.
 */
export function jsonObject(fields: Fields): string {
  try {
    return JSON.stringify(fields);
  } catch (error) {
    if (!Object.values(fields).some((value) => typeof value === 'bigint')) throw error;
    // Like JSON.stringify, a field whose value is undefined is left out.
    const members = Object.keys(fields)
      .filter((key) => fields[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${jsonValue(fields[key])}`);
    return `{${members.join(',')}}`;
  }
}

function jsonValue(value: unknown): string {
  return typeof value === 'bigint' ? value.toString() : JSON.stringify(value);
}

/** A JSON array with one record per line: valid JSON that still streams and diffs well. */
class JsonArrayEncoder implements RecordEncoder {
  private count = 0;

  head(): string {
    return '[';
  }

  record(fields: Fields): string {
    this.count += 1;
    return (this.count === 1 ? '\n' : ',\n') + jsonObject(fields);
  }

  tail(): string {
    return this.count === 0 ? ']\n' : '\n]\n';
  }
}

class CsvEncoder implements RecordEncoder {
  private readonly known: ReadonlySet<string>;
  private checked = false;

  constructor(private readonly options: EncoderOptions) {
    this.known = new Set(options.columns);
  }

  head(): string {
    return this.options.columns.length === 0 ? '' : csvHeader(this.options.columns, this.options);
  }

  record(fields: Fields): string {
    if (this.options.checkEveryRecord || !this.checked) this.checkFields(fields);
    return csvLine(fields, this.options.columns, this.options);
  }

  /** The header is fixed before writing; a field it lacks would be silently dropped. */
  private checkFields(fields: Fields): void {
    this.checked = true;
    for (const key in fields) {
      if (!this.known.has(key)) {
        throw new Error(`it has a field "${key}" that is not in the header (the source changed during the export)`);
      }
    }
  }

  tail(): string {
    return '';
  }
}
