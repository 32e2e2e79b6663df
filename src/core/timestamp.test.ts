import { describe, expect, it } from 'vitest';
import { canonicalTimestamp } from './timestamp.js';

describe('canonicalTimestamp', () => {
  it('reads a timestamp without an offset as UTC', () => {
    expect(canonicalTimestamp('2025-01-15T12:00:00')).toBe('2025-01-15T12:00:00.000000000Z');
    expect(canonicalTimestamp('2025-01-15 12:00')).toBe('2025-01-15T12:00:00.000000000Z');
    expect(canonicalTimestamp('2025-01-15')).toBe('2025-01-15T00:00:00.000000000Z');
  });

  it('reads `...Z` like the plain form, checking ranges all the same', () => {
    for (const text of ['2024-12-19T03:00:10Z', '2024-12-19T03:00:10z', '2024-02-29T23:59:59Z']) {
      expect(canonicalTimestamp(text)).toBe(`${text.slice(0, 19)}.000000000Z`);
    }
    for (const bad of ['2025-02-29T12:00:00Z', '2025-01-15T24:00:00Z', '2025-01-15T12:60:00Z', '2025-13-01T00:00:00Z', '2025-01-15X12:00:00Z']) {
      expect(canonicalTimestamp(bad), bad).toBeNull();
    }
  });

  it('applies offsets and keeps sub-millisecond digits', () => {
    expect(canonicalTimestamp('2025-01-15T12:00:00+02:00')).toBe('2025-01-15T10:00:00.000000000Z');
    expect(canonicalTimestamp('2025-01-15T00:30:00-0100')).toBe('2025-01-15T01:30:00.000000000Z');
    expect(canonicalTimestamp('2025-01-15T12:00:00.123456Z')).toBe('2025-01-15T12:00:00.123456000Z');
  });

  it('sorts as text in time order, across offsets', () => {
    const a = canonicalTimestamp('2025-01-15T12:00:00.0000001Z') as string;
    const b = canonicalTimestamp('2025-01-15T12:00:00.0000002Z') as string;
    const c = canonicalTimestamp('2025-01-15T13:00:00+00:30') as string;
    expect(a < b).toBe(true);
    expect(b < c).toBe(true);
  });

  it('refuses what is not a real instant', () => {
    for (const bad of ['garbage', '2025-13-01', '2025-02-30', '2023-02-29', '2025-01-15T24:00:00', '15/01/2025', '', '2025-01-15T12:00:00+25:00']) {
      expect(canonicalTimestamp(bad), bad).toBeNull();
    }
    expect(canonicalTimestamp('2024-02-29')).not.toBeNull();
  });
});
