import { describe, expect, it } from 'vitest';
import { findDuplicateName } from './json-duplicates.js';
import { needsExactCheck } from './json-screen.js';

/** What the decoder does: the cheap check, then the exact one. */
function duplicateIn(raw: string): string | null {
  if (!needsExactCheck(JSON.parse(raw), raw)) return null;
  return findDuplicateName(raw)?.field ?? null;
}

describe('names given twice in one JSON object', () => {
  it.each([
    ['{"id":1,"id":2}', 'id'],
    ['{ "id" :\n 1 , "name": "a", "id"\t: "1" }', 'id'],
    ['{"a":"x","b":null,"a":"y"}', 'a'],
    ['{"a":{"x":1,"x":2}}', 'a'],
    ['{"a":[{"x":1},{"y":[{"z":1,"z":true}]}]}', 'a'],
    ['{"k\\"":1,"k\\"":2}', 'k"'],
    ['{"i\\u0064":1,"id":2}', 'id'],
    ['{"q":"\\u0022x","q":"\\u0022y"}', 'q'],
  ])('finds the name in %s', (raw, field) => {
    expect(duplicateIn(raw)).toBe(field);
  });

  it.each([
    '{"id":1,"name":"id","note":"\\"id\\":2"}',
    '{"a":[{"x":1},{"x":2}],"b":{"x":3}}',
    '{"a":"{\\"a\\":1}","b":"}"}',
    '{"q":"\\u0022","r":"caf\\u00e9"}',
    '{}',
  ])('finds none in %s', (raw) => {
    expect(duplicateIn(raw)).toBeNull();
  });

  it('says where, what was expected and why the record is set aside', () => {
    expect(findDuplicateName('{"a":{"x":1,"x":2}}')?.message).toBe(
      'name "x" inside field a appears twice in one object; expected each name once (JSON.parse would keep the last value and drop the other, so the record is set aside rather than guessed at)',
    );
  });
});

describe('the screen every JSON record passes', () => {
  it.each([
    ['{"id":1,"name":"a","tags":["x",{"y":null}],"ok":true}', false],
    ['{"id":1,"id":2}', true],
    ['{"note":"say \\"hi\\""}', true],
    ['{"id":9007199254740993}', true],
    ['{"v":1e309}', true],
    ['{"v":9007199254740991}', false],
  ])('sends %s to the exact checks: %s', (raw, sent) => {
    expect(needsExactCheck(JSON.parse(raw), raw)).toBe(sent);
  });
});
