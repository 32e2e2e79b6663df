import { describe, expect, it } from 'vitest';
import { isSluiceError } from '../../core/errors.js';
import { assignColumn, checkTableName, indexName, lockKey, physicalName } from './identifiers.js';

describe('63-byte identifiers', () => {
  it('cuts at 63 bytes of UTF-8, never inside a character', () => {
    expect(physicalName('short')).toBe('short');
    expect(physicalName('x'.repeat(63))).toBe('x'.repeat(63));
    expect(physicalName('x'.repeat(64))).toBe('x'.repeat(63));
    // 62 ASCII bytes + a 2-byte character would be 64: the character goes whole.
    expect(physicalName('x'.repeat(62) + 'é')).toBe('x'.repeat(62));
    expect(Buffer.byteLength(physicalName('😀'.repeat(20)))).toBe(60);
  });

  it('refuses two names stored as one, naming both', () => {
    const known = new Map<string, string>();
    const first = 'a'.repeat(63) + '_one';
    expect(assignColumn(known, first, 't')).toBe('a'.repeat(63));
    expect(assignColumn(known, first, 't')).toBe('a'.repeat(63));
    let error: unknown;
    try {
      assignColumn(known, 'a'.repeat(63) + '_two', 't');
    } catch (caught) {
      error = caught;
    }
    expect(isSluiceError(error) && error.code).toBe('BACKEND_SCHEMA');
    expect((error as Error).message).toContain('_one" and "');
    expect(() => assignColumn(known, '', 't')).toThrow(/empty name/);
  });

  it('refuses a table name PostgreSQL would truncate', () => {
    expect(() => checkTableName('t'.repeat(64))).toThrow(/keeps only the first 63/);
    expect(() => checkTableName('t'.repeat(63))).not.toThrow();
  });

  it('derives short index names and 64-bit lock keys deterministically', () => {
    expect(indexName('events', 'key')).toBe(indexName('events', 'key'));
    expect(indexName('events', 'key')).not.toBe(indexName('events2', 'key'));
    expect(indexName('x'.repeat(63), 'hash').length).toBeLessThanOrEqual(63);
    expect(lockKey('public', 'default')).toBe(lockKey('public', 'default'));
    expect(lockKey('public', 'default')).not.toBe(lockKey('other', 'default'));
    expect(typeof lockKey('a', 'b')).toBe('bigint');
  });
});
