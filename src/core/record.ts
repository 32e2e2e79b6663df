/** A record's fields. Always created with a null prototype so keys like `__proto__` are plain data. */
export type Fields = Record<string, unknown>;

export function emptyFields(): Fields {
  return Object.create(null) as Fields;
}

/** Copies an object's own enumerable fields into a null-prototype object. */
export function toFields(source: object): Fields {
  const fields = emptyFields();
  for (const key of Object.keys(source)) {
    fields[key] = (source as Record<string, unknown>)[key];
  }
  return fields;
}

/** Where a record came from: enough to find it again in the file. */
export interface Provenance {
  file: string;
  /** 1-based line where the record starts. */
  line: number;
  /** 1-based ordinal of the record in its file (after transform fan-out: of the output record). */
  position: number;
}

/** A record on its way through the stages. */
export interface SluiceRecord extends Provenance {
  fields: Fields;
  /** The record as read, for dead letters. */
  raw: string;
}

/** Why a record was rejected. Stable codes: users filter dead letters by them. */
export type ReasonCode =
  | 'malformed_row'
  | 'missing_required'
  | 'invalid_type'
  | 'schema_violation'
  | 'transform_error'
  | 'missing_cursor'
  | 'invalid_cursor'
  | 'missing_key'
  | 'unsupported_value'
  /** The target table refused the record: a constraint of the table, or a column it cannot fit. */
  | 'refused_by_table';

export interface Rejection {
  reason: ReasonCode;
  field: string | null;
  message: string;
}

/** What a record-level stage returns: the record to pass on, or why it stops here. */
export type StageResult = { ok: true; record: SluiceRecord } | { ok: false; rejection: Rejection };

export function reject(reason: ReasonCode, field: string | null, message: string): StageResult {
  return { ok: false, rejection: { reason, field, message } };
}

/**
 * Lineage steps, one per record per step. `discard`: loaded into a replace run's new table, which
 * was not swapped in because a file failed (the table kept its rows from before the run).
 */
export type LineageStep = 'stage' | 'load' | 'discard' | 'reject' | 'skip-stale' | 'skip-duplicate' | 'skip-watermark' | 'drop';

export function sourceLabel(p: Provenance): string {
  return `${p.file}:${p.line}`;
}

/** A value as a message shows it: JSON where possible, never throwing (bigint, cycles). */
export function displayValue(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return String(value);
  }
}

/**
 * Identity of a key value as the database compares it: text and numbers differ (`'1'` is not
 * `1`), a number and a BigInt of the same value are the same, booleans are stored as 1/0.
 * Text, nearly every key, is its own identity (no new string per record); the others start with
 * U+0000, which text then cannot (a field holding it is rejected before merge; should one start
 * with it anyway, it gets a prefix too).
 */
export function keyIdentity(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value.charCodeAt(0) === 0 ? `\u0000s:${value}` : value;
    case 'number':
    case 'bigint':
      return `\u0000n:${String(value)}`;
    case 'boolean':
      return value ? '\u0000n:1' : '\u0000n:0';
    default:
      return `\u0000j:${displayValue(value)}`;
  }
}
