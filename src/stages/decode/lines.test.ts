import { afterAll, describe, expect, it } from 'vitest';
import { decodeAll, tempDir } from '../../../test/fixtures/decode/helpers.js';

const dir = tempDir();
afterAll(() => dir.remove());

describe('lines', () => {
  it('gives each non-blank line as { line }, without its CR/LF, keeping inner spaces', async () => {
    const text = 'first\r\n\n  \t \n  second  \nthird';
    const records = await decodeAll(dir.write('a.txt', text), { format: 'lines' });
    expect(records.map((r) => ({ ...r.fields }))).toEqual([{ line: 'first' }, { line: '  second  ' }, { line: 'third' }]);
    expect(records.map((r) => [r.line, r.position, r.raw, r.endOffset])).toEqual([
      [1, 1, 'first', 7],
      [4, 2, '  second  ', text.indexOf('third')],
      [5, 3, 'third', text.length],
    ]);
    expect(Object.getPrototypeOf(records[0]?.fields)).toBeNull();
  });

  it('gives no records for an empty file or only blank lines', async () => {
    expect(await decodeAll(dir.write('empty.txt', ''), { format: 'lines' })).toEqual([]);
    expect(await decodeAll(dir.write('blank.txt', '\n\r\n \n'), { format: 'lines' })).toEqual([]);
  });
});
