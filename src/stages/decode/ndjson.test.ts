import { afterAll, describe, expect, it } from 'vitest';
import { decodeAll, decodeFields, tempDir } from '../../../test/fixtures/decode/helpers.js';

const dir = tempDir();
afterAll(() => dir.remove());
const ndjson = { format: 'ndjson' as const };

describe('ndjson', () => {
  it('gives one record per non-blank line, with line, position, raw and end offset', async () => {
    const text = '{"a":1}\r\n\n   \n{"a":2,"b":[1,2]}\n{"a":3}';
    const records = await decodeAll(dir.write('ok.ndjson', text), ndjson);
    expect(records.map(({ line, position, raw, endOffset, endLine }) => ({ line, position, raw, endOffset, endLine }))).toEqual([
      { line: 1, position: 1, raw: '{"a":1}', endOffset: 9, endLine: 2 },
      { line: 4, position: 2, raw: '{"a":2,"b":[1,2]}', endOffset: text.indexOf('{"a":3}'), endLine: 5 },
      { line: 5, position: 3, raw: '{"a":3}', endOffset: text.length, endLine: 5 },
    ]);
    expect(records.map((r) => ({ ...r.fields }))).toEqual([{ a: 1 }, { a: 2, b: [1, 2] }, { a: 3 }]);
  });

  it('makes a line that is not JSON, or not an object, a problem record naming the line', async () => {
    const path = dir.write('bad.ndjson', '{"a":1}\n{"a":\n[1,2]\n"s"\nNaN\n{"a":2}\n');
    const records = await decodeAll(path, ndjson);
    expect(records.map((r) => [r.position, r.problem?.reason ?? 'ok', r.problem?.message ?? ''])).toEqual([
      [1, 'ok', ''],
      [2, 'malformed_row', 'line 2: not valid JSON (Unexpected end of JSON input at column 5); expected one JSON object per line'],
      [3, 'malformed_row', 'line 3: expected a JSON object, found an array'],
      [4, 'malformed_row', 'line 4: expected a JSON object, found a string'],
      [5, 'malformed_row', 'line 5: not valid JSON (unexpected text at column 1); expected one JSON object per line'],
      [6, 'ok', ''],
    ]);
    expect(records[1]).toMatchObject({ fields: null, raw: '{"a":', line: 2 });
  });

  it('builds fields with a null prototype; __proto__ is an ordinary key', async () => {
    const [record] = await decodeAll(dir.write('proto.ndjson', '{"__proto__":{"x":1},"constructor":"c"}\n'), ndjson);
    const fields = record?.fields as Record<string, unknown>;
    expect(Object.getPrototypeOf(fields)).toBeNull();
    expect(Object.keys(fields)).toEqual(['__proto__', 'constructor']);
    expect(fields['__proto__']).toEqual({ x: 1 });
  });

  it('makes integers beyond 2^53 and 1e309 unsupported_value problems', async () => {
    const path = dir.write('numbers.ndjson', '{"id":9007199254740993}\n{"v":-1e309}\n{"id":9007199254740991}\n');
    const records = await decodeAll(path, ndjson);
    expect(records.map((r) => r.problem ?? r.fields?.id)).toEqual([
      {
        reason: 'unsupported_value',
        field: 'id',
        message: 'line 1: integer 9007199254740993 in field id exceeds 2^53 and cannot be stored exactly; quote it as a string in the source',
      },
      expect.objectContaining({ reason: 'unsupported_value', field: 'v' }),
      9007199254740991,
    ]);
  });

  it('gives no records for an empty file', async () => {
    expect(await decodeFields(dir.write('empty.ndjson', ''), ndjson)).toEqual([]);
  });
});

describe('ndjson objects that give a name twice', () => {
  it('are malformed_row problems naming the field; the lines around them load', async () => {
    const path = dir.write('twice.ndjson', '{"id":1}\n{"id":2,"v":"a","id":3}\n{"id":4}\n');
    const records = await decodeAll(path, ndjson);
    expect(records.map((r) => r.problem ?? r.fields?.id)).toEqual([
      1,
      expect.objectContaining({ reason: 'malformed_row', field: 'id', message: expect.stringMatching(/^line 2: field id appears twice in one object; expected each name once/) }),
      4,
    ]);
  });
});
