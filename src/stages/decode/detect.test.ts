import { describe, expect, it } from 'vitest';
import { detectFormat, resumeAfter } from './decode.js';

describe('detectFormat', () => {
  it.each([
    ['data/x.csv', 'csv'],
    ['X.CSV', 'csv'],
    ['a.json', 'json'],
    ['a.ndjson', 'ndjson'],
    ['a.jsonl', 'ndjson'],
    ['notes.txt', 'lines'],
    ['a.csv.gz', 'csv'],
    ['A.JSONL.GZ', 'ndjson'],
    ['events.json.gz', 'json'],
  ])('%s is %s', (path, format) => {
    expect(detectFormat(path)).toBe(format);
  });

  it.each(['a.xlsx', 'a.gz', 'README', 'dir.csv/file', 'a.csv.zip', 'a.tsv'])('%s is unknown', (path) => {
    expect(detectFormat(path)).toBeNull();
  });
});

describe('resumeAfter', () => {
  it('checkpoints the line where the next record can start, not the line of the record', () => {
    const record = { fields: null, line: 4, position: 3, endOffset: 120, endLine: 7, raw: 'x' };
    expect(resumeAfter(record)).toEqual({ position: 3, line: 7, byteOffset: 120 });
  });
});
