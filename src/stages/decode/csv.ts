/**
 * CSV (RFC 4180) → records. The first non-blank row is the header; each later row becomes a
 * record mapping header names to string values. Hand-written rather than a library: measured
 * faster than csv-parse and correct where the faster libraries are not, and it gives exact line
 * numbers, byte offsets and the record-size cap for free (see CSV-CHOICE.md).
 *
 * Rows without a quote (nearly all rows of most files) are split with indexOf on the decoded
 * text; rows with one go through the state machine in csv-row.ts. Blank lines are skipped. A row
 * with more or fewer fields than the header is a `malformed_row` problem record, never merged
 * with its neighbour.
 */
import { SluiceError } from '../../core/errors.js';
import type { Fields } from '../../core/record.js';
import { fieldBuilder, type FieldBuilder } from './csv-fields.js';
import { ByteCounter, type Frame, type RecordParser } from './framing.js';
import { headerNames } from './csv-header.js';
import { newScan, readRow, type Row, type Scan } from './csv-row.js';
import { recordTooLarge } from './messages.js';
import type { DecodedRecord, DecodeResume } from './types.js';

const CR = 13;
const LF = 10;

export interface CsvOptions {
  file: string;
  maxRecordBytes: number;
  /** Byte offsets are meaningful (not gzip): fill `endOffset`. */
  seekable: boolean;
  onWarning?: (message: string) => void;
  onHeader?: (names: readonly string[]) => void;
}

export class CsvParser implements RecordParser {
  line = 1;
  position = 0;
  /** Header names, once the header has been read. */
  names: string[] | null = null;
  private builder: FieldBuilder | null = null;
  /** Return from parse() as soon as the header is read (before seeking to a resume point). */
  stopWhenReady = false;

  constructor(private readonly options: CsvOptions) {}

  get ready(): boolean {
    return this.names !== null;
  }

  /** Continue just after record `resume.position`, at byte `resume.byteOffset`. */
  seekTo(resume: DecodeResume): void {
    [this.line, this.position] = [resume.line, resume.position];
  }

  parse(frame: Frame, out: DecodedRecord[]): number {
    const { text, final } = frame;
    const length = text.length;
    const scan = newScan(text, final);
    const bytes = new ByteCounter(frame);
    let i = 0;
    while (i < length) {
      if (this.stopWhenReady && this.names) return i;
      const c = text.charCodeAt(i);
      if (c === LF || (c === CR && text.charCodeAt(i + 1) === LF)) {
        i += c === LF ? 1 : 2; // a blank line
        this.line++;
        continue;
      }
      const lineEnd = scan.newlines.from(i);
      if (lineEnd === length && !final) return i;
      if (scan.quotes.from(i) < lineEnd) {
        const row = readRow(scan, i, { file: this.options.file, line: this.line });
        if (!row) return i;
        this.checkSize(frame, i, row.end, bytes);
        if (this.names) this.emitRow(row, text.slice(i, row.end), bytes, out);
        else this.readHeader(row);
        this.line += row.newlines;
        i = row.next;
        continue;
      }
      const end = lineEnd > i && text.charCodeAt(lineEnd - 1) === CR ? lineEnd - 1 : lineEnd;
      const next = lineEnd < length ? lineEnd + 1 : length;
      if (end > i) {
        this.checkSize(frame, i, end, bytes);
        if (this.names) this.emitPlain(scan, i, end, next, bytes, out);
        else this.readHeader({ fields: text.slice(i, end).split(','), end, next, newlines: 1, problem: null });
      }
      if (next > lineEnd) this.line++;
      i = next;
    }
    return i;
  }

  private checkSize(frame: Frame, start: number, end: number, bytes: ByteCounter): void {
    const max = this.options.maxRecordBytes;
    const chars = end - start;
    if (chars <= max && (frame.ascii || chars * 3 <= max)) return;
    if (chars > max || Buffer.byteLength(frame.text.slice(start, end)) > max) {
      throw recordTooLarge(this.options.file, this.line, bytes.at(start), max);
    }
  }

  private readHeader(row: Row): void {
    if (row.problem) {
      throw new SluiceError('DECODE_CSV', `${this.options.file}: header: ${row.problem}`, {
        file: this.options.file,
        line: this.line,
      });
    }
    const { file, onWarning } = this.options;
    const line = this.line;
    if (row.fields.some((name) => /\r(?!\n)/.test(name))) throw crOnlyLineEnds(file, line);
    this.names = headerNames(row.fields, (message) => onWarning?.(`${file}: line ${line}: header: ${message}`));
    this.builder = fieldBuilder(this.names);
    this.options.onHeader?.(this.names);
  }

  /** A row without quotes: split at commas straight into the record's fields. */
  private emitPlain(scan: Scan, start: number, end: number, next: number, bytes: ByteCounter, out: DecodedRecord[]): void {
    const { text } = scan;
    const newline = text.charCodeAt(next - 1) === LF ? 1 : 0;
    const fields = (this.builder as FieldBuilder).split(text, start, end, scan.commas);
    if (fields) return this.push(out, fields, text.slice(start, end), next, bytes, newline);
    const raw = text.slice(start, end);
    this.push(out, null, raw, next, bytes, newline, this.raggedMessage(raw.split(',').length));
  }

  private raggedMessage(found: number): string {
    const expected = (this.names as string[]).length;
    return `line ${this.line}: expected ${expected} field${expected === 1 ? '' : 's'} (as in the header), found ${found}`;
  }

  /** A row from the state machine: fields as parsed, or a problem record. */
  private emitRow(row: Row, raw: string, bytes: ByteCounter, out: DecodedRecord[]): void {
    const names = this.names as string[];
    let problem = row.problem;
    if (!problem && row.fields.length !== names.length) problem = this.raggedMessage(row.fields.length);
    const fields = problem ? null : (this.builder as FieldBuilder).fromValues(row.fields);
    this.push(out, fields, raw, row.next, bytes, row.newlines, problem);
  }

  private push(
    out: DecodedRecord[],
    fields: Fields | null,
    raw: string,
    next: number,
    bytes: ByteCounter,
    newlines: number,
    problem?: string | null,
  ): void {
    const record: DecodedRecord = {
      fields,
      line: this.line,
      position: ++this.position,
      endOffset: this.options.seekable ? bytes.at(next) : null,
      endLine: this.line + newlines,
      raw,
      shape: this.names as string[],
    };
    if (problem) record.problem = { reason: 'malformed_row', field: null, message: problem };
    out.push(record);
  }
}

/**
 * A carriage return that no line feed follows, in the header: the file ends its lines with CR
 * alone (classic Mac OS), which CSV does not allow. Read as CSV, the whole file would be one
 * header and load nothing, reported as a success.
 */
function crOnlyLineEnds(file: string, line: number): SluiceError {
  return new SluiceError('DECODE_CSV', `${file}: line ${line}: the header holds a carriage return (CR) with no line feed after it: the file seems to end its lines with CR alone (classic Mac OS), where CSV expects LF or CRLF`, {
    file,
    line,
    hint: `convert the line ends, for example: tr '\\r' '\\n' < ${file} > fixed.csv`,
  });
}
