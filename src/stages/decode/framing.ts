/**
 * Feeds text chunks to a record parser and keeps the unfinished record between chunks.
 *
 * A parser is simple and stateless about partial records: it parses the complete records of the
 * text it is given and returns where the unfinished one starts; that tail is handed back to it
 * with the next text. To keep this linear for a record spanning many chunks, the tail is re-parsed
 * only once at least as much new text has arrived (so a long record is scanned O(log n) times),
 * and a tail longer than `maxRecordBytes` stops the file: memory stays near the cap whatever the
 * input (a line with no end, an unclosed quote).
 */
import type { DecodedRecord } from './types.js';
import type { TextChunk } from './utf8.js';
import { recordTooLarge } from './messages.js';

/** The text a parser is given, with what it needs to turn indexes into byte offsets. */
export interface Frame {
  text: string;
  /** All ASCII: byte offset of `text[i]` is `byteStart + i`. */
  ascii: boolean;
  byteStart: number;
  /** No more text will come: an unfinished record is an error or a last record without a line end. */
  final: boolean;
}

export interface RecordParser {
  /** Emits the complete records of `frame.text` into `out`; returns where the unparsed rest starts. */
  parse(frame: Frame, out: DecodedRecord[]): number;
  /** Line number at the start of the unparsed rest. */
  readonly line: number;
}

export interface FrameOptions {
  file: string;
  maxRecordBytes: number;
  /** Stop (without an error) once this returns true, e.g. once a CSV header has been read. */
  until?: () => boolean;
}

/**
 * Byte offsets of positions in a frame. Non-ASCII text is measured incrementally from the last
 * position asked for, so a parser asking in increasing order pays O(text) in all.
 */
export class ByteCounter {
  private index = 0;
  private offset: number;

  constructor(private readonly frame: Frame) {
    this.offset = frame.byteStart;
  }

  at(index: number): number {
    if (this.frame.ascii) return this.frame.byteStart + index;
    if (index < this.index) [this.index, this.offset] = [0, this.frame.byteStart];
    this.offset += Buffer.byteLength(this.frame.text.slice(this.index, index));
    this.index = index;
    return this.offset;
  }
}

/** Yields the records of `chunks`, a batch per parse. */
export async function* frameRecords(
  chunks: AsyncIterable<TextChunk>,
  parser: RecordParser,
  options: FrameOptions,
): AsyncGenerator<DecodedRecord[]> {
  let tail = '';
  let tailAscii = true;
  let tailStart = -1; // byte offset of tail[0]; -1 until the first chunk tells it
  let pending: TextChunk[] = [];
  let pendingLength = 0;

  /** Parses the tail and the pending text; records parsed before an error come out before it. */
  const run = (final: boolean): [DecodedRecord[], unknown] => {
    const first = pending[0];
    const last = pending[pending.length - 1];
    const byteStart = tail.length > 0 || !first ? tailStart : first.byteStart;
    const text = tail + (pending.length === 1 && first ? first.text : pending.map((c) => c.text).join(''));
    const ascii = tailAscii && pending.every((c) => c.ascii);
    const out: DecodedRecord[] = [];
    let consumed: number;
    try {
      consumed = parser.parse({ text, ascii, byteStart, final }, out);
    } catch (error) {
      return [out, error];
    }
    tail = text.slice(consumed);
    tailAscii = ascii;
    const end = last ? last.byteEnd : byteStart + (ascii ? text.length : Buffer.byteLength(text));
    tailStart = end - (ascii ? tail.length : Buffer.byteLength(tail));
    pending = [];
    pendingLength = 0;
    // One more character than the cap: the unfinished record may end in the CR of a CRLF.
    if (tail.length > options.maxRecordBytes + 1) {
      return [out, recordTooLarge(options.file, parser.line, tailStart, options.maxRecordBytes)];
    }
    return [out, null];
  };

  for await (const chunk of chunks) {
    pending.push(chunk);
    pendingLength += chunk.text.length;
    if (pendingLength < tail.length) continue;
    const [out, error] = run(false);
    if (out.length > 0) yield out;
    if (error) throw error;
    if (options.until?.()) return;
  }
  if (options.until?.()) return;
  const [out, error] = run(true);
  if (out.length > 0) yield out;
  if (error) throw error;
}
