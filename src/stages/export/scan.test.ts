import { describe, expect, it } from 'vitest';
import { requireFailureMessage, requiredCheck, scanRecords } from './scan.js';
import { sourceOf } from '../../../test/fixtures/export/helpers.js';

describe('scanRecords', () => {
  it('collects the union of fields in first-seen order', async () => {
    const source = sourceOf([{ b: 1, a: 2 }, { c: 3 }, { a: 4, d: 5 }]);
    const scan = await scanRecords(source(), { require: [], collectColumns: true });
    expect(scan.columns).toEqual(['b', 'a', 'c', 'd']);
    expect(scan.count).toBe(3);
  });

  it('counts every failing record but lists only the first few, with record numbers', async () => {
    const records = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? { name: 'x', email: '' } : { name: 'y', email: 'y@x' }));
    const scan = await scanRecords(sourceOf(records)(), { require: ['name', 'email'], collectColumns: false });
    expect(scan.problemCount).toBe(6);
    expect(scan.problems.map((p) => p.record)).toEqual([1, 3, 5, 7, 9]);
    expect(requireFailureMessage('out.csv', scan)).toBe(
      'nothing exported to out.csv: 6 of 12 records lack required fields: record 1 (email); record 3 (email); record 5 (email); record 7 (email); record 9 (email); and 1 more',
    );
  });
});

describe('requiredCheck', () => {
  it('treats absent, null, empty and blank text as missing; 0 and false as present', () => {
    const check = requiredCheck(['a', 'b', 'c', 'd', 'e', 'f', 'h'], ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
    expect(check([null, '', '  ', 0, false, 'x', undefined])).toEqual(['a', 'b', 'c', 'g', 'h']);
  });
});
