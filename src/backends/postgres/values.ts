import pg from 'pg';
import { SluiceError } from '../../core/errors.js';
import type { ColumnType } from '../backend.js';

/**
 * Column types on PostgreSQL, chosen deliberately:
 * - `any` (no declared type) is TEXT. The dominant input is CSV, whose values are text anyway,
 *   and TEXT keeps every value exactly as given (a JSON number 9007199254740993 stays exact,
 *   `1.50` stays a number's shortest text) while `WHERE email = 'x'` and every SQL tool just
 *   work. JSONB would keep JSON's number/string distinction but turn every CSV column into
 *   quoted JSON strings. The price: a JSON number or boolean in an undeclared column reads
 *   back as text (`42`, `true`); declare it with --type to get a numeric or boolean column.
 *   Nested objects and arrays are stored as JSON text, as on SQLite.
 * - declared `number` → DOUBLE PRECISION, `integer` → BIGINT (validation keeps integers within
 *   64 bits, exact), `boolean` → BOOLEAN, `string`/`timestamp` → TEXT (a timestamp stays the
 *   text given; its sortable form lives in `_sluice_cursor`).
 */
export const PG_TYPES: Readonly<Record<ColumnType, string>> = {
  any: 'TEXT',
  text: 'TEXT',
  real: 'DOUBLE PRECISION',
  integer: 'BIGINT',
  boolean: 'BOOLEAN',
};

/**
 * A catalog type (format_type) back to the abstract column type. format_type writes a type's
 * modifier too (`numeric(10,2)`, `character varying(5)`): a table the user made is typed by it.
 */
export function columnTypeOf(pgType: string): ColumnType {
  switch (pgType.replace(/\(.*\)$/, '')) {
    case 'bigint':
    case 'integer':
    case 'smallint':
      return 'integer';
    case 'double precision':
    case 'real':
    case 'numeric':
      return 'real';
    case 'boolean':
      return 'boolean';
    default:
      return 'text';
  }
}

/** BIGINT back as a number where that is exact, else as BigInt (never rounded). */
function parseInt8(text: string): number | bigint {
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : BigInt(text);
}

const keepText = (text: string): string => text;
const TIMESTAMP_OIDS = [1082, 1083, 1114, 1184, 1266];

/**
 * Per-client type parsers (never the process-wide pg.types, which a library must not change):
 * BIGINT exact, dates and timestamps as the text the server holds.
 */
export const TYPE_PARSERS: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (format !== 'binary') {
      if (oid === 20) return parseInt8;
      if (TIMESTAMP_OIDS.includes(oid)) return keepText;
    }
    return pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** JSON text of a nested value, BigInt kept exact. */
function jsonText(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** A JS value as the text PostgreSQL parses for a column (null for SQL NULL). */
export function toPgText(value: unknown): string | null {
  switch (typeof value) {
    case 'undefined':
      return null;
    case 'string':
      return value;
    case 'number':
    case 'bigint':
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      return value === null ? null : Buffer.isBuffer(value) ? `\\x${value.toString('hex')}` : jsonText(value);
    default:
      return String(value);
  }
}

const NEEDS_ESCAPE = /[\\\n\r\t\0]/;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * One field of COPY's text format: backslash, tab, newline and carriage return escaped, NULL as
 * `\N`. PostgreSQL cannot store a NUL character in text at all; validation already turns such
 * values into dead letters, so one reaching here is a bug worth a clear error.
 */
export function copyField(value: unknown): string {
  const text = toPgText(value);
  if (text === null) return '\\N';
  if (!NEEDS_ESCAPE.test(text)) return text;
  if (text.includes('\0')) {
    throw new SluiceError('BACKEND_QUERY', `a value contains a NUL byte (U+0000), which PostgreSQL cannot store in text: ${JSON.stringify(text.slice(0, 60))}`);
  }
  return text.replace(/[\\\n\r\t]/g, (c) => ESCAPES[c] as string);
}

/**
 * Ledger text (raw records, messages, paths) must never fail a batch: a NUL is kept visible as
 * the six characters `\u0000`, the way JSON writes it. The one place PostgreSQL's ledger differs
 * from SQLite's, which stores the NUL itself.
 */
export function ledgerText(value: string | null): string | null {
  return value === null || !value.includes('\0') ? value : value.replaceAll('\0', '\\u0000');
}

/** Rows of COPY text format in chunks of about 64 KiB: few writes, bounded memory. */
export function* copyChunks<T>(rows: readonly T[], fields: (row: T) => readonly unknown[]): Generator<string> {
  let chunk = '';
  for (const row of rows) {
    chunk += fields(row).map(copyField).join('\t') + '\n';
    if (chunk.length >= 65_536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}
