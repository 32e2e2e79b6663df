import { describe, expect, it } from 'vitest';
import { toFields } from '../../core/record.js';
import { Normalizer } from './normalize.js';

describe('Normalizer', () => {
  it('trims and lower-cases keys, trims text values', () => {
    const n = new Normalizer(true, () => {});
    expect(n.normalize(toFields({ ' Name ': ' Bob ', AGE: 3 }), 'f')).toEqual({ name: 'Bob', age: 3 });
    expect(n.normalize(toFields({ name: '  x ' }), 'f')).toEqual({ name: 'x' });
  });

  it('records of one shape: clean names keep the object and get trimmed values; others are rebuilt', () => {
    const n = new Normalizer(true, () => {});
    const clean = ['id', 'name'];
    const first = toFields({ id: ' 1 ', name: 'a ' });
    expect(n.normalize(first, 'f', clean)).toBe(first);
    expect(first).toEqual({ id: '1', name: 'a' });
    const second = toFields({ id: '2', name: ' b' });
    expect(n.normalize(second, 'f', clean)).toEqual({ id: '2', name: 'b' });
    const messy = [' ID', 'Name'];
    const record = toFields({ ' ID': ' 3', Name: 'c' });
    const normalized = n.normalize(record, 'f', messy);
    expect(normalized).not.toBe(record);
    expect(normalized).toEqual({ id: '3', name: 'c' });
    expect(n.normalize(toFields({ ' ID': '4', Name: 'd' }), 'f', messy)).toEqual({ id: '4', name: 'd' });
  });

  it('keeps colliding keys apart and reports it once', () => {
    const warnings: string[] = [];
    const n = new Normalizer(true, (m) => warnings.push(m));
    expect(n.normalize(toFields({ id: 1, ID: 2, Id: 3 }), 'a.csv')).toEqual({ id: 1, id_2: 2, id_3: 3 });
    n.normalize(toFields({ id: 1, ID: 2 }), 'a.csv');
    expect(warnings).toEqual([
      'a.csv: field "ID" collides with "id" once keys are trimmed and lower-cased; stored as "id_2"',
      'a.csv: field "Id" collides with "id" once keys are trimmed and lower-cased; stored as "id_3"',
    ]);
  });

  it('keeps keys apart that only trimming makes equal, and says so', () => {
    const warnings: string[] = [];
    const n = new Normalizer(true, (m) => warnings.push(m));
    expect(n.normalize(toFields({ '': 1, '  ': 2 }), 'a.json')).toEqual({ '': 1, _2: 2 });
    expect(warnings).toEqual(['a.json: field "  " collides with "" once keys are trimmed and lower-cased; stored as "_2"']);
  });

  it('does nothing with --no-normalize', () => {
    const fields = toFields({ ' A ': ' b ' });
    expect(new Normalizer(false, () => {}).normalize(fields, 'f')).toBe(fields);
  });
});
