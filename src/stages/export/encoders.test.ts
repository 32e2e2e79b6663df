import { describe, expect, it } from 'vitest';
import { toFields, type Fields } from '../../core/record.js';
import { createEncoder, type RecordEncoder } from './encoders.js';
import type { ExportFormat } from './types.js';

/** One record through an encoder, as a batch of one row. */
function encodeOne(encoder: RecordEncoder, fields: Fields): string {
  const columns = Object.keys(fields);
  return encoder.rows(columns)(columns.map((name) => fields[name]));
}

function encodeAll(format: ExportFormat, records: Fields[], columns: string[] = []): string {
  const encoder = createEncoder(format, { columns, formulaGuard: true });
  return encoder.head() + records.map((r) => encodeOne(encoder, r)).join('') + encoder.tail();
}

function jsonObject(fields: Fields): string {
  return encodeOne(createEncoder('ndjson', { columns: [], formulaGuard: true }), fields).trimEnd();
}

const records = [toFields({ id: 1, name: 'Ann' }), toFields({ id: 2, tags: ['a'], name: null })];

describe('JSON array encoder', () => {
  it('writes a valid array with one record per line', () => {
    const text = encodeAll('json', records);
    expect(text).toBe('[\n{"id":1,"name":"Ann"},\n{"id":2,"tags":["a"],"name":null}\n]\n');
    expect(JSON.parse(text)).toEqual([{ id: 1, name: 'Ann' }, { id: 2, tags: ['a'], name: null }]);
  });

  it('writes [] for no records', () => {
    expect(JSON.parse(encodeAll('json', []))).toEqual([]);
  });
});

describe('NDJSON encoder', () => {
  it('writes one object per line', () => {
    expect(encodeAll('ndjson', records)).toBe('{"id":1,"name":"Ann"}\n{"id":2,"tags":["a"],"name":null}\n');
    expect(encodeAll('ndjson', [])).toBe('');
  });
});

describe('jsonObject', () => {
  it('writes a field named __proto__ as an ordinary field', () => {
    const fields = toFields(JSON.parse('{"__proto__": {"polluted": true}, "id": 1}') as object);
    const text = jsonObject(fields);
    expect(text).toBe('{"__proto__":{"polluted":true},"id":1}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('writes integers beyond 2^53 (BigInt from the database) as exact JSON numbers', () => {
    expect(jsonObject(toFields({ id: 2n ** 64n, name: 'big', gone: undefined }))).toBe('{"id":18446744073709551616,"name":"big"}');
  });

  it('writes values as JSON.stringify does: non-finite numbers as null, dates as ISO text, nested values as JSON', () => {
    const fields = toFields({ a: NaN, b: Infinity, c: new Date('2024-05-01T10:00:00Z'), d: { x: [1, 'y'] }, e: true, f: null, g: 'q"uote' });
    expect(jsonObject(fields)).toBe(JSON.stringify({ ...fields }));
  });

  it('still fails on values JSON cannot express at all', () => {
    expect(() => jsonObject(toFields({ nested: { deep: 1n } }))).toThrow(/BigInt/);
  });
});

describe('CSV encoder', () => {
  it('writes the header, then one line per record padded to the header', () => {
    const text = encodeAll('csv', [toFields({ a: 1, b: 'x' }), toFields({ c: 'only c' })], ['a', 'b', 'c']);
    expect(text).toBe('a,b,c\r\n1,x,\r\n,,only c\r\n');
  });

  it('writes nothing at all for no columns and no records', () => {
    expect(encodeAll('csv', [], [])).toBe('');
  });

  it('refuses a field the header lacks, instead of dropping it', () => {
    const encoder = createEncoder('csv', { columns: ['a'], formulaGuard: true });
    encodeOne(encoder, toFields({ a: 1 }));
    expect(() => encodeOne(encoder, toFields({ a: 1, surprise: 2 }))).toThrow(/"surprise" that is not in the header/);
  });

  it('puts the columns of a batch in header order', () => {
    const encoder = createEncoder('csv', { columns: ['a', 'b', 'c'], formulaGuard: true });
    const row = encoder.rows(['c', 'a']);
    expect(row(['C', 'A'])).toBe('A,,C\r\n');
    expect(encoder.rows(['a', 'b', 'c'])([1, null, undefined])).toBe('1,,\r\n');
  });
});
