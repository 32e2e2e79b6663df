/**
 * Bytes → text, strictly: invalid UTF-8 stops the file (DECODE_UTF8, naming the byte offset of
 * the first bad byte) instead of being replaced by U+FFFD, which would silently corrupt values.
 * A multibyte character split across two chunks is carried over, so the text does not depend on
 * the chunk size.
 */
import { isAscii } from 'node:buffer';
import { SluiceError } from '../../core/errors.js';

export interface TextChunk {
  text: string;
  /** Every character is ASCII: character index = byte count, no UTF-8 length to compute. */
  ascii: boolean;
  /** Byte offset of `text[0]` in the (decompressed) content. */
  byteStart: number;
  /** Byte offset just past `text`. */
  byteEnd: number;
}

export interface TextOptions {
  file: string;
  /** Byte offset of the first byte of the stream in the content. */
  start: number;
  /** Line number at `start`, for messages. */
  startLine: number;
  /** At the start of the file: strip a UTF-8 BOM, and sniff for binary content. */
  atFileStart: boolean;
}

/** How much of the start of a file is searched for a NUL byte (as git and grep do). */
export const BINARY_SNIFF_BYTES = 8192;

// Non-streaming and ignoreBOM: each call decodes a complete run of characters (we carry split
// characters ourselves, which tells us exactly how many bytes each text chunk covers), and a
// U+FEFF inside the file is data; only the one at byte 0 is a BOM, stripped in sniff().
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Bytes at the end of `data` that begin a character whose remaining bytes are still to come. */
export function incompleteTail(data: Buffer): number {
  const n = data.length;
  for (let k = 1; k <= 3 && k <= n; k++) {
    const byte = data[n - k] as number;
    if (byte < 0x80) return 0;
    if (byte >= 0xc0) {
      const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      return length > k ? k : 0;
    }
  }
  return 0;
}

/** Index of the first byte of the first invalid UTF-8 sequence in `data`, or -1 (RFC 3629). */
export function findInvalidUtf8(data: Uint8Array): number {
  let i = 0;
  while (i < data.length) {
    const b = data[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b === 0xe0) [need, low] = [2, 0xa0];
    else if (b === 0xed) [need, high] = [2, 0x9f]; // no UTF-16 surrogates
    else if (b >= 0xe1 && b <= 0xef) need = 2;
    else if (b === 0xf0) [need, low] = [3, 0x90];
    else if (b === 0xf4) [need, high] = [3, 0x8f]; // nothing above U+10FFFF
    else if (b >= 0xf1 && b <= 0xf3) need = 3;
    else return i;
    for (let k = 1; k <= need; k++) {
      const c = data[i + k];
      const min = k === 1 ? low : 0x80;
      const max = k === 1 ? high : 0xbf;
      if (c === undefined || c < min || c > max) return i;
    }
    i += need + 1;
  }
  return -1;
}

function countNewlines(data: Buffer, end: number): number {
  let count = 0;
  for (let i = data.indexOf(10); i !== -1 && i < end; i = data.indexOf(10, i + 1)) count++;
  return count;
}

function utf8Error(options: TextOptions, data: Buffer, offset: number, line: number): SluiceError {
  const bad = Math.max(0, findInvalidUtf8(data));
  const at = offset + bad;
  const badLine = line + countNewlines(data, bad);
  const found = (data[bad] ?? 0).toString(16).padStart(2, '0');
  return new SluiceError(
    'DECODE_UTF8',
    `${options.file}: invalid UTF-8 at byte ${at} (line ${badLine}, byte 0x${found}) (expected UTF-8 text; is the file in another encoding? convert it with iconv -f latin1 -t utf-8)`,
    { file: options.file, line: badLine, offset: at, hint: `iconv -f latin1 -t utf-8 ${options.file}` },
  );
}

/** Strips a BOM and refuses binary content; returns the data and how many bytes were stripped. */
function sniff(options: TextOptions, data: Buffer): [Buffer, number] {
  const nul = data.subarray(0, BINARY_SNIFF_BYTES).indexOf(0);
  if (nul !== -1) {
    throw new SluiceError(
      'DECODE_BINARY',
      `${options.file}: looks like a binary file (a NUL byte at byte ${options.start + nul}); expected UTF-8 text (CSV, JSON, NDJSON or lines)`,
      { file: options.file, offset: options.start + nul },
    );
  }
  const bom = data.length >= 3 && data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf;
  return bom ? [data.subarray(3), 3] : [data, 0];
}

/** Decodes the bytes of a stream into text chunks; see the file comment. */
export async function* decodeUtf8(bytes: AsyncIterable<Buffer>, options: TextOptions): AsyncGenerator<TextChunk> {
  let offset = options.start; // content offset of the next undecoded byte
  let line = options.startLine;
  let carry: Buffer[] = [];
  let carried = 0;
  let sniffing = options.atFileStart;

  const decode = (data: Buffer, final: boolean): TextChunk | null => {
    if (sniffing) {
      const [rest, stripped] = sniff(options, data);
      [data, sniffing] = [rest, false];
      offset += stripped;
    }
    const keep = final ? 0 : incompleteTail(data);
    const whole = keep === 0 ? data : data.subarray(0, data.length - keep);
    carry = keep === 0 ? [] : [Buffer.from(data.subarray(data.length - keep))];
    carried = keep;
    if (whole.length === 0) return null;
    const ascii = isAscii(whole);
    let text: string;
    if (ascii) text = whole.toString('latin1');
    else {
      try {
        text = strictDecoder.decode(whole);
      } catch {
        throw utf8Error(options, whole, offset, line);
      }
    }
    const chunk = { text, ascii, byteStart: offset, byteEnd: offset + whole.length };
    offset = chunk.byteEnd;
    line += countNewlines(whole, whole.length);
    return chunk;
  };

  for await (const bytesIn of bytes) {
    carry.push(bytesIn);
    carried += bytesIn.length;
    // Before sniffing, gather the first 8 KiB so the verdict does not depend on the chunk size.
    if (sniffing && carried < BINARY_SNIFF_BYTES) continue;
    const chunk = decode(carry.length === 1 ? (carry[0] as Buffer) : Buffer.concat(carry), false);
    if (chunk) yield chunk;
  }
  if (carried > 0 || sniffing) {
    // At the end, a carried partial character is invalid: decode() reports it.
    const chunk = decode(Buffer.concat(carry), true);
    if (chunk) yield chunk;
  }
}
