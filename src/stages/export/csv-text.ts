import { TEXT_CELL_SEPARATOR, TEXT_ROW_SEPARATOR, type TextBatch } from '../../core/row-batch.js';
import { CSV_EOL, csvCell, type CsvOptions } from './csv.js';

/**
 * A row whose cells must be encoded one by one: a quote, comma or line break (RFC 4180 quoting),
 * or with the guard on, a tab anywhere or a cell starting with `=`, `+`, `@` or a `-` that does
 * not start a plain number. Every other row is already its own CSV line, separators aside.
 */
const NEEDS_CELLS = /[",\r\n]/g;
// eslint-disable-next-line no-control-regex -- the TextBatch separators start a cell
const NEEDS_CELLS_GUARDED = /[",\r\n\t]|(?:^|[\u001e\u001f])(?:[=+@]|-(?!\d+(?:\.\d+)?(?:[\u001e\u001f]|$)))/g;

const UNIT = 0x1f;
const RECORD = 0x1e;
const COMMA = 0x2c;
/** CSV_EOL, byte by byte. */
const CR = 0x0d;
const LF = 0x0a;

/**
 * A TextBatch as CSV: the bytes csvLine would write for its rows' values, or null when the
 * separators cannot be told from the data (the caller then encodes the values). Rows with
 * nothing to quote or guard are copied byte for byte, separators turned into commas and CRLF.
 */
export function csvFromText(batch: TextBatch, options: CsvOptions): Uint8Array | null {
  const width = batch.columns.length;
  // A one-column line of '' is written `""` (csvLine), which needs to know the line is empty.
  if (width < 2) return null;
  const source = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
  // Latin-1 gives one character per byte: match offsets are byte offsets, and the patterns are ASCII.
  const view = source.toString('latin1');
  const out = new CsvBytes(source);
  const look = options.formulaGuard ? NEEDS_CELLS_GUARDED : NEEDS_CELLS;
  look.lastIndex = 0;
  let copied = 0;
  for (let found = look.exec(view); found !== null; found = look.exec(view)) {
    // A match may begin at the separator before the row: that row starts after it.
    const start = view.lastIndexOf(TEXT_ROW_SEPARATOR, found.index) + 1;
    const next = view.indexOf(TEXT_ROW_SEPARATOR, found.index + 1);
    const end = next === -1 ? view.length : next;
    if (!out.copy(copied, start) || !out.line(encodeCells(source.toString('utf8', start, end), width, options), width)) return null;
    copied = end;
    look.lastIndex = end;
  }
  return out.copy(copied, source.length) ? out.finish(batch.count, width) : null;
}

/** One row's cells encoded and joined by commas; null when it does not split into `width` cells. */
function encodeCells(row: string, width: number, options: CsvOptions): string | null {
  const cells = row.split(TEXT_CELL_SEPARATOR);
  if (cells.length !== width) return null;
  let line = csvCell(cells[0], options);
  for (let i = 1; i < width; i += 1) line += ',' + csvCell(cells[i], options);
  return line;
}

/**
 * The CSV bytes of one batch, with a count of the separators turned into commas and line ends:
 * the batch must hold exactly the database's, `count` rows of `width` cells. A separator
 * character in the data breaks a count or stands alone, wherever it is.
 */
class CsvBytes {
  private target: Buffer;
  private length = 0;
  private cells = 0;
  private rows = 0;

  constructor(private readonly source: Buffer) {
    this.target = Buffer.allocUnsafe(0);
    this.reserve(0);
  }

  /** Copies source bytes, separators converted; false at a unit separator that is not a pair. */
  copy(from: number, to: number): boolean {
    const { source, target } = this;
    let at = this.length;
    for (let i = from; i < to; i += 1) {
      const byte = source[i] as number;
      if (byte > UNIT) {
        target[at++] = byte;
      } else if (byte === UNIT) {
        if (i + 1 >= to || source[i + 1] !== UNIT) return false;
        target[at++] = COMMA;
        i += 1;
        this.cells += 1;
      } else if (byte === RECORD) {
        target[at++] = CR;
        target[at++] = LF;
        this.rows += 1;
      } else {
        target[at++] = byte;
      }
    }
    this.length = at;
    return true;
  }

  /**
   * Appends a row encoded cell by cell; false when it could not be, or holds a unit separator
   * (one from the data: the row ends at a record separator, so it holds none of those).
   */
  line(text: string | null, width: number): boolean {
    if (text === null || text.includes(TEXT_CELL_SEPARATOR[0] as string)) return false;
    this.reserve(text.length * 3);
    this.length += this.target.write(text, this.length, 'utf8');
    this.cells += width - 1;
    return true;
  }

  finish(count: number, width: number): Uint8Array | null {
    if (this.cells !== count * (width - 1) || this.rows !== count - 1) return null;
    this.target[this.length++] = CR;
    this.target[this.length++] = LF;
    return this.target.subarray(0, this.length);
  }

  /**
   * Room for `more` bytes and then every source byte copied (at most two bytes each: a row
   * separator becomes CRLF) and the last line end: a copy never writes past the end.
   */
  private reserve(more: number): void {
    const needed = this.length + more + 2 * this.source.length + CSV_EOL.length;
    if (needed <= this.target.length) return;
    // The first allocation is the bound itself; growing (long quoted lines) doubles it.
    const larger = Buffer.allocUnsafe(this.target.length === 0 ? needed : needed * 2);
    this.target.copy(larger, 0, 0, this.length);
    this.target = larger;
  }
}
