import { describe, expect, it } from 'vitest';
import type { ColumnSpec } from '../backends/backend.js';
import type { FieldType } from '../core/settings.js';
import { targetColumnSet } from './target-columns.js';

function plan(existing: ColumnSpec[], declared: Record<string, FieldType> = {}, key: string | null = 'id') {
  const types = { ...declared };
  const { columns, keyAsText } = targetColumnSet(types, existing, key);
  return { keyAsText, types, columns: columns.list() };
}

describe('targetColumnSet', () => {
  it('makes a new table key a text column, compared as text', () => {
    expect(plan([])).toEqual({ keyAsText: true, types: {}, columns: [{ name: 'id', type: 'text' }] });
  });

  it('compares a key as text in an existing text column', () => {
    expect(plan([{ name: 'id', type: 'text' }, { name: 'n', type: 'real' }])).toMatchObject({ keyAsText: true, types: { n: 'number' } });
  });

  // A key column made untyped on SQLite by an earlier version holds 1 and '1' as two keys:
  // making new keys text would add a second row for every numeric key already in it.
  it('keeps the value types of a key in an untyped column', () => {
    expect(plan([{ name: 'id', type: 'any' }])).toEqual({ keyAsText: false, types: {}, columns: [{ name: 'id', type: 'any' }] });
  });

  it('leaves a declared or inherited key type alone', () => {
    expect(plan([], { id: 'integer' })).toEqual({ keyAsText: false, types: { id: 'integer' }, columns: [{ name: 'id', type: 'integer' }] });
    expect(plan([{ name: 'id', type: 'integer' }])).toMatchObject({ keyAsText: false, types: { id: 'integer' } });
  });

  it('has no key for a table without one (append)', () => {
    expect(plan([], {}, null)).toEqual({ keyAsText: false, types: {}, columns: [] });
  });
});
