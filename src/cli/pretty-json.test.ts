import { describe, expect, it } from 'vitest';
import { indentJson } from './pretty-json.js';

describe('indentJson', () => {
  it('indents as JSON.stringify(value, null, 2) does when values round-trip', () => {
    for (const value of [{ a: 1, b: [1, 2, { c: 'x, "y": [z]' }], d: {}, e: [], f: null, g: true }, [], {}, 'text', [[1], [2, 3]]]) {
      const compact = JSON.stringify(value);
      expect(indentJson(compact)).toBe(JSON.stringify(value, null, 2));
      expect(indentJson(JSON.stringify(value, null, 4))).toBe(JSON.stringify(value, null, 2));
    }
  });

  it('keeps numbers and escapes exactly as written', () => {
    const raw = '{"id":1,"y":12345678901234567890,"big":9007199254740993,"z":-0.0,"e":1e20,"s":"a\\"b\\\\","u":"\\u00e9"}';
    expect(indentJson(raw)).toBe(
      ['{', '  "id": 1,', '  "y": 12345678901234567890,', '  "big": 9007199254740993,', '  "z": -0.0,', '  "e": 1e20,', '  "s": "a\\"b\\\\",', '  "u": "\\u00e9"', '}'].join('\n'),
    );
    expect(JSON.parse(indentJson(raw))).toEqual(JSON.parse(raw));
  });
});
