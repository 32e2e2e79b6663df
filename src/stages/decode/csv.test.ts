import { afterAll, describe, expect, it } from 'vitest';
import { decodeAll, decodeError, decodeFields, tempDir } from '../../../test/fixtures/decode/helpers.js';

const dir = tempDir();
afterAll(() => dir.remove());
const csv = { format: 'csv' as const };

describe('csv: RFC 4180', () => {
  it('maps header names to string values', async () => {
    const path = dir.write('basic.csv', 'id,name,amount\n1,Ann,3.50\n2,Bob,\n');
    expect(await decodeFields(path, csv)).toEqual([
      { id: '1', name: 'Ann', amount: '3.50' },
      { id: '2', name: 'Bob', amount: '' },
    ]);
  });

  it('reads quoted fields with commas, doubled quotes and newlines', async () => {
    const path = dir.write('quoted.csv', 'id,note\n1,"a, b"\n2,"say ""hi"""\n3,"two\nlines"\n4,""\n');
    expect(await decodeFields(path, csv)).toEqual([
      { id: '1', note: 'a, b' },
      { id: '2', note: 'say "hi"' },
      { id: '3', note: 'two\nlines' },
      { id: '4', note: '' },
    ]);
  });

  it('fails a file whose lines end with CR alone (its header would swallow it), not one with CRLF in a quoted header', async () => {
    const mac = await decodeError(dir.write('mac.csv', 'id,name\r1,a\r2,b\r'), csv);
    expect(mac.code).toBe('DECODE_CSV');
    expect(mac.message).toContain('line 1: the header holds a carriage return (CR) with no line feed after it');
    const quoted = dir.write('quoted-crlf-header.csv', 'id,"na\r\nme"\r\n1,a\r\n');
    expect(await decodeFields(quoted, csv)).toEqual([{ id: '1', 'na\r\nme': 'a' }]);
  });

  it('accepts CRLF and LF, keeps a CRLF inside quotes, strips a BOM', async () => {
    const path = dir.write('crlf.csv', '\uFEFFid,note\r\n1,x\r\n2,"a\r\nb"\n3,y');
    expect(await decodeFields(path, csv)).toEqual([
      { id: '1', note: 'x' },
      { id: '2', note: 'a\r\nb' },
      { id: '3', note: 'y' },
    ]);
  });

  it('skips blank lines (LF and CRLF), before the header too', async () => {
    const path = dir.write('blank.csv', '\n\r\nid,v\n\n1,a\r\n\r\n2,b\n\n');
    const records = await decodeAll(path, csv);
    expect(records.map((r) => [r.line, r.position, r.fields?.v])).toEqual([
      [5, 1, 'a'],
      [7, 2, 'b'],
    ]);
  });

  it('gives no records for an empty file or a header-only file', async () => {
    expect(await decodeAll(dir.write('empty.csv', ''), csv)).toEqual([]);
    expect(await decodeAll(dir.write('header.csv', 'id,name\n'), csv)).toEqual([]);
    expect(await decodeAll(dir.write('header-no-eol.csv', 'id,name'), csv)).toEqual([]);
  });

  it('builds fields with a null prototype; __proto__ and constructor are ordinary columns', async () => {
    const path = dir.write('proto.csv', '__proto__,constructor,toString\nx,y,z\n');
    const [record] = await decodeAll(path, csv);
    const fields = record?.fields as Record<string, unknown>;
    expect(Object.getPrototypeOf(fields)).toBeNull();
    expect(Object.keys(fields)).toEqual(['__proto__', 'constructor', 'toString']);
    expect(fields['__proto__']).toBe('x');
    expect(fields.constructor).toBe('y');
    expect(({} as Record<string, unknown>).x).toBeUndefined(); // Object.prototype untouched
  });
});

describe('csv: provenance', () => {
  it('gives each record its first line, position, raw text and end offset', async () => {
    const text = 'id,note\n1,a\n2,"x\ny\nz"\n3,b\n';
    const path = dir.write('provenance.csv', text);
    const records = await decodeAll(path, csv);
    expect(records.map(({ line, position, raw, endOffset, endLine }) => ({ line, position, raw, endOffset, endLine }))).toEqual([
      { line: 2, position: 1, raw: '1,a', endOffset: text.indexOf('2,"'), endLine: 3 },
      { line: 3, position: 2, raw: '2,"x\ny\nz"', endOffset: text.indexOf('3,b'), endLine: 6 },
      { line: 6, position: 3, raw: '3,b', endOffset: text.length, endLine: 7 },
    ]);
  });

  it('counts end offsets in bytes, not characters', async () => {
    const text = 'k,v\nü,日本\nx,y\n';
    const records = await decodeAll(dir.write('bytes.csv', text), csv);
    expect(records.map((r) => r.endOffset)).toEqual([Buffer.byteLength('k,v\nü,日本\n'), Buffer.byteLength(text)]);
  });
});

describe('csv: malformed rows', () => {
  it('makes a row with too many or too few fields a problem record, and goes on', async () => {
    const path = dir.write('ragged.csv', 'a,b,c,d\n1,2,3,4\n1,2,3,4,5\n1,2\n5,6,7,8\n1,2,3\n');
    const records = await decodeAll(path, csv);
    expect(records.map((r) => [r.line, r.position, r.problem?.message ?? r.fields?.d])).toEqual([
      [2, 1, '4'],
      [3, 2, 'line 3: expected 4 fields (as in the header), found 5'],
      [4, 3, 'line 4: expected 4 fields (as in the header), found 2'],
      [5, 4, '8'],
      [6, 5, 'line 6: expected 4 fields (as in the header), found 3'],
    ]);
    expect(records[2]).toMatchObject({ fields: null, raw: '1,2', problem: { reason: 'malformed_row', field: null } });
  });

  it('reports a short row with a quoted field, never merging it with the next row', async () => {
    const path = dir.write('ragged-quoted.csv', 'a,b,c\n"1",2\n3,4,5\n');
    const records = await decodeAll(path, csv);
    expect(records.map((r) => r.problem?.message ?? r.fields?.c)).toEqual([
      'line 2: expected 3 fields (as in the header), found 2',
      '5',
    ]);
  });

  it('fails the file on a quote still open at the end, naming the line where it opened', async () => {
    const path = dir.write('unclosed.csv', 'id,note\n1,ok\n2,"never\nclosed\n3,x\n');
    const error = await decodeError(path, csv);
    expect(error.code).toBe('DECODE_CSV');
    expect(error.line).toBe(3);
    expect(error.message).toMatch(/unclosed\.csv: line 3: the quoted field 2 opened here is never closed/);
    expect(error.before.map((r) => r.position)).toEqual([1]);
  });

  // Choice (see csv-row.ts): a stray quote is a problem record, not a file error, because the row
  // boundary is still clear (the quote is taken literally): one bad row should not cost the file.
  it('makes a quote inside an unquoted field a problem record with its line', async () => {
    const path = dir.write('stray.csv', 'id,name\n1,ab"c\n2,ok\n');
    const records = await decodeAll(path, csv);
    expect(records[0]).toMatchObject({
      fields: null,
      line: 2,
      raw: '1,ab"c',
      problem: { reason: 'malformed_row', message: expect.stringMatching(/^line 2: a quote inside unquoted field 2/) },
    });
    expect(records[1]?.fields).toEqual(Object.assign(Object.create(null), { id: '2', name: 'ok' }));
  });

  it('makes text after a closing quote a problem record', async () => {
    const path = dir.write('after-quote.csv', 'id,name\n1,"ab"c\n2,ok\n');
    const records = await decodeAll(path, csv);
    expect(records[0]?.problem?.message).toMatch(/^line 2: unexpected text after the closing quote of field 2/);
    expect(records[1]?.fields?.name).toBe('ok');
  });

  it('fails the file when the header itself has a stray quote', async () => {
    const error = await decodeError(dir.write('bad-header.csv', 'id,na"me\n1,2\n'), csv);
    expect(error.code).toBe('DECODE_CSV');
    expect(error.line).toBe(1);
  });
});

describe('csv: header names', () => {
  it('renames exact duplicates name, name_2, name_3 and reports each rename', async () => {
    const warnings: string[] = [];
    const path = dir.write('dupes.csv', 'name,id,name,name\na,1,b,c\n');
    const [record] = await decodeAll(path, { ...csv, onWarning: (m) => warnings.push(m) });
    expect({ ...record?.fields }).toEqual({ name: 'a', id: '1', name_2: 'b', name_3: 'c' });
    expect(warnings).toEqual([
      `${path}: line 1: header: columns 1 and 3 are both named "name"; column 3 is named "name_2"`,
      `${path}: line 1: header: columns 1 and 4 are both named "name"; column 4 is named "name_3"`,
    ]);
  });

  it('skips a suffix another column already has', async () => {
    const path = dir.write('dupes-taken.csv', 'a,a,a_2\n1,2,3\n');
    const [record] = await decodeAll(path, { ...csv, onWarning: () => {} });
    expect({ ...record?.fields }).toEqual({ a: '1', a_3: '2', a_2: '3' });
  });

  it('names an empty header column_<n>', async () => {
    const warnings: string[] = [];
    const path = dir.write('empty-name.csv', 'id,,x,  \n1,2,3,4\n');
    const [record] = await decodeAll(path, { ...csv, onWarning: (m) => warnings.push(m) });
    expect({ ...record?.fields }).toEqual({ id: '1', column_2: '2', x: '3', column_4: '4' });
    expect(warnings).toEqual([
      `${path}: line 1: header: column 2 has an empty name; it is named "column_2"`,
      `${path}: line 1: header: column 4 has an empty name; it is named "column_4"`,
    ]);
  });

  it('treats duplicates case-sensitively: Name and name are different columns', async () => {
    const [record] = await decodeAll(dir.write('case.csv', 'Name,name\n1,2\n'), csv);
    expect({ ...record?.fields }).toEqual({ Name: '1', name: '2' });
  });
});
