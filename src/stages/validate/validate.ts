import { readFileSync } from 'node:fs';
import type { Ajv, ValidateFunction } from 'ajv';
import { SluiceError, describeErrno } from '../../core/errors.js';
import { displayValue, type Fields, type Rejection } from '../../core/record.js';
import type { FieldType } from '../../core/settings.js';
import { coerce } from './coerce.js';

export interface ValidateRules {
  require: readonly string[];
  types: Readonly<Record<string, FieldType>>;
  /** A compiled JSON Schema, checked after types are applied. */
  schema: ValidateFunction | null;
}

/** Missing, null and empty text all count as "not there" for a required field. */
function isBlank(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/**
 * Checks one record and applies declared types in place. Returns null when the record passes,
 * or the first reason it does not: a rejection becomes a dead letter, never an exception.
 */
export function validateRecord(fields: Fields, rules: ValidateRules): Rejection | null {
  for (const field of rules.require) {
    if (isBlank(fields[field])) {
      return { reason: 'missing_required', field, message: `required field ${field} is missing or empty` };
    }
  }
  for (const field in rules.types) {
    const value = fields[field];
    if (isBlank(value)) {
      if (value === '') fields[field] = null;
      continue;
    }
    const coerced = coerce(value, rules.types[field] as FieldType, field);
    if (!coerced.ok) return coerced.rejection;
    fields[field] = coerced.value;
  }
  const nul = findNul(fields);
  if (nul !== null) {
    return { reason: 'unsupported_value', field: nul, message: `field ${nul} contains a NUL byte (U+0000), which databases cannot store in text` };
  }
  if (rules.schema !== null && !rules.schema(fields)) return schemaRejection(rules.schema, fields);
  return null;
}

function findNul(fields: Fields): string | null {
  for (const field in fields) {
    const value = fields[field];
    if (typeof value === 'string' && value.includes('\u0000')) return field;
  }
  return null;
}

function schemaRejection(schema: ValidateFunction, fields: Fields): Rejection {
  const error = schema.errors?.[0];
  const pointer = error?.instancePath ?? '';
  const path = pointer.replace(/^\//, '').replaceAll('/', '.');
  const missing = (error?.params as { missingProperty?: string } | undefined)?.missingProperty;
  const field = missing ?? (path === '' ? null : path);
  const where = field === null ? 'record' : `field ${field}`;
  let found = '';
  if (missing === undefined && path !== '') {
    const value = valueAt(fields, pointer);
    found = `, found ${displayValue(value)}`;
    // CSV gives text: a schema asking for a number or integer needs the field declared.
    if (error?.keyword === 'type' && typeof value === 'string' && !path.includes('.')) found += ` (text: declare --type ${path}=number or =integer to convert it)`;
  }
  return { reason: 'schema_violation', field, message: `${where}: ${error?.message ?? 'does not match the schema'}${found} (JSON Schema)` };
}

/** The value at a JSON Pointer (`/a/0/b`) in the record. */
function valueAt(fields: Fields, pointer: string): unknown {
  let value: unknown = fields;
  for (const part of pointer.split('/').slice(1)) {
    const key = part.replaceAll('~1', '/').replaceAll('~0', '~');
    value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  }
  return value;
}

/**
 * Loads and compiles a JSON Schema file; a bad file is a configuration error (exit 2). Ajv is
 * imported here, not at start-up: most runs have no schema and every command starts faster.
 */
export async function compileSchemaFile(file: string): Promise<ValidateFunction> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SluiceError('CONFIG_FILE', `cannot read schema ${file}: ${describeErrno(error)}`, { file });
  }
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (error) {
    throw new SluiceError('CONFIG_FILE', `schema ${file} is not valid JSON: ${(error as Error).message}`, { file });
  }
  const { Ajv } = await import('ajv');
  const addFormatsModule = (await import('ajv-formats')).default;
  try {
    const ajv = new Ajv({ allErrors: false, strict: false, coerceTypes: false });
    const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
    addFormats(ajv);
    return ajv.compile(schema as object);
  } catch (error) {
    throw new SluiceError('CONFIG_FILE', `schema ${file} is not a valid JSON Schema: ${(error as Error).message}`, { file });
  }
}
