import { describe, expect, it } from 'vitest';
import { formatDuration, formatInstant, renderPairs, renderTable, truncate } from './table.js';

describe('renderTable', () => {
  it('aligns text left and numbers right, two spaces apart, no trailing blanks', () => {
    const text = renderTable([{ header: 'NAME' }, { header: 'N', align: 'right' }], [['alpha', '1'], ['b', '200']]);
    expect(text).toBe(['NAME     N', 'alpha    1', 'b      200'].join('\n'));
  });

  it('fits 80 columns by truncating the shrinkable columns with …, two spaces apart', () => {
    const long = 'x'.repeat(60);
    const text = renderTable([{ header: 'ID' }, { header: 'PATH', min: 10, keep: 'end' }, { header: 'MESSAGE', min: 10 }], [['1', `/a/${long}/file.csv`, `m${long}`]]);
    const lines = text.split('\n');
    expect(Math.max(...lines.map((l) => [...l].length))).toBe(80);
    expect(lines[1]).toMatch(/^1 {3}…x+\/file\.csv {2}mx+…$/);
  });

  it('tightens the gap to one space when truncating cannot make it fit', () => {
    const text = renderTable([{ header: 'A' }, { header: 'B', min: 38 }, { header: 'C' }], [['a'.repeat(20), 'b'.repeat(40), 'c'.repeat(20)]]);
    expect(text.split('\n')[1]).toBe(`${'a'.repeat(20)} ${'b'.repeat(37)}… ${'c'.repeat(20)}`);
  });

  it('keeps columns without a minimum whole', () => {
    const text = renderTable([{ header: 'KEEP' }, { header: 'CUT', min: 3 }], [['k'.repeat(70), 'c'.repeat(30)]]);
    expect(text.split('\n')[1]).toBe(`${'k'.repeat(70)}  ${'c'.repeat(7)}…`);
  });

  it('puts a cell on one line', () => {
    expect(renderTable([{ header: 'A' }], [['one\ntwo\tthree']])).toBe('A\none two three');
  });
});

describe('helpers', () => {
  it('truncates by code points', () => {
    expect(truncate('héllo wörld', 6)).toBe('héllo…');
    expect(truncate('/long/path/name.csv', 9, 'end')).toBe('…name.csv');
    expect(truncate('short', 9)).toBe('short');
  });

  it('formats durations and instants', () => {
    expect([formatDuration(950), formatDuration(12_340), formatDuration(270_000), formatDuration(7_560_000), formatDuration(null)]).toEqual(['950ms', '12.3s', '4.5min', '2.1h', '-']);
    expect(formatInstant('2025-01-15T08:00:05.123Z')).toBe('2025-01-15 08:00');
  });

  it('aligns label: value pairs and indents multi-line values', () => {
    expect(renderPairs([['id', '1'], ['raw record', '{\n  "a": 1\n}']])).toBe(['id:         1', 'raw record: {', '              "a": 1', '            }'].join('\n'));
  });
});
