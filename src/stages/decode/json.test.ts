import { afterAll, describe, expect, it } from 'vitest';
import { decodeAll, decodeError, decodeFields, tempDir } from '../../../test/fixtures/decode/helpers.js';

const dir = tempDir();
afterAll(() => dir.remove());
const json = { format: 'json' as const };

describe('json: top level', () => {
  it('gives one record per element of a top-level array, nested values as parsed', async () => {
    const path = dir.write('array.json', '[{"id": 1, "tags": ["a"], "meta": {"x": null}}, {"id": 2.5, "ok": true}]');
    expect(await decodeFields(path, json)).toEqual([
      { id: 1, tags: ['a'], meta: { x: null } },
      { id: 2.5, ok: true },
    ]);
  });

  it('gives one record for a single top-level object', async () => {
    const path = dir.write('object.json', '\n  {"id": 1,\n "name": "x"}\n');
    const records = await decodeAll(path, json);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ line: 2, position: 1, raw: '{"id": 1,\n "name": "x"}', endLine: 3 });
  });

  it('gives no records for an empty file, an empty array or whitespace', async () => {
    expect(await decodeAll(dir.write('empty.json', ''), json)).toEqual([]);
    expect(await decodeAll(dir.write('blank.json', ' \n\t\n'), json)).toEqual([]);
    expect(await decodeAll(dir.write('empty-array.json', '[ ]\n'), json)).toEqual([]);
  });

  it.each([
    ['a number', '42', /found "42"/],
    ['a string', '"x"', /found "\\"x\\""/],
    ['null', 'null', /found "null"/],
  ])('fails the file for %s at the top level', async (_, content, found) => {
    const error = await decodeError(dir.write('top.json', content), json);
    expect(error.code).toBe('DECODE_JSON');
    expect(error.message).toMatch(/expected a JSON array of objects or a single object at the top level/);
    expect(error.message).toMatch(found);
  });

  it('fails the file for a second top-level value, suggesting NDJSON', async () => {
    const error = await decodeError(dir.write('ndjson-in-json.json', '{"a": 1}\n{"a": 2}\n'), json);
    expect(error).toMatchObject({ code: 'DECODE_JSON', line: 2, offset: 9 });
    expect(error.message).toMatch(/use --format ndjson/);
  });
});

describe('json: elements', () => {
  it('makes a non-object element a malformed_row problem record, and goes on', async () => {
    const path = dir.write('mixed.json', '[{"a": 1},\n 5,\n "x", null, [1], {"a": 2}]');
    const records = await decodeAll(path, json);
    expect(records.map((r) => r.problem?.message ?? r.fields?.a)).toEqual([
      1,
      'line 2: array element 2: expected a JSON object, found a number',
      'line 3: array element 3: expected a JSON object, found a string',
      'line 3: array element 4: expected a JSON object, found null',
      'line 3: array element 5: expected a JSON object, found an array',
      2,
    ]);
    expect(records[1]).toMatchObject({ fields: null, raw: '5', problem: { reason: 'malformed_row', field: null } });
  });

  it('finds element ends past braces and brackets inside strings and nested values', async () => {
    const path = dir.write('braces.json', '[{"a": "x}y"}, {"b": "{[", "c": {"d": [1, {"e": "]}"}]}}, {"f": "\\\\"}, {"g": "\\"}"}]');
    expect(await decodeFields(path, json)).toEqual([{ a: 'x}y' }, { b: '{[', c: { d: [1, { e: ']}' }] } }, { f: '\\' }, { g: '"}' }]);
  });

  it('gives the line where each element begins, and its raw text and end offset', async () => {
    const text = '[\n  {\n    "id": 1\n  },\n  {"id": 2}\n]\n';
    const records = await decodeAll(dir.write('pretty.json', text), json);
    expect(records.map(({ line, endLine, raw, endOffset, position }) => ({ line, endLine, raw, endOffset, position }))).toEqual([
      { line: 2, endLine: 4, raw: '{\n    "id": 1\n  }', endOffset: text.indexOf('}') + 1, position: 1 },
      { line: 5, endLine: 5, raw: '{"id": 2}', endOffset: text.lastIndexOf('}') + 1, position: 2 },
    ]);
  });

  it('builds fields with a null prototype; __proto__ and constructor are ordinary keys', async () => {
    const path = dir.write('proto.json', '[{"__proto__": {"polluted": true}, "constructor": 1}]');
    const [record] = await decodeAll(path, json);
    const fields = record?.fields as Record<string, unknown>;
    expect(Object.getPrototypeOf(fields)).toBeNull();
    expect(Object.keys(fields)).toEqual(['__proto__', 'constructor']);
    expect(fields['__proto__']).toEqual({ polluted: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('json: numbers that cannot be stored exactly', () => {
  it('makes an integer beyond 2^53 an unsupported_value problem naming the field', async () => {
    const path = dir.write('bigint.json', '[{"id": 9007199254740993, "n": 1}, {"id": 2}]');
    const records = await decodeAll(path, json);
    expect(records[0]).toMatchObject({
      fields: null,
      problem: {
        reason: 'unsupported_value',
        field: 'id',
        message: 'line 1: array element 1: integer 9007199254740993 in field id exceeds 2^53 and cannot be stored exactly; quote it as a string in the source',
      },
    });
    expect(records[1]?.fields?.id).toBe(2);
  });

  it('finds big integers in nested values and negative ones, naming the top-level field', async () => {
    const path = dir.write('nested.json', '[{"a": "9007199254740993", "b": {"c": [1, -12345678901234567890]}}]');
    const [record] = await decodeAll(path, json);
    expect(record?.problem).toMatchObject({ reason: 'unsupported_value', field: 'b' });
    expect(record?.problem?.message).toMatch(/integer -12345678901234567890 in field b/);
  });

  it('keeps numbers that are exact: 2^53, 1e20, long decimals, big numbers inside strings', async () => {
    const path = dir.write('exact.json', '[{"a": 9007199254740992, "b": 1e20, "c": 0.12345678901234567, "d": "99999999999999999999"}]');
    expect(await decodeFields(path, json)).toEqual([{ a: 2 ** 53, b: 1e20, c: Number("0.12345678901234567"), d: '99999999999999999999' }]);
  });

  it('makes 1e309 (Infinity) an unsupported_value problem', async () => {
    const [record] = await decodeAll(dir.write('inf.json', '[{"x": 1e309}]'), json);
    expect(record?.problem).toMatchObject({ reason: 'unsupported_value', field: 'x' });
    expect(record?.problem?.message).toMatch(/number 1e309 in field x is beyond the range of a double/);
  });
});

describe('json: broken files', () => {
  it('fails the file on a syntax error inside an element, with its line and byte offset', async () => {
    const text = '[{"a": 1},\n {"a": 2,\n  "b": }]';
    const error = await decodeError(dir.write('syntax.json', text), json);
    expect(error).toMatchObject({ code: 'DECODE_JSON', line: 3, offset: text.indexOf('}]') });
    expect(error.message).toMatch(/syntax\.json: line 3 \(byte \d+\): invalid JSON in array element 2: Unexpected token '}'/);
    expect(error.before).toHaveLength(1);
  });

  it('fails on NaN, which is not JSON', async () => {
    const error = await decodeError(dir.write('nan.json', '[{"a": NaN}]'), json);
    expect(error.code).toBe('DECODE_JSON');
  });

  it('fails on a truncated file, naming the line where the array opened', async () => {
    const error = await decodeError(dir.write('truncated.json', '[{"a": 1},\n{"a": 2}'), json);
    expect(error.code).toBe('DECODE_JSON');
    expect(error.message).toMatch(/unexpected end of the file: the array opened at line 1 is not closed/);
    expect(error.before).toHaveLength(2);
    const inside = await decodeError(dir.write('truncated2.json', '[{"a": 1},\n{"a": "tw'), json);
    expect(inside.message).toMatch(/line 2 \(byte 11\): unexpected end of the file inside array element 2/);
  });

  it('fails on a missing comma, a trailing comma, and content after the array', async () => {
    const missing = await decodeError(dir.write('missing.json', '[{"a": 1} {"a": 2}]'), json);
    expect(missing.message).toMatch(/expected ',' or '\]' after array element 1, found "{\\"a\\": 2}\]"/);
    const trailing = await decodeError(dir.write('trailing.json', '[{"a": 1},]'), json);
    expect(trailing.message).toMatch(/trailing comma/);
    const after = await decodeError(dir.write('after.json', '[{"a": 1}] x'), json);
    expect(after.message).toMatch(/expected the end of the file after the top-level array, found "x"/);
  });
});

describe('json: elements that give a name twice', () => {
  it('are malformed_row problems naming the field, on the fast path and the nested one', async () => {
    const path = dir.write('twice.json', '[{"a": 1},\n {"a": 2, "a": 3},\n {"a": 4, "b": {"c": 1, "c": 2}}, {"a": 5}]');
    const records = await decodeAll(path, json);
    expect(records.map((r) => (r.problem ? [r.problem.reason, r.problem.field, r.problem.message.slice(0, 56)] : r.fields?.a))).toEqual([
      1,
      ['malformed_row', 'a', 'line 2: array element 2: field a appears twice in one ob'],
      ['malformed_row', 'b', 'line 3: array element 3: name "c" inside field b appears'],
      5,
    ]);
  });
});
