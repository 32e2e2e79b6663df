import { describe, expect, it } from 'vitest';
import { columnTypeOf, copyChunks, copyField, ledgerText, toPgText } from './values.js';

describe('COPY text format', () => {
  it('escapes backslash, tab, newline and carriage return, and writes NULL as \\N', () => {
    expect(copyField('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
    expect(copyField('\\N')).toBe('\\\\N');
    expect(copyField(null)).toBe('\\N');
    expect(copyField(undefined)).toBe('\\N');
    expect(copyField('plain é 😀')).toBe('plain é 😀');
  });

  it('writes values as the text PostgreSQL parses', () => {
    expect(toPgText(9007199254740993n)).toBe('9007199254740993');
    expect(toPgText(1.5)).toBe('1.5');
    expect(toPgText(true)).toBe('true');
    // Nested BigInt as JSON text of its digits, like the pipeline's safeJson.
    expect(toPgText({ a: [1, 2n] })).toBe('{"a":[1,"2"]}');
  });

  it('refuses a NUL in target text, keeps it visible in ledger text', () => {
    expect(() => copyField('a\u0000b')).toThrow(/NUL byte/);
    expect(ledgerText('a\u0000b')).toBe('a\\u0000b');
    expect(ledgerText(null)).toBeNull();
  });

  it('chunks rows into lines of tab-separated fields', () => {
    const rows = Array.from({ length: 20_000 }, (_v, i) => [i, `v\t${i}`]);
    const text = [...copyChunks(rows, (r) => r)].join('');
    expect(text.split('\n')).toHaveLength(20_001);
    expect(text.startsWith('0\tv\\t0\n1\tv\\t1\n')).toBe(true);
    expect([...copyChunks(rows, (r) => r)].length).toBeGreaterThan(1);
  });
});

describe('columnTypeOf', () => {
  it('reads a catalog type with or without its modifier', () => {
    expect(['bigint', 'integer', 'smallint', 'numeric', 'numeric(10,2)', 'double precision', 'boolean', 'character varying(5)', 'text'].map(columnTypeOf)).toEqual([
      'integer',
      'integer',
      'integer',
      'real',
      'real',
      'real',
      'boolean',
      'text',
      'text',
    ]);
  });
});
