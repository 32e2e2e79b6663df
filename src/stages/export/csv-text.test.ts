import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TEXT_CELL_SEPARATOR, TEXT_ROW_SEPARATOR, type TextBatch } from '../../core/row-batch.js';
import { csvFromText } from './csv-text.js';
import { csvLine } from './csv.js';

/** A TextBatch as the database writes one: each cell String() of its value, '' for null. */
function textBatch(columns: string[], rows: unknown[][]): TextBatch {
  const text = rows.map((row) => row.map((v) => (v === null ? '' : String(v))).join(TEXT_CELL_SEPARATOR)).join(TEXT_ROW_SEPARATOR);
  return { columns, count: rows.length, bytes: Buffer.from(text, 'utf8'), rows: () => Promise.resolve(rows) };
}

const decoded = (bytes: Uint8Array | null): string | null => (bytes === null ? null : Buffer.from(bytes).toString('utf8'));
const byValues = (rows: unknown[][], formulaGuard: boolean): string => rows.map((row) => csvLine(row, { formulaGuard })).join('');

const TRICKY = ['plain', '', 'a,b', 'say "hi"', 'two\nlines', 'cr\r\nlf', '=1+2', '+cmd', '@x', '-abc', '-5', '-5.5', '+5', '-', '\tx', 'x\ty', 'émoji 🎉', "'quoted", ' =x'];

describe('csvFromText', () => {
  it.each([true, false])('writes what csvLine writes for the same values (guard %s)', (formulaGuard) => {
    const rows = TRICKY.map((text, i) => [text, i % 2 === 0 ? -i - 0.25 : i, null, `${text}-${i}`]);
    expect(decoded(csvFromText(textBatch(['a', 'b', 'c', 'd'], rows), { formulaGuard }))).toBe(byValues(rows, formulaGuard));
  });

  it('agrees with csvLine on any text, numbers and nulls', () => {
    const cell = fc.oneof(fc.string({ unit: 'grapheme' }), fc.constantFrom(...TRICKY), fc.integer().map(Number), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }), fc.constant(null));
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 5 }), fc.boolean(), fc.array(fc.array(cell, { minLength: 5, maxLength: 5 }), { minLength: 1, maxLength: 20 }), (width, formulaGuard, raw) => {
        const rows = raw.map((row) => row.slice(0, width));
        const columns = rows[0]!.map((_v, i) => `c${i}`);
        const written = decoded(csvFromText(textBatch(columns, rows), { formulaGuard }));
        // null only when the data holds a separator character; otherwise byte for byte the same
        if (written !== null) expect(written).toBe(byValues(rows, formulaGuard));
        else expect(JSON.stringify(rows)).toMatch(/\\u001[ef]/);
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ['a unit separator', 'x\u001fy'],
    ['two unit separators', 'x\u001f\u001fy'],
    ['one next to a cell separator', 'x\u001f'],
    ['a record separator', 'x\u001ey'],
    ['one in a cell that needs quotes', 'a,\u001fb'],
    ['a record separator in a cell that needs quotes', 'a,\u001eb'],
  ])('gives up on %s in the data: the cells cannot be told apart', (_what, text) => {
    expect(csvFromText(textBatch(['a', 'b'], [['k', text], ['k2', 'v']]), { formulaGuard: true })).toBeNull();
    expect(csvFromText(textBatch(['a', 'b'], [[text, 'v']]), { formulaGuard: false })).toBeNull();
  });

  it('leaves one-column rows to the values: an empty line is written `""`', () => {
    expect(csvFromText(textBatch(['a'], [[''], ['x']]), { formulaGuard: true })).toBeNull();
  });

  it('copies rows with nothing to quote byte for byte, separators turned into commas and CRLF', () => {
    const batch = textBatch(['a', 'b', 'c'], [['1', 'x', ''], ['2', 'ü', '-3.5']]);
    expect(decoded(csvFromText(batch, { formulaGuard: true }))).toBe('1,x,\r\n2,ü,-3.5\r\n');
  });
});
