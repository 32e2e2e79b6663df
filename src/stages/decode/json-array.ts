/**
 * JSON files: a top-level array of objects (one record per element) or a single top-level object
 * (one record). The array is cut into elements by json-scan.ts and each is parsed on its own, so a
 * multi-GB array decodes in the memory of one element. An element that is valid JSON but not an
 * object (or holds a number JSON.parse would round) is a problem record; broken JSON syntax, a
 * truncated file, or a top level that is neither array nor object stops the file (DECODE_JSON):
 * past a syntax error the element boundaries themselves are unknown. An empty (or all-whitespace)
 * file has no records.
 */
import { SluiceError } from '../../core/errors.js';
import { ByteCounter, type Frame, type RecordParser } from './framing.js';
import { jsonSyntaxReason, objectFields, syntaxErrorIndex } from './json-values.js';
import { newMarks, quickObject, scanValue, type Marks, type Parsed } from './json-scan.js';
import { describeFound, recordTooLarge } from './messages.js';
import { Problem } from './problem.js';
import type { DecodedRecord, DecodeResume } from './types.js';

/** Where the parser is: before the top-level value, before the first element, after an element… */
type Phase = 'top' | 'first' | 'after-element' | 'after-comma' | 'end';

export interface JsonOptions {
  file: string;
  maxRecordBytes: number;
  /** Byte offsets are meaningful (not gzip): fill `endOffset`. */
  seekable: boolean;
}

export class JsonParser implements RecordParser {
  line = 1;
  position = 0;
  /** The kind of top-level value, once seen. */
  top: 'array' | 'object' | null = null;
  /** Return from parse() as soon as the top-level kind is known (before seeking to a resume point). */
  stopWhenReady = false;
  private phase: Phase = 'top';
  private openLine = 1;

  constructor(private readonly options: JsonOptions) {}

  get ready(): boolean {
    return this.top !== null;
  }

  /** Continue just after record `resume.position`, at byte `resume.byteOffset`. */
  seekTo(resume: DecodeResume): void {
    [this.line, this.position] = [resume.line, resume.position];
    this.phase = this.top === 'array' ? 'after-element' : 'end';
  }

  parse(frame: Frame, out: DecodedRecord[]): number {
    const { text, final } = frame;
    const bytes = new ByteCounter(frame);
    const marks = newMarks(text);
    let i = 0;
    for (;;) {
      i = this.skipSpace(text, i);
      if (i === text.length) {
        if (final) this.checkEnd(bytes, i);
        return i;
      }
      const c = text.charCodeAt(i);
      if (this.phase === 'top') {
        this.top = c === 91 ? 'array' : c === 123 ? 'object' : this.fail(bytes, i, `expected a JSON array of objects or a single object at the top level, found ${describeFound(text.slice(i))}`);
        if (this.stopWhenReady) return i;
        if (c === 91) {
          [this.phase, this.openLine] = ['first', this.line];
          i++;
          continue;
        }
      } else if (this.phase === 'end') {
        const hint = c === 123 ? ' (one JSON object per line is NDJSON: use --format ndjson or the .ndjson extension)' : '';
        this.fail(bytes, i, `expected the end of the file after the top-level ${this.top}, found ${describeFound(text.slice(i))}${hint}`);
      } else if (this.phase !== 'after-comma' && c === 93) {
        this.phase = 'end'; // `]` after `[` or after an element
        i++;
        continue;
      } else if (this.phase === 'after-element') {
        if (c !== 44) this.fail(bytes, i, `expected ',' or ']' after array element ${this.position}, found ${describeFound(text.slice(i))}`);
        this.phase = 'after-comma';
        i++;
        continue;
      } else if (c === 93) this.fail(bytes, i, `expected an array element after ',', found ']' (a trailing comma)`);
      const end = this.element(frame, i, marks, bytes, out);
      if (end === -1) return i;
      i = end;
    }
  }

  /** Reads the value at `start` as a record; returns the index after it, or -1 if incomplete. */
  private element(frame: Frame, start: number, marks: Marks, bytes: ByteCounter, out: DecodedRecord[]): number {
    const { text } = frame;
    const parsed = quickObject(text, start, marks) ?? this.scanAndParse(frame, start, bytes);
    if (!parsed) return -1;
    this.checkSize(frame, start, parsed.end, bytes);
    const raw = text.slice(start, parsed.end);
    const what = this.top === 'array' ? `line ${this.line}: array element ${this.position + 1}` : `line ${this.line}`;
    const result = objectFields(parsed.value, raw, what);
    const record: DecodedRecord = {
      fields: result instanceof Problem ? null : result,
      line: this.line,
      position: ++this.position,
      endOffset: this.options.seekable ? bytes.at(parsed.end) : null,
      endLine: this.line + parsed.newlines,
      raw,
    };
    if (result instanceof Problem) record.problem = result.toJSON();
    out.push(record);
    this.line += parsed.newlines;
    this.phase = this.top === 'array' ? 'after-element' : 'end';
    return parsed.end;
  }

  /** The general path: find the value's end by scanning, then parse it. Null if incomplete. */
  private scanAndParse(frame: Frame, start: number, bytes: ByteCounter): Parsed | null {
    const { text, final } = frame;
    const scanned = scanValue(text, start, final);
    if (!scanned) {
      if (!final) return null;
      this.fail(bytes, start, `unexpected end of the file inside ${this.describeNext()}; the file looks truncated`);
    }
    const raw = text.slice(start, scanned.end);
    this.checkSize(frame, start, scanned.end, bytes);
    try {
      return { ...scanned, value: JSON.parse(raw) };
    } catch (error) {
      this.syntaxError(raw, start, bytes, error);
    }
  }

  private checkSize(frame: Frame, start: number, end: number, bytes: ByteCounter): void {
    const max = this.options.maxRecordBytes;
    const chars = end - start;
    if (chars <= max && (frame.ascii || chars * 3 <= max)) return;
    if (chars > max || Buffer.byteLength(frame.text.slice(start, end)) > max) {
      throw recordTooLarge(this.options.file, this.line, bytes.at(start), max);
    }
  }

  private describeNext(): string {
    return this.top === 'array' ? `array element ${this.position + 1}` : 'the top-level object';
  }

  /** Fails the file at the place JSON.parse complained about. */
  private syntaxError(raw: string, start: number, bytes: ByteCounter, error: unknown): never {
    const index = syntaxErrorIndex(raw, error);
    this.line += raw.slice(0, index).split('\n').length - 1;
    this.fail(bytes, start + index, `invalid JSON in ${this.describeNext()}: ${jsonSyntaxReason(error)}`);
  }

  private checkEnd(bytes: ByteCounter, index: number): void {
    if (this.phase === 'top' || this.phase === 'end') return;
    this.fail(bytes, index, `unexpected end of the file: the array opened at line ${this.openLine} is not closed (expected ',' or ']'); the file looks truncated`);
  }

  private fail(bytes: ByteCounter, index: number, what: string): never {
    const offset = bytes.at(index);
    throw new SluiceError('DECODE_JSON', `${this.options.file}: line ${this.line} (byte ${offset}): ${what}`, {
      file: this.options.file,
      line: this.line,
      offset,
    });
  }

  /** Skips JSON whitespace, counting lines. */
  private skipSpace(text: string, start: number): number {
    let i = start;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) this.line++;
      else if (c !== 32 && c !== 9 && c !== 13) break;
    }
    return i;
  }
}
