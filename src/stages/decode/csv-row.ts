/**
 * The RFC 4180 state machine for a CSV row that contains a quote (rows without one take the fast
 * path in csv.ts). It jumps between separators with indexOf instead of looking at every character.
 *
 * Quote rules, chosen to keep row boundaries unambiguous and never lose a row silently:
 * - a quote opens a quoted field only at the start of a field; `""` inside it is one quote;
 * - a quote anywhere else in an unquoted field (`ab"c`), or text after a closing quote
 *   (`"ab"c`), is kept literally and makes the row a `malformed_row` problem record; the row
 *   still ends at the first line end outside quotes, and the next rows decode normally;
 * - a quoted field still open at the end of the file is a file error (DECODE_CSV) naming the
 *   line where it opened: everything after it would be swallowed into one field.
 */
import { SluiceError } from '../../core/errors.js';
import { NextIndex } from './next-index.js';

const QUOTE = 34;
const COMMA = 44;
const CR = 13;
const LF = 10;

/** Cached searches over one text, shared by the rows parsed from it. */
export interface Scan {
  text: string;
  final: boolean;
  commas: NextIndex;
  quotes: NextIndex;
  newlines: NextIndex;
}

export function newScan(text: string, final: boolean): Scan {
  return {
    text,
    final,
    commas: new NextIndex(text, ','),
    quotes: new NextIndex(text, '"'),
    newlines: new NextIndex(text, '\n'),
  };
}

export interface Row {
  fields: string[];
  /** End of the row's text, before its line end. */
  end: number;
  /** Start of the next row. */
  next: number;
  /** Line ends consumed, inside quoted fields and the row's own. */
  newlines: number;
  /** Why the row is malformed, or null. */
  problem: string | null;
}

export interface RowContext {
  file: string;
  line: number;
}

function unclosedQuote(context: RowContext, line: number, field: number): SluiceError {
  return new SluiceError(
    'DECODE_CSV',
    `${context.file}: line ${line}: the quoted field ${field} opened here is never closed (expected a closing '"' before the end of the file); every following line would be swallowed into it`,
    { file: context.file, line },
  );
}

/** Reads a quoted field starting at `start`; returns its value and end, or null if the text ends first. */
function quotedField(scan: Scan, start: number): [string, number] | null {
  const { text } = scan;
  let value = '';
  let from = start + 1;
  for (;;) {
    const quote = scan.quotes.from(from);
    if (quote === text.length) return null;
    value += text.slice(from, quote);
    if (quote + 1 === text.length && !scan.final) return null; // `"` or `""`? the next chunk says
    if (text.charCodeAt(quote + 1) !== QUOTE) return [value, quote + 1];
    value += '"';
    from = quote + 2;
  }
}

/** Parses the row at `start`; null when the text ends before the row does (and more is coming). */
export function readRow(scan: Scan, start: number, context: RowContext): Row | null {
  const { text, final } = scan;
  const length = text.length;
  const fields: string[] = [];
  let problem: string | null = null;
  let newlines = 0;
  let i = start;
  for (;;) {
    let value = '';
    if (text.charCodeAt(i) === QUOTE) {
      const quoted = quotedField(scan, i);
      if (!quoted) {
        if (final) throw unclosedQuote(context, context.line + newlines, fields.length + 1);
        return null;
      }
      let end: number;
      [value, end] = quoted;
      for (let nl = scan.newlines.from(i); nl < end; nl = scan.newlines.from(nl + 1)) newlines++;
      i = end;
      const next = text.charCodeAt(i);
      if (next === CR && i + 1 === length && !final) return null; // CRLF or a lone CR at the end?
      const crlf = next === CR && text.charCodeAt(i + 1) === LF;
      if (i === length || next === COMMA || next === LF || crlf || (next === CR && i + 1 === length)) {
        fields.push(value);
        if (next === COMMA) {
          i++;
          continue;
        }
        const after = i === length ? i : crlf ? i + 2 : i + 1;
        return { fields, end: i, next: after, newlines: newlines + (next === LF || crlf ? 1 : 0), problem };
      }
      problem ??= `line ${context.line}: unexpected text after the closing quote of field ${fields.length + 1} (expected ',' or a line end; a quote inside a quoted field is written "")`;
      // Go on as unquoted text: the rest of the field up to the next separator joins the value.
    }
    const comma = scan.commas.from(i);
    const lineEnd = scan.newlines.from(i);
    const end = Math.min(comma, lineEnd);
    if (end === length && !final) return null;
    if (scan.quotes.from(i) < end) {
      problem ??= `line ${context.line}: a quote inside unquoted field ${fields.length + 1} (a field containing '"' must be quoted as a whole, with the quote doubled)`;
    }
    const last = end !== comma;
    const valueEnd = last && end > i && text.charCodeAt(end - 1) === CR ? end - 1 : end;
    fields.push(value + text.slice(i, valueEnd));
    if (!last) {
      i = comma + 1;
      continue;
    }
    const newline = end < length;
    return { fields, end: valueEnd, next: newline ? end + 1 : end, newlines: newlines + (newline ? 1 : 0), problem };
  }
}
