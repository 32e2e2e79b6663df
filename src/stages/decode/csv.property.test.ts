import fc from 'fast-check';
import { stringify } from 'csv-stringify/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeAll, tempDir } from '../../../test/fixtures/decode/helpers.js';

const dir = tempDir();
afterAll(() => dir.remove());

// Values full of what CSV must quote (comma, quote, CR, LF) and of multibyte characters.
const cell = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r', ' ', 'é', '日', '😀'), maxLength: 6 });

describe('csv: round trip with an independent writer (csv-stringify)', () => {
  it('decodes any table exactly, whatever the chunk size and line ending', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }).chain((width) =>
          fc.tuple(
            fc.uniqueArray(fc.stringMatching(/^[a-z]{1,3}$/), { minLength: width, maxLength: width }),
            // A row of only empty values in a one-column file is a blank line: keep rows non-blank.
            fc.array(fc.array(cell, { minLength: width, maxLength: width }).filter((row) => row.join('') !== ''), { maxLength: 8 }),
          ),
        ),
        fc.constantFrom('\n', '\r\n'),
        fc.integer({ min: 1, max: 40 }),
        async ([header, rows], eol, chunkSize) => {
          // csv-stringify leaves a lone LF unquoted in a CRLF file (not RFC 4180): ask it to quote.
          const text = stringify([header, ...rows], { record_delimiter: eol === '\n' ? 'unix' : 'windows', quoted_match: /[\r\n]/ });
          const path = dir.write('property.csv', text);
          const records = await decodeAll(path, { format: 'csv', chunkSize });
          expect(records.map((r) => r.problem ?? header.map((name) => r.fields?.[name]))).toEqual(rows);
          expect(records.at(-1)?.endOffset ?? Buffer.byteLength(text)).toBe(Buffer.byteLength(text));
        },
      ),
      { numRuns: 300 },
    );
  });
});
