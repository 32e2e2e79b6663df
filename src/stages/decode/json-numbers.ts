/**
 * Numbers JSON.parse cannot keep exactly. An integer literal beyond ±2^53 (9007199254740993) is
 * silently rounded by JSON.parse, and 1e309 becomes Infinity: loading either would store a value
 * that is not in the file. Such a record becomes an `unsupported_value` problem naming the field.
 *
 * Cheap first (records json-screen.ts did not clear): walk the parsed value for numbers at or
 * beyond ±2^53 or infinite. Exact second (rare): find the offending literal in the source text,
 * since the parsed value has already lost it (2^53 itself and 1e20 are exact and pass).
 */
import { isName, stringEnd } from './json-scan.js';

const LIMIT = 2 ** 53;
const BIG_LIMIT = 2n ** 53n;
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** A parsed number at or beyond ±2^53, or not finite, may not be what its literal says. */
export function isSuspectNumber(value: number): boolean {
  return !(value > -LIMIT && value < LIMIT);
}

/** True if some number in `value` might not be what its literal says. */
export function hasSuspectNumber(value: unknown): boolean {
  if (typeof value === 'number') return isSuspectNumber(value);
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (hasSuspectNumber(item)) return true;
    return false;
  }
  for (const key in value) {
    if (hasSuspectNumber((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

export interface UnsafeNumber {
  /** The top-level field holding the number (null outside an object). */
  field: string | null;
  literal: string;
  message: string;
}

function describeUnsafe(literal: string, field: string | null): string | null {
  const where = field === null ? '' : ` in field ${field}`;
  if (!Number.isFinite(Number(literal))) {
    return `number ${literal}${where} is beyond the range of a double and would become Infinity; quote it as a string in the source`;
  }
  const match = /^(-?\d+)(?:\.(0+))?$/.exec(literal); // an integer, possibly written 123.0
  if (!match) return null;
  const big = BigInt(match[1] as string);
  if (big <= BIG_LIMIT && big >= -BIG_LIMIT) return null;
  return `integer ${literal}${where} exceeds 2^53 and cannot be stored exactly; quote it as a string in the source`;
}

/** The first number literal in valid JSON `raw` that JSON.parse cannot represent exactly. */
export function findUnsafeNumber(raw: string): UnsafeNumber | null {
  let depth = 0;
  let field: string | null = null;
  for (let i = 0; i < raw.length; ) {
    const c = raw.charCodeAt(i);
    if (c === 34) {
      const end = stringEnd(raw, i);
      // A string directly inside the top-level object and followed by ':' is a field name.
      if (depth === 1 && isName(raw, end)) field = JSON.parse(raw.slice(i, end)) as string;
      i = end;
    } else if (c === 123 || c === 91) {
      depth++;
      i++;
    } else if (c === 125 || c === 93) {
      depth--;
      i++;
    } else if (c === 45 || (c >= 48 && c <= 57)) {
      NUMBER.lastIndex = i;
      const literal = (NUMBER.exec(raw) as RegExpExecArray)[0];
      const message = describeUnsafe(literal, field);
      if (message) return { field, literal, message };
      i += literal.length;
    } else i++;
  }
  return null;
}
