/**
 * `sluice export` as a user runs it: the BUILT CLI (`npm run build` first), relative paths from
 * a working directory, exact messages on stderr, exit codes, files on disk.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SAMPLE_INPUT, scratchDir, snapshot, tempFilesIn } from '../fixtures/export/helpers.js';

const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;

let cwd: string;
let cleanup: () => void;

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` before the e2e tests`);
});

beforeEach(() => {
  ({ dir: cwd, cleanup } = scratchDir('sluice-e2e-export-'));
  mkdirSync(join(cwd, 'data'));
  copyFileSync(SAMPLE_INPUT, join(cwd, 'data', 'sample_input.json'));
});
afterEach(() => cleanup());

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sluice(...args: string[]): CliResult {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function read(path: string): string {
  return readFileSync(join(cwd, path), 'utf8');
}

const SAMPLE = JSON.parse(readFileSync(SAMPLE_INPUT, 'utf8')) as object[];
const SAMPLE_CSV =
  'id,name,department,salary\r\n1,Alice Johnson,Engineering,95000\r\n2,Bob Smith,Design,78000\r\n3,Charlie Brown,Marketing,65000\r\n4,Diana Prince,Sales,72000\r\n';

describe('sluice export --input (the seed scenario)', () => {
  it('exports the sample to JSON with the exact success line', () => {
    const result = sluice('export', '--input', 'data/sample_input.json', '--output', 'data/exported.json');
    expect(result).toEqual({ code: 0, stdout: '', stderr: 'Exported 4 records to data/exported.json (atomic write)\n' });
    expect(JSON.parse(read('data/exported.json'))).toEqual(SAMPLE);
  });

  it('exports the sample to CSV with the exact success line', () => {
    const result = sluice('export', '--input', 'data/sample_input.json', '--output', 'data/exported.csv');
    expect(result).toEqual({ code: 0, stdout: '', stderr: 'Exported 4 records to data/exported.csv (atomic write)\n' });
    expect(read('data/exported.csv')).toBe(SAMPLE_CSV);
  });

  it('honours --format over the extension, and --json prints the result object', () => {
    const result = sluice('export', '--input', 'data/sample_input.json', '--output', 'data/out.txt', '--format', 'ndjson', '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ status: 'exported', exported: 4, format: 'ndjson', path: 'data/out.txt', backup: null });
    expect(read('data/out.txt').trimEnd().split('\n').map((line) => JSON.parse(line) as object)).toEqual(SAMPLE);
  });

  it('pads records with inconsistent keys in CSV', () => {
    writeFileSync(join(cwd, 'data', 'ragged.json'), '[{"id":1,"name":"a"},{"id":2,"email":"b@x"},{"name":"c"}]');
    expect(sluice('export', '--input', 'data/ragged.json', '--output', 'data/ragged.csv').code).toBe(0);
    expect(read('data/ragged.csv')).toBe('id,name,email\r\n1,a,\r\n2,,b@x\r\n,c,\r\n');
  });

  it('neutralizes formula cells unless --no-formula-guard', () => {
    writeFileSync(join(cwd, 'data', 'evil.ndjson'), '{"cell":"=1+2","n":"-12.5"}\n');
    sluice('export', '--input', 'data/evil.ndjson', '--output', 'data/safe.csv');
    sluice('export', '--input', 'data/evil.ndjson', '--output', 'data/raw.csv', '--no-formula-guard');
    expect(read('data/safe.csv')).toBe("cell,n\r\n'=1+2,-12.5\r\n");
    expect(read('data/raw.csv')).toBe('cell,n\r\n=1+2,-12.5\r\n');
  });
});

describe('--backup, --dry-run, --require', () => {
  it('keeps the previous output as FILE.bak, twice in a row', () => {
    writeFileSync(join(cwd, 'data', 'exported.json'), '"version 0"\n');
    const first = sluice('export', '--input', 'data/sample_input.json', '--output', 'data/exported.json', '--backup', '--json');
    expect(JSON.parse(first.stdout)).toMatchObject({ status: 'exported', backup: 'data/exported.json.bak' });
    expect(read('data/exported.json.bak')).toBe('"version 0"\n');
    const second = sluice('export', '--input', 'data/sample_input.json', '--output', 'data/exported.json', '--backup');
    expect(second.stderr).toBe('Exported 4 records to data/exported.json (atomic write)\nPrevious file kept as data/exported.json.bak\n');
    expect(read('data/exported.json.bak')).toBe(read('data/exported.json'));
    expect(tempFilesIn(join(cwd, 'data'))).toEqual([]);
  });

  it('--dry-run reports and leaves the directory byte-for-byte unchanged', () => {
    writeFileSync(join(cwd, 'data', 'exported.json'), 'old');
    const before = snapshot(join(cwd, 'data'));
    const result = sluice('export', '--input', 'data/sample_input.json', '--output', 'data/exported.json', '--dry-run', '--backup');
    expect(result).toEqual({ code: 0, stdout: '', stderr: 'Would export 4 records to data/exported.json\n' });
    expect(snapshot(join(cwd, 'data'))).toEqual(before);
  });

  it('--require failure writes nothing, lists the records and the total, exit 1', () => {
    writeFileSync(join(cwd, 'data', 'people.ndjson'), '{"id":1,"email":"a@x"}\n{"id":2}\n{"id":3,"email":""}\n');
    const before = snapshot(join(cwd, 'data'));
    const result = sluice('export', '--input', 'data/people.ndjson', '--output', 'data/people.csv', '--require', 'id,email');
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: nothing exported to data/people.csv: 2 of 3 records lack required fields: record 2 (email); record 3 (email)\n',
    });
    expect(snapshot(join(cwd, 'data'))).toEqual(before);
  });
});

describe('failures: one line, exit 1, nothing written', () => {
  it('missing directory', () => {
    const result = sluice('export', '--input', 'data/sample_input.json', '--output', 'missing/out.csv');
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'error: cannot write missing/out.csv: directory missing does not exist\n' });
  });

  it('target is a directory', () => {
    mkdirSync(join(cwd, 'data', 'out.csv'));
    const result = sluice('export', '--input', 'data/sample_input.json', '--output', 'data/out.csv');
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'error: cannot write data/out.csv: it is a directory\n' });
  });

  it('a malformed input record names the file and line', () => {
    writeFileSync(join(cwd, 'data', 'broken.ndjson'), '{"id":1}\n{"id":\n');
    const result = sluice('export', '--input', 'data/broken.ndjson', '--output', 'data/out.json');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: cannot convert data\/broken\.ndjson: line 2: .+\n$/);
    expect(existsSync(join(cwd, 'data', 'out.json'))).toBe(false);
  });

  it('bad invocations exit 2', () => {
    expect(sluice('export', '--output', 'data/out.json').code).toBe(2);
    expect(sluice('export', '--input', 'data/sample_input.json', '--output', 'data/out.xml').code).toBe(2);
    expect(sluice('export', '--input', 'data/sample_input.json').code).toBe(2);
  });
});

describe('sluice export --db --table', () => {
  it('exports a table loaded by sluice run', () => {
    const run = sluice('run', '--db', 'data/sluice.db', '--table', 'employees', '--input', 'data/sample_input.json', '--quiet');
    expect(run.code).toBe(0);
    const result = sluice('export', '--db', 'data/sluice.db', '--table', 'employees', '--output', 'data/exported.csv');
    expect(result).toEqual({ code: 0, stdout: '', stderr: 'Exported 4 records to data/exported.csv (atomic write)\n' });
    expect(read('data/exported.csv')).toBe(SAMPLE_CSV);
  });

  it('a missing table is one clear line, exit 1', () => {
    sluice('run', '--db', 'data/sluice.db', '--table', 'employees', '--input', 'data/sample_input.json', '--quiet');
    const result = sluice('export', '--db', 'data/sluice.db', '--table', 'nope', '--output', 'data/x.csv');
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')[0]).toBe('error: cannot export table "nope": there is no such table in data/sluice.db');
  });

  it('refuses to export onto the database itself, or a link to it: exit 2, the database intact', () => {
    sluice('run', '--db', 'data/sluice.db', '--table', 'employees', '--input', 'data/sample_input.json', '--quiet');
    const before = read('data/sluice.db');
    const result = sluice('export', '--db', 'data/sluice.db', '--table', 'employees', '--output', 'data/sluice.db', '--format', 'csv');
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe('error: --output data/sluice.db is the database data/sluice.db: exporting there would replace the database');
    symlinkSync('sluice.db', join(cwd, 'data', 'link.csv'));
    expect(sluice('export', '--db', 'data/sluice.db', '--table', 'employees', '--output', 'data/link.csv').code).toBe(2);
    expect(read('data/sluice.db')).toBe(before);
    expect(sluice('export', '--db', 'data/sluice.db', '--table', 'employees', '--output', 'data/exported.csv').code).toBe(0);
  });

  it('run --output: the same refusal, and a missing directory, before anything is loaded (exit 2)', () => {
    const missing = sluice('run', '--db', 'data/new.db', '--table', 'employees', '--input', 'data/sample_input.json', '--output', 'nodir/out.csv');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot write --output nodir/out.csv: directory nodir does not exist');
    expect(missing.stderr).toContain('mkdir -p nodir');
    expect(existsSync(join(cwd, 'data', 'new.db'))).toBe(false);
    // A database file with an export's extension (run's --format is the input's).
    sluice('run', '--db', 'data/store.json', '--table', 'employees', '--input', 'data/sample_input.json', '--quiet');
    const onto = sluice('run', '--db', 'data/store.json', '--table', 'employees', '--input', 'data/sample_input.json', '--output', 'data/store.json');
    expect(onto.code).toBe(2);
    expect(onto.stderr).toContain('--output data/store.json is the database data/store.json');
    // Not there yet: the run would create the database, then export over it.
    const fresh = sluice('run', '--db', 'data/fresh.csv', '--input', 'data/sample_input.json', '--output', 'data/fresh.csv');
    expect(fresh.code).toBe(2);
    expect(existsSync(join(cwd, 'data', 'fresh.csv'))).toBe(false);
    expect(sluice('status', '--db', 'data/store.json').code).toBe(0);
  });
});

describe('killed in the middle of a large export', () => {
  /** Starts an export of a 400k-record file and resolves once its temp file exists (mid-write). */
  async function startLargeExport(): Promise<{ child: ReturnType<typeof spawn>; closed: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> }> {
    const lines = Array.from({ length: 400_000 }, (_, i) => `{"id":${i},"text":"row ${i} with some padding text"}`);
    writeFileSync(join(cwd, 'data', 'big.ndjson'), lines.join('\n') + '\n');
    writeFileSync(join(cwd, 'data', 'out.json'), '"old complete file"\n');
    const child = spawn(process.execPath, [CLI, 'export', '--input', 'data/big.ndjson', '--output', 'data/out.json'], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal, stderr })),
    );
    while (tempFilesIn(join(cwd, 'data')).length === 0 && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
    return { child, closed };
  }

  it('kill -9 leaves the old complete file; the temp file is swept once stale', async () => {
    const { child, closed } = await startLargeExport();
    child.kill('SIGKILL');
    expect((await closed).signal).toBe('SIGKILL');
    expect(read('data/out.json')).toBe('"old complete file"\n');
    const [orphan] = tempFilesIn(join(cwd, 'data'));
    expect(orphan).toBeDefined();
    const twoHoursAgo = Date.now() / 1000 - 2 * 3600;
    utimesSync(join(cwd, 'data', orphan as string), twoHoursAgo, twoHoursAgo);
    expect(sluice('export', '--input', 'data/sample_input.json', '--output', 'data/out.json').code).toBe(0);
    expect(JSON.parse(read('data/out.json'))).toEqual(SAMPLE);
    expect(tempFilesIn(join(cwd, 'data'))).toEqual([]);
  });

  it('SIGTERM removes the temp file, keeps the old file and exits 1 with one line', async () => {
    const { child, closed } = await startLargeExport();
    child.kill('SIGTERM');
    expect(await closed).toEqual({ code: 1, signal: null, stderr: 'error: cannot write data/out.json: interrupted by SIGTERM\n' });
    expect(read('data/out.json')).toBe('"old complete file"\n');
    expect(tempFilesIn(join(cwd, 'data'))).toEqual([]);
  });
});

describe('a table exported to CSV, rendered by SQLite on a second thread', () => {
  it('SIGTERM in the middle removes the temp file, keeps the old file, exits 1 with one line', async () => {
    const db = new Database(join(cwd, 'data', 'big.db'));
    db.exec('CREATE TABLE t (id INTEGER, text TEXT, amount REAL)');
    const insert = db.prepare('INSERT INTO t VALUES (?, ?, ?)');
    db.transaction(() => {
      for (let i = 0; i < 600_000; i += 1) insert.run(i, `row ${i}, with "quotes" and some padding text`, i / 4);
    })();
    db.close();
    writeFileSync(join(cwd, 'data', 'out.csv'), 'old complete file\n');
    const child = spawn(process.execPath, [CLI, 'export', '--db', 'data/big.db', '--table', 't', '--output', 'data/out.csv'], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    while (tempFilesIn(join(cwd, 'data')).length === 0 && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGTERM');
    expect(await closed).toEqual({ code: 1, signal: null });
    expect(stderr).toBe('error: cannot write data/out.csv: interrupted by SIGTERM\n');
    expect(read('data/out.csv')).toBe('old complete file\n');
    expect(tempFilesIn(join(cwd, 'data'))).toEqual([]);
  });
});
