import { displayValue, type Rejection } from '../../core/record.js';
import type { FieldType } from '../../core/settings.js';
import { canonicalTimestamp } from '../../core/timestamp.js';

export type Coerced = { ok: true; value: unknown } | { ok: false; rejection: Rejection };

const TRUE_WORDS = new Set(['true', 't', 'yes', 'y', '1']);
const FALSE_WORDS = new Set(['false', 'f', 'no', 'n', '0']);
const INTEGER_TEXT = /^[+-]?\d+$/;
const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Converts a value to a declared type. CSV gives text, JSON gives typed values: both are
 * accepted when they mean a value of the type. Integers beyond 2^53 stay exact as BigInt;
 * non-finite numbers (`1e309`, `NaN`) are refused rather than stored as Infinity or NULL.
 */
export function coerce(value: unknown, type: FieldType, field: string): Coerced {
  switch (type) {
    case 'string':
      return typeof value === 'object' && value !== null ? ok(JSON.stringify(value)) : ok(String(value));
    case 'number':
      return toNumber(value, field);
    case 'integer':
      return toInteger(value, field);
    case 'boolean':
      return toBoolean(value, field);
    case 'timestamp':
      return typeof value === 'string' && canonicalTimestamp(value) !== null ? ok(value) : bad(field, 'an ISO-8601 timestamp', value);
  }
}

function toNumber(value: unknown, field: string): Coerced {
  if (typeof value === 'number') return Number.isFinite(value) ? ok(value) : bad(field, 'a finite number', value);
  if (typeof value === 'bigint') return bad(field, 'a number within ±2^53 (declare the field integer to keep it exact)', value);
  if (typeof value === 'string' && NUMBER_TEXT.test(value)) {
    const number = Number(value);
    // A number column holds doubles: an integer it cannot hold exactly is refused, not rounded.
    // Only a value beyond 2^53 can be one, so the integer syntax is tested only then.
    const beyond = !Number.isSafeInteger(number) && (Number.isInteger(number) || !Number.isFinite(number));
    if (beyond && INTEGER_TEXT.test(value)) {
      return bad(field, `a number within ±2^53 (declare the field integer to keep ${value} exact)`, value);
    }
    return Number.isFinite(number) ? ok(number) : bad(field, 'a finite number', value);
  }
  return bad(field, 'a number', value);
}

function toInteger(value: unknown, field: string): Coerced {
  if (typeof value === 'bigint') return ok(value);
  if (typeof value === 'number') return Number.isSafeInteger(value) ? ok(value) : bad(field, 'an integer', value);
  if (typeof value === 'string' && INTEGER_TEXT.test(value)) {
    const number = Number(value);
    if (Number.isSafeInteger(number)) return ok(number);
    const big = BigInt(value);
    const fits = big >= -(2n ** 63n) && big < 2n ** 63n;
    return fits ? ok(big) : bad(field, 'an integer within 64 bits', value);
  }
  return bad(field, 'an integer', value);
}

function toBoolean(value: unknown, field: string): Coerced {
  if (typeof value === 'boolean') return ok(value);
  const word = typeof value === 'string' || typeof value === 'number' ? String(value).toLowerCase() : '';
  if (TRUE_WORDS.has(word)) return ok(true);
  if (FALSE_WORDS.has(word)) return ok(false);
  return bad(field, 'a boolean (true/false, yes/no, 1/0)', value);
}

function ok(value: unknown): Coerced {
  return { ok: true, value };
}

function bad(field: string, expected: string, found: unknown): Coerced {
  return { ok: false, rejection: { reason: 'invalid_type', field, message: `field ${field}: expected ${expected}, found ${displayValue(found)}` } };
}
