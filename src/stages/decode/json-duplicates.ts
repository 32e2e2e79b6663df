/**
 * Names given twice in one JSON object. JSON.parse keeps the last value and drops the other
 * without a word, so `{"id": 1, "id": 2}` would load as id 2 though the file says both: which one
 * the sender meant is unknown, and the record is set aside instead of guessed at.
 *
 * Only records that json-screen.ts does not clear are read here.
 */

import { isName, stringEnd } from './json-scan.js';

const QUOTE = 34;

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
