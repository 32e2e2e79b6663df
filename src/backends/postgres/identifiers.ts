import { createHash } from 'node:crypto';
import { SluiceError } from '../../core/errors.js';

/** PostgreSQL keeps the first NAMEDATALEN-1 = 63 bytes of an identifier and drops the rest. */
export const MAX_IDENTIFIER_BYTES = 63;

/**
 * The name PostgreSQL stores for `name`: its first 63 bytes of UTF-8, cut at a character
 * boundary the way the server does (it never splits a multibyte character).
 */
export function physicalName(name: string): string {
  if (Buffer.byteLength(name, 'utf8') <= MAX_IDENTIFIER_BYTES) return name;
  let bytes = 0;
  let end = 0;
  for (const char of name) {
    const size = Buffer.byteLength(char, 'utf8');
    if (bytes + size > MAX_IDENTIFIER_BYTES) break;
    bytes += size;
    end += char.length;
  }
  return name.slice(0, end);
}

export function isTruncated(name: string): boolean {
  return physicalName(name) !== name;
}

/**
 * A table name must survive as given: a longer one would silently become the same table as
 * any other name with the same first 63 bytes.
 */
export function checkTableName(table: string): void {
  if (table === '') throw new SluiceError('BACKEND_SCHEMA', 'the table name is empty', { hint: 'give a name with --table' });
  if (isTruncated(table)) {
    throw new SluiceError('BACKEND_SCHEMA', `table name ${JSON.stringify(table)} is ${Buffer.byteLength(table)} bytes long; PostgreSQL keeps only the first ${MAX_IDENTIFIER_BYTES}`, {
      hint: 'use a shorter --table name',
    });
  }
}

/**
 * Maps column names to the names PostgreSQL stores and refuses two different names that would
 * be stored as one (equal in their first 63 bytes): one column silently taking both fields'
 * values would lose data. `known` holds the table's columns, physical → full name.
 */
export function assignColumn(known: Map<string, string>, name: string, table: string): string {
  if (name === '') {
    throw new SluiceError('BACKEND_SCHEMA', `a field of table ${table} has an empty name, which PostgreSQL cannot use as a column name`, {
      hint: 'rename the field with --transform, or fix the input',
    });
  }
  const physical = physicalName(name);
  const holder = known.get(physical);
  if (holder !== undefined && holder !== name) {
    throw new SluiceError('BACKEND_SCHEMA', `columns ${JSON.stringify(holder)} and ${JSON.stringify(name)} of table ${table} are equal in their first ${MAX_IDENTIFIER_BYTES} bytes, so PostgreSQL would store them as one column ${JSON.stringify(physical)}`, {
      field: name,
      hint: 'rename one of the fields (a shorter CSV header, or --transform), then run again',
    });
  }
  known.set(physical, name);
  return physical;
}

/** Index names derived from a table name: short, unique per table, renamed with the table. */
export function indexName(table: string, purpose: 'key' | 'hash'): string {
  const digest = createHash('sha256').update(table).digest('hex').slice(0, 16);
  return `_sluice_${purpose}_${digest}`;
}

/**
 * The advisory-lock key of a pipeline: 64 bits of a hash of (schema, pipeline), so pipelines in
 * different schemas of one database never block each other.
 */
export function lockKey(schema: string, pipeline: string): bigint {
  const digest = createHash('sha256').update(`${schema}\u0000${pipeline}`).digest();
  return digest.readBigInt64BE(0);
}
