/**
 * Line-oriented formats: a line parser shared by `lines` (each line is a record `{ line: text }`)
 * and `ndjson` (each line is a JSON object, see ndjson.ts). Lines end at LF; a CR before it is
 * removed. Blank lines (empty or only spaces, tabs and CRs) are skipped and not counted as records.
 */
import type { Fields } from '../../core/record.js';
import { ByteCounter, type Frame, type RecordParser } from './framing.js';
import { recordTooLarge } from './messages.js';
import { Problem } from './problem.js';
import type { DecodedRecord, DecodeResume } from './types.js';

const CR = 13;

/** Turns one line's text into fields, or a Problem (the record becomes a dead letter). */
export type LineDecoder = (raw: string, line: number) => Fields | Problem;

export interface LineOptions {
  file: string;
  maxRecordBytes: number;
  /** Byte offsets are meaningful (not gzip): fill `endOffset`. */
  seekable: boolean;
}

function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== CR) return false;
  }
  return true;
}

export class LineParser implements RecordParser {
  line = 1;
  position = 0;

  constructor(
    private readonly options: LineOptions,
    private readonly decodeLine: LineDecoder,
  ) {}

  /** Lines need nothing read before a seek. */
  readonly ready = true;
  stopWhenReady = false;

  /** Continue just after record `resume.position`, at byte `resume.byteOffset`. */
  seekTo(resume: DecodeResume): void {
    [this.line, this.position] = [resume.line, resume.position];
  }

  parse(frame: Frame, out: DecodedRecord[]): number {
    const { text, final } = frame;
    const length = text.length;
    const bytes = new ByteCounter(frame);
    const max = this.options.maxRecordBytes;
    let i = 0;
    while (i < length) {
      let newline = text.indexOf('\n', i);
      if (newline === -1) {
        if (!final) return i;
        newline = length;
      }
      const end = newline > i && text.charCodeAt(newline - 1) === CR ? newline - 1 : newline;
      const next = newline < length ? newline + 1 : length;
      if (!isBlank(text, i, end)) {
        const raw = text.slice(i, end);
        if (raw.length > max || (!frame.ascii && raw.length * 3 > max && Buffer.byteLength(raw) > max)) {
          throw recordTooLarge(this.options.file, this.line, bytes.at(i), max);
        }
        const result = this.decodeLine(raw, this.line);
        const record: DecodedRecord = {
          fields: result instanceof Problem ? null : result,
          line: this.line,
          position: ++this.position,
          endOffset: this.options.seekable ? bytes.at(next) : null,
          endLine: newline < length ? this.line + 1 : this.line,
          raw,
        };
        if (result instanceof Problem) record.problem = result.toJSON();
        out.push(record);
      }
      if (newline < length) this.line++;
      i = next;
    }
    return i;
  }
}

/**
 * The `lines` format: the line's text, as is, in the field `line`. A literal re-parented to a null
 * prototype rather than emptyFields(): same object, but not in V8's slow dictionary mode.
 */
export function textLine(raw: string): Fields {
  const fields = { line: raw };
  Object.setPrototypeOf(fields, null);
  return fields;
}
