import { describe, expect, it } from 'vitest';
import { csvCell, csvHeader, csvLine } from './csv.js';
import { neutralizeFormula } from './formula-guard.js';

const guarded = { formulaGuard: true };
const raw = { formulaGuard: false };

describe('neutralizeFormula', () => {
  it.each(['=1+2', '+cmd', '-2+3', '@SUM(A1)', '\tx', '\rx', '=HYPERLINK("http://evil")', '-', '+'])('prefixes %j with a quote', (text) => {
    expect(neutralizeFormula(text)).toBe(`'${text}`);
  });

  it.each(['-12.5', '+3', '-0', '1e-9', '-.5', '+1E+10', 'plain', '', "'=already", ' =x'])('leaves %j alone', (text) => {
    expect(neutralizeFormula(text)).toBe(text);
  });
});

describe('csvCell', () => {
  it('quotes per RFC 4180 only when needed', () => {
    expect(csvCell('plain text', raw)).toBe('plain text');
    expect(csvCell('a,b', raw)).toBe('"a,b"');
    expect(csvCell('say "hi"', raw)).toBe('"say ""hi"""');
    expect(csvCell('two\nlines', raw)).toBe('"two\nlines"');
    expect(csvCell('cr\rhere', raw)).toBe('"cr\rhere"');
  });

  it('writes null and undefined as empty cells, scalars as text, nested values as JSON text', () => {
    expect(csvCell(null, raw)).toBe('');
    expect(csvCell(undefined, raw)).toBe('');
    expect(csvCell(-12.5, raw)).toBe('-12.5');
    expect(csvCell(2n ** 70n, raw)).toBe('1180591620717411303424');
    expect(csvCell(false, raw)).toBe('false');
    expect(csvCell({ a: 1, b: [2, 'x'] }, raw)).toBe('"{""a"":1,""b"":[2,""x""]}"');
    expect(csvCell([1, 2], raw)).toBe('"[1,2]"');
    expect(csvCell(new Date('2024-05-01T10:00:00Z'), raw)).toBe('2024-05-01T10:00:00.000Z');
  });

  it('neutralizes formulas by default, then quotes what needs it', () => {
    expect(csvCell('=1+2', guarded)).toBe("'=1+2");
    expect(csvCell('=SUM(A1,A2)', guarded)).toBe(`"'=SUM(A1,A2)"`);
    expect(csvCell('-12.5', guarded)).toBe('-12.5');
    expect(csvCell(-12.5, guarded)).toBe('-12.5');
    expect(csvCell('=1+2', raw)).toBe('=1+2');
  });
});

describe('csvLine / csvHeader', () => {
  it('writes missing fields and nulls as empty cells', () => {
    expect(csvLine([undefined, 'B', null], guarded)).toBe(',B,\r\n');
  });

  it('writes an empty one-column record as "" so it is not a blank line', () => {
    expect(csvLine([undefined], guarded)).toBe('""\r\n');
  });

  it('guards and quotes the header too', () => {
    expect(csvHeader(['id', '=cmd()', 'a,b'], guarded)).toBe(`id,'=cmd(),"a,b"\r\n`);
  });
});
