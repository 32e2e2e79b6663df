/**
 * Names given twice in one JSON object. JSON.parse keeps the last value and drops the other
 * without a word, so `{"id": 1, "id": 2}` would load as id 2 though the file says both: which one
 * the sender meant is unknown, and the record is set aside instead of guessed at.
 *
 * Cheap first (every record): each name and each string of the parsed value was written between
 * two quotes, and when none of them holds a quote, those are all the text's quotes (a quote inside
 * a string is written \" or \u0022). A text with more quotes than that lost a name. Exact second
 * (those records, and the few whose strings hold quotes): read the text's names object by object.
 */

import { isName, stringEnd } from './json-scan.js';

const QUOTE = 34;

/** Whether `raw`, parsed as `value`, may have held a name twice in one object. */
export function mayHaveDuplicateNames(value: unknown, raw: string): boolean {
  // NaN (a string holding a quote) compares unequal to any count.
  return countQuotes(raw) !== delimitingQuotes(value);
}

function countQuotes(text: string): number {
  let count = 0;
  for (let at = text.indexOf('"'); at !== -1; at = text.indexOf('"', at + 1)) count += 1;
  return count;
}

/** Two quotes per name and string in `value`; NaN if one holds a quote (then it cannot tell). */
function delimitingQuotes(value: unknown): number {
  if (typeof value === 'string') return value.includes('"') ? NaN : 2;
  if (typeof value !== 'object' || value === null) return 0;
  let count = 0;
  if (Array.isArray(value)) {
    for (const item of value) count += delimitingQuotes(item);
    return count;
  }
  for (const name in value) count += (name.includes('"') ? NaN : 2) + delimitingQuotes((value as Record<string, unknown>)[name]);
  return count;
}

export interface DuplicateName {
  /** The record's field it is in: the name itself at the top level, else the field holding it. */
  field: string;
  message: string;
}

/** The first name given twice in one object of valid JSON `raw`, or null. */
export function findDuplicateName(raw: string): DuplicateName | null {
  // One set of names per open object; null for an open array.
  const open: (Set<string> | null)[] = [];
  let topField: string | null = null;
  for (let i = 0; i < raw.length; ) {
    const c = raw.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(raw, i);
      const names = open[open.length - 1];
      if (names && isName(raw, end)) {
        const name = JSON.parse(raw.slice(i, end)) as string;
        if (open.length === 1) topField = name;
        if (names.has(name)) return describe(name, open.length === 1 ? null : topField);
        names.add(name);
      }
      i = end;
      continue;
    }
    if (c === 123) open.push(new Set());
    else if (c === 91) open.push(null);
    else if (c === 125 || c === 93) open.pop();
    i += 1;
  }
  return null;
}

function describe(name: string, inside: string | null): DuplicateName {
  const where = inside === null ? `field ${name}` : `name ${JSON.stringify(name)} inside field ${inside}`;
  return {
    field: inside ?? name,
    message: `${where} appears twice in one object; expected each name once (JSON.parse would keep the last value and drop the other, so the record is set aside rather than guessed at)`,
  };
}
