/** A parsed JSON value → a record's fields, or the problem that keeps it from being one. */
import type { Fields } from '../../core/record.js';
import { findDuplicateName } from './json-duplicates.js';
import { findUnsafeNumber, hasSuspectNumber } from './json-numbers.js';
import { needsExactCheck } from './json-screen.js';
import { Problem } from './problem.js';

export function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * V8's reason without the copy of the input it appends (`Unexpected token 'x', "<input>" is not
 * valid JSON`) and without its `in JSON at position N` (callers say where, in their own terms).
 */
export function jsonSyntaxReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/^".*" is not valid JSON$/s.test(message)) return 'unexpected text';
  return message.replace(/, ".*" is not valid JSON$/s, '').replace(/ in JSON at position \d+$/, '');
}

/** Whether JSON.parse(text) fails before reaching the end of `text` (not just for want of more). */
function failsBeforeEnd(text: string): boolean {
  try {
    JSON.parse(text);
    return false;
  } catch (error) {
    const message = (error as Error).message;
    if (message.startsWith('Unexpected end of JSON input')) return false;
    const at = / at position (\d+)/.exec(message);
    return at ? Number(at[1]) < text.length : true;
  }
}

/**
 * Index in `raw` of what JSON.parse rejected. V8 gives the position for most errors but not for
 * "Unexpected token"; then the shortest prefix that already fails ends at the culprit (prefixes of
 * a valid start fail only at their end), found by bisection. Error path only.
 */
export function syntaxErrorIndex(raw: string, error: unknown): number {
  const at = / at position (\d+)/.exec(error instanceof Error ? error.message : '');
  if (at) return Math.min(Number(at[1]), raw.length);
  let [low, high] = [1, raw.length];
  while (low < high) {
    const middle = (low + high) >> 1;
    if (failsBeforeEnd(raw.slice(0, middle))) high = middle;
    else low = middle + 1;
  }
  return low - 1;
}

/** A number JSON.parse could not keep, or a name given twice: the text says which. */
function exactProblem(value: object, raw: string, what: string): Problem | null {
  if (hasSuspectNumber(value)) {
    const unsafe = findUnsafeNumber(raw);
    if (unsafe) return new Problem('unsupported_value', unsafe.field, `${what}: ${unsafe.message}`);
  }
  const duplicate = findDuplicateName(raw);
  return duplicate ? new Problem('malformed_row', duplicate.field, `${what}: ${duplicate.message}`) : null;
}

/**
 * `value` as fields if it is a JSON object whose numbers are all exact and whose names are each
 * given once. `what` names the record in messages, e.g. `line 4` or `line 4: array element 3`.
 */
export function objectFields(value: unknown, raw: string, what: string): Fields | Problem {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return new Problem('malformed_row', null, `${what}: expected a JSON object, found ${describeJsonType(value)}`);
  }
  if (needsExactCheck(value, raw)) {
    const problem = exactProblem(value, raw, what);
    if (problem !== null) return problem;
  }
  // Keys such as __proto__ are plain data: JSON.parse already made them own properties, and with
  // a null prototype they stay data for every later stage. Re-parenting the parsed object gives
  // the same result as copying it into emptyFields() (toFields), at a third of the cost.
  Object.setPrototypeOf(value, null);
  return value as Fields;
}
