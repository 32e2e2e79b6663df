import { readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { Format } from '../../core/settings.js';
import { decodeAll, tempDir } from '../../../test/fixtures/decode/helpers.js';
import { decodeFile, resumeAfter } from './decode.js';
import { DEFAULT_LIMITS } from '../../core/settings.js';

const dir = tempDir();
afterAll(() => dir.remove());

// Records spanning lines, blank lines, problem records and multibyte text: where resuming is easy to get wrong.
const files: [Format, string, string][] = [
  ['csv', 'r.csv', '\uFEFFid,note\r\n1,"multi\nline é"\r\n\r\n2,plain\n3,"x"\n4,too,many\n5,"a\n""b""\nc"\n6,last'],
  ['json', 'r.json', '[\n  {"id": 1,\n   "note": "é"},\n  {"id": 2}, 3,\n\n  {"id": 9007199254740993},\n  {"id": 5}\n]\n'],
  ['json', 'one.json', '{"id": 1,\n "only": true}\n'],
  ['ndjson', 'r.ndjson', '{"id":1}\r\n\n{"id":"é"}\nnot json\n[1]\n{"id":5}'],
  ['lines', 'r.txt', 'one\r\n\ntwo é\n  \nthree\nfour\n'],
];

describe('resume', () => {
  it.each(files)('%s (%s): a resumed decode yields exactly the tail of a full decode', async (format, name, content) => {
    const path = dir.write(name, content);
    const full = await decodeAll(path, { format });
    expect(full.length).toBeGreaterThan(0);
    for (let k = 0; k < full.length; k++) {
      const resume = resumeAfter(full[k]!);
      expect(resume.byteOffset).not.toBeNull();
      expect(await decodeAll(path, { format, resume })).toEqual(full.slice(k + 1));
      // Without a byte offset (or when it cannot seek) the decode skips by position.
      expect(await decodeAll(path, { format, resume: { ...resume, byteOffset: null } })).toEqual(full.slice(k + 1));
    }
  });

  it.each(files)('%s (%s) in gzip: resumes by position', async (format, name, content) => {
    const path = dir.writeGzip(`${name}.gz`, content);
    const full = await decodeAll(path, { format });
    for (let k = 0; k < full.length; k++) {
      const resume = resumeAfter(full[k]!);
      expect(resume.byteOffset).toBeNull();
      expect(await decodeAll(path, { format, resume, chunkSize: 7 })).toEqual(full.slice(k + 1));
    }
  });

  it('seeks instead of re-reading: onBytes sees only the bytes after the resume point', async () => {
    const content = `id,v\n${Array.from({ length: 5000 }, (_, i) => `${i},value ${i}`).join('\n')}\n`;
    const path = dir.write('seek.csv', content);
    const full = await decodeAll(path, { format: 'csv' });
    const resume = resumeAfter(full[3999]!);
    let read = 0;
    const rest = await decodeAll(path, { format: 'csv', resume, onBytes: (c) => (read += c.length) });
    expect(rest).toEqual(full.slice(4000));
    expect(read).toBe(Buffer.byteLength(content) - (resume.byteOffset as number));
  });

  it('closes the file when the consumer stops early', async () => {
    const path = dir.write('early.txt', 'a\nb\nc\n'.repeat(10_000));
    const openFiles = () => readdirSync('/proc/self/fd').length;
    const before = openFiles();
    for (let i = 0; i < 5; i++) {
      for await (const record of decodeFile(path, { format: 'lines', limits: DEFAULT_LIMITS })) {
        expect(record.position).toBe(1);
        break;
      }
    }
    expect(openFiles()).toBe(before);
  });

  it('yields nothing when resuming after the last record', async () => {
    const path = dir.write('done.ndjson', '{"a":1}\n{"a":2}\n');
    const full = await decodeAll(path, { format: 'ndjson' });
    expect(await decodeAll(path, { format: 'ndjson', resume: resumeAfter(full[1]!) })).toEqual([]);
  });
});
