/**
 * One cheap pass over every parsed JSON record that clears it of the two things JSON.parse hides:
 * a name given twice in one object (json-duplicates.ts) and a number it could not keep exactly
 * (json-numbers.ts). Only records it does not clear get the exact checks, which read the text.
 *
 * Each name and each string of the parsed value was written between two quotes; the text's other
 * quotes are escaped ones inside strings (\"). So a text with exactly two quotes per name and
 * string lost no name; one with more either lost one or holds \", and is read to tell which.
 */

import { isSuspectNumber } from './json-numbers.js';

/** Whether `raw`, parsed as `value`, needs the exact checks. */
export function needsExactCheck(value: unknown, raw: string): boolean {
  // NaN (a suspect number) is unequal to any count.
  return countQuotes(raw) !== clearedQuotes(value);
}

function countQuotes(text: string): number {
  let count = 0;
  for (let at = text.indexOf('"'); at !== -1; at = text.indexOf('"', at + 1)) count += 1;
  return count;
}

/** Two quotes per name and string in `value`; NaN if a number in it is suspect. */
function clearedQuotes(value: unknown): number {
  if (typeof value === 'string') return 2;
  if (typeof value === 'number') return isSuspectNumber(value) ? NaN : 0;
  if (typeof value !== 'object' || value === null) return 0;
  let count = 0;
  if (Array.isArray(value)) {
    for (const item of value) count += clearedQuotes(item);
    return count;
  }
  for (const name in value) count += 2 + clearedQuotes((value as Record<string, unknown>)[name]);
  return count;
}
