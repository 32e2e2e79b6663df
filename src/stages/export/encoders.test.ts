import { describe, expect, it } from 'vitest';
import { emptyFields, toFields, type Fields } from '../../core/record.js';
import { createEncoder, jsonObject } from './encoders.js';
import type { ExportFormat } from './types.js';

function encodeAll(format: ExportFormat, records: Fields[], columns: string[] = []): string {
  const encoder = createEncoder(format, { columns, formulaGuard: true, checkEveryRecord: true });
  return encoder.head() + records.map((r) => encoder.record(r)).join('') + encoder.tail();
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
    const fields = emptyFields();
    fields.id = 2n ** 64n;
    fields.name = 'big';
    fields.gone = undefined;
    expect(jsonObject(fields)).toBe('{"id":18446744073709551616,"name":"big"}');
  });

  it('still fails on values JSON cannot express at all', () => {
    const fields = emptyFields();
    fields.nested = { deep: 1n };
    expect(() => jsonObject(fields)).toThrow(/BigInt/);
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
    const encoder = createEncoder('csv', { columns: ['a'], formulaGuard: true, checkEveryRecord: true });
    encoder.record(toFields({ a: 1 }));
    expect(() => encoder.record(toFields({ a: 1, surprise: 2 }))).toThrow(/"surprise" that is not in the header/);
  });

  it('with a schema header, checks the first record only (a table gives every row the same fields)', () => {
    const encoder = createEncoder('csv', { columns: ['a'], formulaGuard: true, checkEveryRecord: false });
    expect(() => encoder.record(toFields({ a: 1, b: 2 }))).toThrow(/"b"/);
    const fresh = createEncoder('csv', { columns: ['a'], formulaGuard: true, checkEveryRecord: false });
    fresh.record(toFields({ a: 1 }));
    expect(fresh.record(toFields({ a: 2, b: 2 }))).toBe('2\r\n');
  });
});
