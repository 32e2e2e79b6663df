/**
 * Finds where one JSON value ends without parsing it, so a JSON array can be cut into elements
 * that are parsed one at a time (JSON.parse, native and strict) and memory stays at one element
 * whatever the size of the array. Only strings and bracket depth matter here: anything else that
 * is wrong inside the value is for JSON.parse to report.
 */
import { NextIndex } from './next-index.js';

const QUOTE = 34;
const BACKSLASH = 92;
const LF = 10;

export interface Scanned {
  /** Index just past the value. */
  end: number;
  /** Line ends inside the value. */
  newlines: number;
}

/** Index just past the string literal opening at `start`, or -1 if the text ends first. */
export function stringEnd(text: string, start: number): number {
  let quote = text.indexOf('"', start + 1);
  while (quote !== -1) {
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    quote = text.indexOf('"', quote + 1);
  }
  return -1;
}

/** Whether the string literal that ends at `end` is an object's name: a colon follows, after JSON whitespace. */
export function isName(text: string, end: number): boolean {
  let at = end;
  for (let c = text.charCodeAt(at); c === 32 || c === 9 || c === 10 || c === 13; c = text.charCodeAt(at)) at += 1;
  return text.charCodeAt(at) === 58;
}

/** Characters that end a number or a literal such as `true`: , ] } and JSON whitespace. */
function endsBareValue(c: number): boolean {
  return c === 44 || c === 93 || c === 125 || c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * The extent of the value starting at `start` (not whitespace). Null when the text ends first
 * and more may come; with `final`, a value cut off by the end of the text is also null.
 */
export function scanValue(text: string, start: number, final: boolean): Scanned | null {
  const length = text.length;
  const first = text.charCodeAt(start);
  if (first === QUOTE) {
    const end = stringEnd(text, start);
    return end === -1 ? null : { end, newlines: 0 };
  }
  if (first !== 123 && first !== 91) {
    let end = start + 1;
    while (end < length && !endsBareValue(text.charCodeAt(end))) end++;
    return end < length || final ? { end, newlines: 0 } : null;
  }
  let depth = 0;
  let newlines = 0;
  for (let i = start; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end === -1) return null;
      i = end - 1;
    } else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) {
      if (--depth === 0) return { end: i + 1, newlines };
    } else if (c === LF) newlines++;
  }
  return null;
}

/** Where the characters that bound a flat object are, in one text (see quickObject). */
export interface Marks {
  opens: NextIndex;
  brackets: NextIndex;
  closes: NextIndex;
  newlines: NextIndex;
}

export function newMarks(text: string): Marks {
  return {
    opens: new NextIndex(text, '{'),
    brackets: new NextIndex(text, '['),
    closes: new NextIndex(text, '}'),
    newlines: new NextIndex(text, '\n'),
  };
}

export interface Parsed extends Scanned {
  value: unknown;
}

/**
 * The fast path for the usual element, a flat object: guess that it ends at the first `}` and let
 * JSON.parse check the guess. An object's text can end at one place only, so if the guessed text
 * parses, the guess was right; if it does not (a `}` inside a string), null sends the caller to
 * the full scan. One native parse instead of a character loop and a parse.
 */
export function quickObject(text: string, start: number, marks: Marks): Parsed | null {
  if (text.charCodeAt(start) !== 123) return null;
  const close = marks.closes.from(start);
  if (close === text.length || marks.opens.from(start + 1) < close || marks.brackets.from(start) < close) return null;
  let value: unknown;
  try {
    value = JSON.parse(text.slice(start, close + 1));
  } catch {
    return null;
  }
  let newlines = 0;
  for (let nl = marks.newlines.from(start); nl < close; nl = marks.newlines.from(nl + 1)) newlines++;
  return { end: close + 1, newlines, value };
}
