import { afterAll, describe, expect, it } from 'vitest';
import type { Format } from '../../core/settings.js';
import { decodeAll, decodeError, tempDir } from '../../../test/fixtures/decode/helpers.js';
import { findInvalidUtf8, incompleteTail } from './utf8.js';

const dir = tempDir();
afterAll(() => dir.remove());

/** Samples of every format, full of multibyte characters (2, 3 and 4 bytes) and edge cases. */
const multibyte = ['é', 'ß', '日本', '€', '😀', '𝄞', 'ça'];
const rows = Array.from({ length: 60 }, (_, i) => `${i},${multibyte[i % 7]}${multibyte[(i + 3) % 7]}`);
const samples: [Format, string, string][] = [
  ['csv', 'mixed.csv', `\uFEFFid,text,note\r\n${rows.map((r, i) => `${r},"q ""${i}"", ${multibyte[i % 7]}\n${i}"`).join('\r\n')}\r\n\r\n1,2\n`],
  ['csv', 'all-multibyte.csv', `名前,値\n${Array.from({ length: 80 }, (_, i) => `日本語${i}😀,€ß${'é'.repeat(i % 9)}`).join('\n')}\n`],
  ['json', 'mixed.json', `[\n${rows.map((r) => `  {"v": ${JSON.stringify(r)}, "n": [1, {"é": "😀"}]}`).join(',\n')},\n  5\n]\n`],
  ['ndjson', 'mixed.ndjson', `${rows.map((r) => JSON.stringify({ v: r })).join('\n')}\n\nnot json 😀\n[1]\n`],
  ['lines', 'mixed.txt', `${rows.join('\r\n')}\n\n  \nlast 𝄞`],
];

describe('utf-8 across chunk edges', () => {
  it.each(samples)('%s (%s): chunk sizes 1, 7 and 65536 give identical records', async (format, name, content) => {
    const path = dir.write(name, content);
    const full = await decodeAll(path, { format, chunkSize: 65536 });
    expect(full.length).toBeGreaterThan(50);
    expect(full.some((r) => Buffer.byteLength(r.raw) > r.raw.length)).toBe(true);
    for (const chunkSize of [1, 7]) {
      expect(await decodeAll(path, { format, chunkSize })).toEqual(full);
    }
  });

  it('the same in gzip', async () => {
    const [format, , content] = samples[0] as [Format, string, string];
    const full = await decodeAll(dir.write('plain.csv', content), { format });
    const gzipped = dir.writeGzip('packed.csv.gz', content);
    for (const chunkSize of [1, 7, 65536]) {
      const records = await decodeAll(gzipped, { format, chunkSize });
      expect(records).toEqual(full.map((r) => ({ ...r, endOffset: null })));
    }
  });

  it('decodes multibyte text exactly (no U+FFFD)', async () => {
    const path = dir.write('exact.txt', '日本語 😀 é\n');
    const [record] = await decodeAll(path, { format: 'lines', chunkSize: 1 });
    expect(record?.fields?.line).toBe('日本語 😀 é');
  });
});

describe('invalid utf-8', () => {
  const latin1 = Buffer.concat([Buffer.from('id,name\n1,ok\n2,caf'), Buffer.from([0xe9]), Buffer.from('\n3,x\n')]);

  it.each([1, 7, 65536])('is a file error naming the file, line and byte of the first bad byte (chunk %i)', async (chunkSize) => {
    const path = dir.write('latin1.csv', latin1);
    const error = await decodeError(path, { format: 'csv', chunkSize });
    expect(error).toMatchObject({ code: 'DECODE_UTF8', file: path, offset: 18, line: 3 });
    expect(error.message).toBe(
      `${path}: invalid UTF-8 at byte 18 (line 3, byte 0xe9) (expected UTF-8 text; is the file in another encoding? convert it with iconv -f latin1 -t utf-8)`,
    );
  });

  it('is never replaced by U+FFFD, in any format', async () => {
    for (const format of ['csv', 'json', 'ndjson', 'lines'] as const) {
      const path = dir.write(`bad-${format}`, Buffer.concat([Buffer.from('{"a": "x'), Buffer.from([0xff]), Buffer.from('"}\n')]));
      expect((await decodeError(path, { format })).code).toBe('DECODE_UTF8');
    }
  });

  it('catches a multibyte character cut off at the end of the file', async () => {
    const path = dir.write('cut.txt', Buffer.from('ok\n日本').subarray(0, 7));
    const error = await decodeError(path, { format: 'lines', chunkSize: 2 });
    expect(error).toMatchObject({ code: 'DECODE_UTF8', offset: 6 });
  });

  it('rejects overlong forms, surrogates and code points above U+10FFFF', () => {
    expect(findInvalidUtf8(Buffer.from('abc'))).toBe(-1);
    expect(findInvalidUtf8(Buffer.from('é日😀'))).toBe(-1);
    expect(findInvalidUtf8(Buffer.from([0x61, 0xc0, 0x80]))).toBe(1);
    expect(findInvalidUtf8(Buffer.from([0xed, 0xa0, 0x80]))).toBe(0);
    expect(findInvalidUtf8(Buffer.from([0xf4, 0x90, 0x80, 0x80]))).toBe(0);
    expect(findInvalidUtf8(Buffer.from([0x61, 0x62, 0x80]))).toBe(2);
    expect(findInvalidUtf8(Buffer.from([0xe6, 0x97]))).toBe(0);
  });

  it('carries only a character still to be completed', () => {
    const euro = Buffer.from('€');
    expect(incompleteTail(Buffer.from('ab'))).toBe(0);
    expect(incompleteTail(euro)).toBe(0);
    expect(incompleteTail(euro.subarray(0, 1))).toBe(1);
    expect(incompleteTail(euro.subarray(0, 2))).toBe(2);
    expect(incompleteTail(Buffer.from('😀').subarray(0, 3))).toBe(3);
  });
});

describe('binary input', () => {
  it('is a file error when a NUL byte appears in the first 8 KiB', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]);
    for (const chunkSize of [1, 65536]) {
      const error = await decodeError(dir.write('image.csv', png), { format: 'csv', chunkSize });
      expect(error).toMatchObject({ code: 'DECODE_BINARY', offset: 8 });
      expect(error.message).toMatch(/looks like a binary file/);
    }
  });

  it('finds a NUL late in the first 8 KiB, also inside gzip', async () => {
    const content = Buffer.concat([Buffer.from(`${'a'.repeat(8000)}\n`), Buffer.from([0])]);
    expect((await decodeError(dir.write('late.txt', content), { format: 'lines', chunkSize: 7 })).code).toBe('DECODE_BINARY');
    expect((await decodeError(dir.writeGzip('late.txt.gz', content), { format: 'lines' })).code).toBe('DECODE_BINARY');
  });
});
