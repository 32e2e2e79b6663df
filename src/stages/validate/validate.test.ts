import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toFields } from '../../core/record.js';
import { coerce } from './coerce.js';
import { compileSchemaFile, validateRecord } from './validate.js';

const rules = { require: ['key', 'value'], types: { value: 'number' as const }, schema: null };

describe('validateRecord', () => {
  it('rejects missing and empty required fields with the field named', () => {
    expect(validateRecord(toFields({ key: '', value: '1' }), rules)).toMatchObject({ reason: 'missing_required', field: 'key' });
    expect(validateRecord(toFields({ key: 'a' }), rules)).toMatchObject({ reason: 'missing_required', field: 'value' });
  });

  it('applies declared types in place and rejects what does not convert', () => {
    const fields = toFields({ key: 'a', value: '49.99' });
    expect(validateRecord(fields, rules)).toBeNull();
    expect(fields.value).toBe(49.99);
    expect(validateRecord(toFields({ key: 'a', value: 'not_a_number' }), rules)).toMatchObject({
      reason: 'invalid_type',
      field: 'value',
      message: 'field value: expected a number, found "not_a_number"',
    });
  });

  it('refuses NUL bytes in text', () => {
    expect(validateRecord(toFields({ key: 'a\u0000b', value: 1 }), rules)).toMatchObject({ reason: 'unsupported_value', field: 'key' });
  });

  it('checks a JSON Schema after types are applied', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sluice-schema-'));
    const file = path.join(dir, 'schema.json');
    writeFileSync(file, JSON.stringify({ type: 'object', properties: { value: { type: 'number', minimum: 0 } }, required: ['value'] }));
    const schema = await compileSchemaFile(file);
    expect(validateRecord(toFields({ key: 'a', value: '5' }), { ...rules, schema })).toBeNull();
    expect(validateRecord(toFields({ key: 'a', value: '-5' }), { ...rules, schema })).toEqual({
      reason: 'schema_violation',
      field: 'value',
      message: 'field value: must be >= 0, found -5 (JSON Schema)',
    });
  });

  it('a schema type error on text says what was found and how to declare the type', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sluice-schema-'));
    const file = path.join(dir, 'schema.json');
    writeFileSync(file, JSON.stringify({ type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] }));
    const schema = await compileSchemaFile(file);
    const plain = { require: [], types: {}, schema };
    expect(validateRecord(toFields({ id: '1' }), plain)?.message).toBe('field id: must be integer, found "1" (text: declare --type id=number or =integer to convert it) (JSON Schema)');
    expect(validateRecord(toFields({ x: 1 }), plain)?.message).toBe("field id: must have required property 'id' (JSON Schema)");
  });
});

describe('coerce', () => {
  it('keeps integers beyond 2^53 exact', () => {
    expect(coerce('9007199254740993', 'integer', 'id')).toEqual({ ok: true, value: 9007199254740993n });
    expect(coerce('9007199254740993', 'number', 'id').ok).toBe(false);
    expect(coerce('99999999999999999999999', 'integer', 'id').ok).toBe(false);
  });

  it('refuses a whole number a double cannot hold, whatever its size, and rounds only decimals', () => {
    const beyond = (text: string): string | undefined => {
      const result = coerce(text, 'number', 'n');
      return result.ok ? undefined : result.rejection.message;
    };
    expect(beyond('9007199254740993')).toContain('within ±2^53');
    // Too large even for a double: still told to declare it integer, not that it is infinite.
    expect(beyond('1' + '0'.repeat(400))).toContain('within ±2^53');
    expect(beyond('-9007199254740993')).toContain('within ±2^53');
    expect(coerce('9007199254740991', 'number', 'n')).toEqual({ ok: true, value: 9007199254740991 });
    expect(beyond('9007199254740992')).toContain('within ±2^53');
    expect(coerce('12345678901234567890.5', 'number', 'n')).toEqual({ ok: true, value: Number('12345678901234567890.5') });
    expect(coerce('1e20', 'number', 'n')).toEqual({ ok: true, value: 1e20 });
    expect(beyond('1e400')).toContain('a finite number');
  });

  it('reads as a number exactly the decimal syntax, nothing Number() would take beyond it', () => {
    const decimal = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
    const text = fc.string({ unit: fc.constantFrom('0', '1', '9', '+', '-', '.', 'e', 'E', ' ', 'x', 'b', 'o', 'I', '_', '\t', 'n'), maxLength: 8 });
    fc.assert(
      fc.property(text, (value) => {
        if (value.trim() === '') return; // blank: not coerced (a missing value)
        const result = coerce(value, 'number', 'n');
        const expected = decimal.test(value) && Number.isFinite(Number(value));
        expect(result.ok, JSON.stringify(value)).toBe(expected);
      }),
      { numRuns: 5000 },
    );
    for (const other of ['0x1F', '0b1', '0o7', ' 1', '1 ', 'Infinity', '-Infinity', '1_000', '1.2.3', 'e5', '+-1', '.', '1e']) {
      expect(coerce(other, 'number', 'n').ok, other).toBe(false);
    }
  });

  it('refuses non-finite numbers', () => {
    for (const bad of ['1e309', 'NaN', 'Infinity', '-1e400']) expect(coerce(bad, 'number', 'x').ok, bad).toBe(false);
    expect(coerce(Infinity, 'number', 'x').ok).toBe(false);
  });

  it('reads booleans and timestamps', () => {
    expect(coerce('Yes', 'boolean', 'b')).toEqual({ ok: true, value: true });
    expect(coerce('0', 'boolean', 'b')).toEqual({ ok: true, value: false });
    expect(coerce('maybe', 'boolean', 'b').ok).toBe(false);
    expect(coerce('2025-01-15T12:00:00', 'timestamp', 't').ok).toBe(true);
    expect(coerce('yesterday', 'timestamp', 't').ok).toBe(false);
  });
});
