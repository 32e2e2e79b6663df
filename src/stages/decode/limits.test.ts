import { chmodSync, mkdirSync, openSync, readdirSync, writeSync, closeSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type Format } from '../../core/settings.js';
import { decodeAll, decodeError, tempDir } from '../../../test/fixtures/decode/helpers.js';
import { readBytes } from './read-bytes.js';

const dir = tempDir();
afterAll(() => dir.remove());
const KIB = 1024;
const small = { ...DEFAULT_LIMITS, maxRecordBytes: KIB };

/** Writes `prefix`, then `size` bytes of `fill`, then `suffix`, without holding it all in memory. */
function writeLarge(name: string, prefix: string, fill: string, size: number, suffix = ''): string {
  const path = dir.path(name);
  const fd = openSync(path, 'w');
  writeSync(fd, prefix);
  const block = fill.repeat(Math.ceil((1 << 20) / fill.length));
  for (let written = 0; written < size; written += block.length) writeSync(fd, block);
  writeSync(fd, suffix);
  closeSync(fd);
  return path;
}

describe('record size cap', () => {
  // Each hostile file is 32 MiB; the error must come after reading about the cap, not the file.
  const hostile: [string, Format, string, string, string][] = [
    ['a line with no end', 'lines', 'ok\n', 'x', ''],
    ['an NDJSON line with no end', 'ndjson', '{"a":1}\n', ' ', ''],
    ['a CSV field of tens of MB', 'csv', 'id,note\n1,ok\n2,"', 'y', '"\n'],
    ['an unclosed CSV quote', 'csv', 'id,note\n1,ok\n2,"', 'y\n', ''],
    ['a JSON element of tens of MB', 'json', '[{"a":1},\n{"a":"', 'z', '"}]'],
  ];

  it.each(hostile)('stops the file on %s with DECODE_TOO_LARGE, reading little of it', async (_, format, prefix, fill, suffix) => {
    const path = writeLarge(`hostile-${format}-${fill.length}`, prefix, fill, 32 << 20, suffix);
    let read = 0;
    const error = await decodeError(path, { format, limits: small, onBytes: (chunk) => (read += chunk.length) });
    expect(error.code).toBe('DECODE_TOO_LARGE');
    expect(error.line).toBe(prefix.split('\n').length);
    expect(error.message).toMatch(/record exceeds 1 KiB, the limit for one record .*raise --max-record-bytes/);
    expect(error.before).toHaveLength(1);
    expect(read).toBeLessThan(4 * 65536); // memory stays near the cap: the rest is never read
  });

  it.each([
    ['csv', 'h\n', 'a\n'],
    ['ndjson', '', '{"a":"b"}\n'],
    ['lines', '', 'a\n'],
  ] as const)('accepts a %s record of exactly the cap and refuses one byte more', async (format, header, sample) => {
    const exact = format === 'ndjson' ? `{"a":"${'b'.repeat(KIB - 8)}"}` : 'é'.repeat(KIB / 2);
    const over = format === 'ndjson' ? `{"a":"${'b'.repeat(KIB - 7)}"}` : `${'é'.repeat(KIB / 2)}x`;
    expect(Buffer.byteLength(exact)).toBe(KIB);
    const ok = await decodeAll(dir.write(`exact.${format}`, `${header}${sample}${exact}\r\n${sample}`), { format, limits: small, chunkSize: 100 });
    expect(ok).toHaveLength(3);
    const error = await decodeError(dir.write(`over.${format}`, `${header}${sample}${over}\n`), { format, limits: small, chunkSize: 100 });
    expect(error).toMatchObject({ code: 'DECODE_TOO_LARGE', line: header ? 3 : 2 });
  });

  it('streams a JSON array: the first element arrives after reading a chunk, not the file', async () => {
    const element = JSON.stringify({ id: 1, text: 'x'.repeat(100) });
    const path = writeLarge('big-array.json', `[${element}`, `,${element}`, 16 << 20, ']');
    let read = 0;
    for await (const record of (await import('./decode.js')).decodeFile(path, {
      format: 'json',
      limits: DEFAULT_LIMITS,
      onBytes: (chunk) => (read += chunk.length),
    })) {
      expect(record.fields?.id).toBe(1);
      break;
    }
    expect(read).toBeLessThanOrEqual(65536);
  });
});

describe('gzip', () => {
  it('gunzips by the .gz name, and by the magic bytes without it', async () => {
    const content = 'id,v\n1,a\n2,b\n';
    const byName = await decodeAll(dir.writeGzip('a.csv.gz', content), { format: 'csv' });
    const byMagic = await decodeAll(dir.writeGzip('b.csv', content), { format: 'csv' });
    expect(byName.map((r) => ({ ...r.fields }))).toEqual([{ id: '1', v: 'a' }, { id: '2', v: 'b' }]);
    expect(byMagic).toEqual(byName);
    expect(byName.map((r) => r.endOffset)).toEqual([null, null]);
  });

  it('fails a truncated .gz with DECODE_GZIP', async () => {
    const packed = gzipSync(Buffer.from('line\n'.repeat(10_000)));
    const path = dir.write('cut.txt.gz', packed.subarray(0, packed.length - 20));
    const error = await decodeError(path, { format: 'lines' });
    expect(error.code).toBe('DECODE_GZIP');
    expect(error.message).toMatch(/cut\.txt\.gz: the gzip data ends too early .*truncated/);
  });

  it('fails a .gz that is not gzip with DECODE_GZIP', async () => {
    const error = await decodeError(dir.write('fake.csv.gz', 'id\n1\n'), { format: 'csv' });
    expect(error.code).toBe('DECODE_GZIP');
    expect(error.message).toMatch(/not valid gzip data/);
  });

  it('stops a decompression bomb at maxDecompressedBytes with DECODE_TOO_LARGE', async () => {
    const path = dir.write('bomb.txt.gz', gzipSync(Buffer.alloc(64 << 20, 'a')));
    let read = 0;
    const limits = { ...DEFAULT_LIMITS, maxDecompressedBytes: 1 << 20 };
    const error = await decodeError(path, { format: 'lines', limits, onBytes: (c) => (read += c.length) });
    expect(error.code).toBe('DECODE_TOO_LARGE');
    expect(error.message).toMatch(/decompresses to more than 1 MiB.*raise --max-decompressed-bytes/);
    const exact = await decodeAll(dir.writeGzip('fits.txt.gz', 'a'.repeat(1 << 20)), { format: 'lines', limits: { ...limits, maxRecordBytes: 2 << 20 } });
    expect(exact).toHaveLength(1);
  });

  it('passes the stored (compressed) bytes to onBytes', async () => {
    const packed = gzipSync(Buffer.from('x\n'.repeat(50_000)));
    const path = dir.write('progress.txt.gz', packed);
    const chunks: Buffer[] = [];
    await decodeAll(path, { format: 'lines', chunkSize: 4096, onBytes: (c) => chunks.push(Buffer.from(c)) });
    expect(Buffer.concat(chunks).equals(packed)).toBe(true);
  });
});

describe('unreadable files', () => {
  it('ENOENT is DECODE_IO in plain words', async () => {
    const path = dir.path('missing.csv');
    const error = await decodeError(path, { format: 'csv' });
    expect(error).toMatchObject({ code: 'DECODE_IO', file: path });
    expect(error.message).toBe(`${path}: cannot read the file: no such file or directory`);
  });

  it('ENOENT is DECODE_IO for a .gz name too', async () => {
    const path = dir.path('missing.csv.gz');
    const error = await decodeError(path, { format: 'csv' });
    expect(error.message).toBe(`${path}: cannot read the file: no such file or directory`);
  });

  it('EISDIR is DECODE_IO', async () => {
    const path = dir.path('a-directory.csv');
    mkdirSync(path);
    const error = await decodeError(path, { format: 'csv' });
    expect(error.message).toBe(`${path}: cannot read the file: is a directory`);
  });

  it.skipIf(process.getuid?.() === 0)('EACCES is DECODE_IO (skipped as root, who may read anything)', async () => {
    const path = dir.write('secret.csv', 'a\n1\n');
    chmodSync(path, 0o000);
    const error = await decodeError(path, { format: 'csv' });
    expect(error.message).toBe(`${path}: cannot read the file: permission denied`);
  });

  it('passes every stored byte to onBytes, in order', async () => {
    const content = 'id\n'.concat('1\n'.repeat(10_000));
    const chunks: Buffer[] = [];
    await decodeAll(dir.write('all.csv', content), { format: 'csv', chunkSize: 999, onBytes: (c) => chunks.push(Buffer.from(c)) });
    expect(Buffer.concat(chunks).toString()).toBe(content);
    expect(Math.max(...chunks.map((c) => c.length))).toBe(999);
  });

  it('a reader stopped after its first chunk closes the file once the read ahead ends', async () => {
    const path = dir.write('stopped.csv', 'id\n'.concat('1\n'.repeat(10_000)));
    const openFiles = (): number => readdirSync('/proc/self/fd').length;
    const before = openFiles();
    let seen = 0;
    const onBytes = (chunk: Buffer): void => void (seen += chunk.length);
    for await (const chunk of readBytes(path, { start: 0, chunkSize: 1000, gzip: false, maxDecompressedBytes: Infinity, onBytes })) {
      expect(chunk.length).toBe(1000);
      break;
    }
    // The second chunk was being read while the first was consumed; it is not counted as read.
    expect(seen).toBe(1000);
    expect(openFiles()).toBe(before);
  });
});
