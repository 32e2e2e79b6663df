import { chmodSync, existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyFields, type Fields } from '../../core/record.js';
import { batched, sampleRecords, scratchDir, snapshot, sourceOf, tempFilesIn } from '../../../test/fixtures/export/helpers.js';
import { exportRecords } from './export.js';
import { STALE_TEMP_AGE_MS } from './temp-files.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = scratchDir()));
afterEach(() => cleanup());

const sample = sourceOf(sampleRecords());

describe('exportRecords', () => {
  it('writes the seed sample as a JSON array', async () => {
    const output = join(dir, 'exported.json');
    const result = await exportRecords(sample, { output, format: 'json' });
    expect(result).toEqual({ status: 'exported', exported: 4, format: 'json', path: output, backup: null });
    expect(JSON.parse(readFileSync(output, 'utf8'))).toEqual(sampleRecords().map((r) => ({ ...r })));
  });

  it('writes the seed sample as CSV', async () => {
    const output = join(dir, 'exported.csv');
    await exportRecords(sample, { output, format: 'csv' });
    expect(readFileSync(output, 'utf8')).toBe(
      'id,name,department,salary\r\n' +
        '1,Alice Johnson,Engineering,95000\r\n' +
        '2,Bob Smith,Design,78000\r\n' +
        '3,Charlie Brown,Marketing,65000\r\n' +
        '4,Diana Prince,Sales,72000\r\n',
    );
  });

  it('pads records with inconsistent keys; the header is the union in first-seen order', async () => {
    const output = join(dir, 'ragged.csv');
    const source = sourceOf([{ id: 1, name: 'a' }, { id: 2, email: 'b@x', extra: { n: 1 } }, { name: 'c', id: 3 }]);
    await exportRecords(source, { output, format: 'csv' });
    expect(readFileSync(output, 'utf8')).toBe('id,name,email,extra\r\n1,a,,\r\n2,,b@x,"{""n"":1}"\r\n3,c,,\r\n');
  });

  it('uses the known columns of a table without a header pass', async () => {
    let passes = 0;
    const source = () => {
      passes += 1;
      return sample();
    };
    await exportRecords(source, { output: join(dir, 'out.csv'), format: 'csv', columns: ['name', 'id', 'department', 'salary'] });
    expect(passes).toBe(1);
    expect(readFileSync(join(dir, 'out.csv'), 'utf8').split('\r\n')[1]).toBe('Alice Johnson,1,Engineering,95000');
  });

  it('neutralizes formula cells by default, and not with formulaGuard false', async () => {
    const source = sourceOf([{ cmd: '=HYPERLINK("http://x")', n: '-12.5', at: '@SUM(A1)' }]);
    await exportRecords(source, { output: join(dir, 'safe.csv'), format: 'csv' });
    expect(readFileSync(join(dir, 'safe.csv'), 'utf8')).toBe(`cmd,n,at\r\n"'=HYPERLINK(""http://x"")",-12.5,'@SUM(A1)\r\n`);
    await exportRecords(source, { output: join(dir, 'raw.csv'), format: 'csv', formulaGuard: false });
    expect(readFileSync(join(dir, 'raw.csv'), 'utf8')).toBe(`cmd,n,at\r\n"=HYPERLINK(""http://x"")",-12.5,@SUM(A1)\r\n`);
  });

  it('exports a field named __proto__ as an ordinary field', async () => {
    const fields = emptyFields();
    fields['__proto__'] = 'x';
    fields.id = 1;
    const source = async function* () {
      yield fields;
    };
    await exportRecords(batched(source), { output: join(dir, 'p.csv'), format: 'csv' });
    await exportRecords(batched(source), { output: join(dir, 'p.ndjson'), format: 'ndjson' });
    expect(readFileSync(join(dir, 'p.csv'), 'utf8')).toBe('__proto__,id\r\nx,1\r\n');
    expect(readFileSync(join(dir, 'p.ndjson'), 'utf8')).toBe('{"__proto__":"x","id":1}\n');
  });
});

describe('--backup', () => {
  it('keeps the previous output as FILE.bak, twice in a row', async () => {
    const output = join(dir, 'out.ndjson');
    writeFileSync(output, 'version 0\n');
    chmodSync(output, 0o600);
    const first = await exportRecords(sourceOf([{ v: 1 }]), { output, format: 'ndjson', backup: true });
    expect(first.backup).toBe(`${output}.bak`);
    expect(readFileSync(`${output}.bak`, 'utf8')).toBe('version 0\n');
    expect(statSync(`${output}.bak`).mode & 0o777).toBe(0o600);
    const second = await exportRecords(sourceOf([{ v: 2 }]), { output, format: 'ndjson', backup: true });
    expect(second.backup).toBe(`${output}.bak`);
    expect(readFileSync(`${output}.bak`, 'utf8')).toBe('{"v":1}\n');
    expect(readFileSync(output, 'utf8')).toBe('{"v":2}\n');
    expect(tempFilesIn(dir)).toEqual([]);
  });

  it('makes no backup when there is no previous output', async () => {
    const output = join(dir, 'fresh.json');
    const result = await exportRecords(sample, { output, format: 'json', backup: true });
    expect(result.backup).toBeNull();
    expect(existsSync(`${output}.bak`)).toBe(false);
  });
});

describe('--dry-run', () => {
  it('counts and validates but leaves the directory byte-for-byte unchanged (no sweep either)', async () => {
    const output = join(dir, 'exported.json');
    writeFileSync(output, 'old');
    const leftover = join(dir, '.sluice-0badc0de.tmp');
    writeFileSync(leftover, 'stale leftover');
    const longAgo = (Date.now() - 2 * STALE_TEMP_AGE_MS) / 1000;
    utimesSync(leftover, longAgo, longAgo);
    const before = snapshot(dir);
    const result = await exportRecords(sample, { output, format: 'json', dryRun: true, backup: true, require: ['id'] });
    expect(result).toEqual({ status: 'dry-run', exported: 4, format: 'json', path: output, backup: null });
    expect(snapshot(dir)).toEqual(before);
  });
});

describe('--require', () => {
  it('writes nothing when a record lacks a required field, naming the records and the total', async () => {
    const output = join(dir, 'out.csv');
    writeFileSync(output, 'old');
    const before = snapshot(dir);
    const source = sourceOf([{ id: 1, name: 'a' }, { id: 2, name: '' }, { id: 3 }, { name: 'd' }]);
    const failing = exportRecords(source, { output, format: 'csv', require: ['id', 'name'], backup: true });
    await expect(failing).rejects.toMatchObject({
      code: 'EXPORT_VALIDATE',
      message: `nothing exported to ${output}: 3 of 4 records lack required fields: record 2 (name); record 3 (name); record 4 (id)`,
    });
    expect(snapshot(dir)).toEqual(before);
  });

  it('checks again while writing: a source that changed since the header pass fails cleanly', async () => {
    const output = join(dir, 'out.csv');
    let pass = 0;
    const source = async function* (): AsyncGenerator<Fields> {
      pass += 1;
      const fields = emptyFields();
      fields.id = pass === 1 ? 1 : null;
      yield fields;
    };
    await expect(exportRecords(batched(source), { output, format: 'csv', require: ['id'] })).rejects.toThrow(
      `nothing exported to ${output}: 1 of 1 record lacks required fields: record 1 (id)`,
    );
    expect(pass).toBe(2);
    expect(existsSync(output)).toBe(false);
    expect(tempFilesIn(dir)).toEqual([]);
  });

  it('reads a source once when no header pass is needed, and keeps the older backup when it fails', async () => {
    const output = join(dir, 'out.ndjson');
    writeFileSync(output, 'current');
    writeFileSync(`${output}.bak`, 'older');
    let passes = 0;
    const source = async function* (): AsyncGenerator<Fields> {
      passes += 1;
      for (let i = 0; i < 3000; i += 1) {
        const fields = emptyFields();
        fields.id = i === 2500 ? '  ' : i;
        yield fields;
      }
    };
    await expect(exportRecords(batched(source), { output, format: 'ndjson', require: ['id'], backup: true })).rejects.toThrow(
      `nothing exported to ${output}: 1 of 3000 records lacks required fields: record 2501 (id)`,
    );
    expect(passes).toBe(1);
    expect(readFileSync(output, 'utf8')).toBe('current');
    expect(readFileSync(`${output}.bak`, 'utf8')).toBe('older');
    expect(tempFilesIn(dir)).toEqual([]);
  });
});

describe('streaming', () => {
  it('exports a million records in constant memory (rows are never held)', async () => {
    const count = 1_000_000;
    const source = async function* (): AsyncGenerator<Fields> {
      for (let i = 0; i < count; i += 1) {
        const fields = emptyFields();
        fields.id = i;
        fields.payload = 'some text that makes each row about sixty bytes long';
        yield fields;
      }
    };
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 5);
    const result = await exportRecords(batched(source), { output: join(dir, 'big.csv'), format: 'csv' });
    clearInterval(timer);
    expect(result.exported).toBe(count);
    // Held rows would take hundreds of MB; the writer needs a few chunks.
    expect(peak - before).toBeLessThan(64 * 1024 * 1024);
    expect(statSync(join(dir, 'big.csv')).size).toBeGreaterThan(count * 60);
  });
});
