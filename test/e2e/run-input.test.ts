import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ROOT, json, rows, sluice, tempDir } from '../support/cli.js';

/** A fresh folder with the given files; returns its path and a db path inside it. */
function drop(files: Record<string, string | Buffer>): { dir: string; db: string; src: string } {
  const dir = tempDir();
  const src = path.join(dir, 'in');
  mkdirSync(src);
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(src, name), content);
  return { dir, db: path.join(dir, 'test.db'), src };
}

const GOOD_CSV = 'id,name\n1,alice\n2,bob\n';

describe('sluice run: invocation errors exit 2 and write nothing', () => {
  it('no matching files', () => {
    const { db, src } = drop({});
    const r = sluice(['run', '--db', db, '--source-dir', src, '--pattern', '*.csv']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no input files matched ${src} (pattern *.csv)`);
    expect(existsSync(db)).toBe(false);
  });

  // A scheduled run between deliveries: once the pipeline has loaded from the directory, an
  // empty one is nothing to do, not a broken setting. Another pipeline of the same database is not.
  it('an empty drop directory after the pipeline has loaded is a run with nothing to do (exit 0)', () => {
    const { db, src } = drop({ 'a.csv': GOOD_CSV });
    const flags = ['run', '--db', db, '--source-dir', src, '--pattern', '*.csv', '--key', 'id'];
    expect(json(sluice([...flags, '--json']))).toMatchObject({ loaded: 2 });
    rmSync(path.join(src, 'a.csv'));
    const idle = sluice([...flags, '--json']);
    expect(idle.code, idle.stderr).toBe(0);
    expect(json(idle)).toMatchObject({ status: 'succeeded', files_total: 0, loaded: 0, target_rows: 2 });
    expect(idle.stderr).toContain(`no files in ${src} match *.csv: nothing new to load`);
    const other = sluice([...flags, '--pipeline', 'other', '--strategy', 'replace']);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain(`no input files matched ${src} (pattern *.csv)`);
    expect(rows(db, 'SELECT COUNT(*) AS n FROM records')).toEqual([{ n: 2 }]);
  });

  // The PostgreSQL driver warns about sslmode=require through Node, which printed 9 lines and a
  // --trace-warnings hint before the connection's own one-line error.
  it("a library's warning is one note line, not Node's block", () => {
    const r = sluice(['status', '--db', 'postgres://u:p@127.0.0.1:1/none?sslmode=require']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^note: SECURITY WARNING: The SSL modes 'prefer', 'require', and 'verify-ca' are treated as aliases for 'verify-full'\.\n/);
    expect(r.stderr).not.toContain('trace-warnings');
    expect(r.stderr.split('\n').filter((line) => line.startsWith('note:'))).toHaveLength(1);
  });

  it('a --table the backend cannot create as named: SQLite reserves sqlite_*, PostgreSQL keeps 63 bytes', () => {
    const { db, src } = drop({ 'a.csv': GOOD_CSV });
    const reserved = sluice(['run', '--db', db, '--source-dir', src, '--table', 'SQLite_stats']);
    expect(reserved.code).toBe(2);
    expect(reserved.stderr).toContain('--table SQLite_stats: SQLite reserves names starting with sqlite_ for itself');
    expect(reserved.stderr).not.toMatch(/internal error|at .*\.js/);
    expect(existsSync(db)).toBe(false);
    // Refused before any connection: no server is needed to see it.
    const long = sluice(['run', '--db', 'postgres://u:p@127.0.0.1:1/none', '--source-dir', src, '--table', 't'.repeat(64)]);
    expect(long.code).toBe(2);
    expect(long.stderr).toContain(`--table ${'t'.repeat(64)} is 64 bytes long; PostgreSQL keeps only the first 63 bytes of a name`);
  });

  it('a batch size that is not a positive integer, before anything is opened', () => {
    const { db, src } = drop({ 'a.csv': GOOD_CSV });
    for (const bad of ['0', '-3', 'ten']) {
      const r = sluice(['run', '--db', db, '--source-dir', src, '--batch-size', bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toContain('--batch-size must be a positive whole number');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(db)).toBe(false);
  });

  it('a directory given as --input says to use --source-dir', () => {
    const { db, src } = drop({ 'a.csv': GOOD_CSV });
    const r = sluice(['run', '--db', db, '--input', src]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--input ${src} is a directory`);
    expect(r.stderr).toContain(`--source-dir ${src}`);
    expect(existsSync(db)).toBe(false);
  });

  it('a strategy without the key it needs', () => {
    const { db, src } = drop({ 'a.csv': GOOD_CSV });
    const r = sluice(['run', '--db', db, '--source-dir', src, '--strategy', 'deduplicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--strategy deduplicate needs --key FIELD');
  });
});

describe('sluice run: broken files are recorded and skipped (exit 3) or stop the run (exit 1)', () => {
  const badUtf8 = Buffer.concat([Buffer.from('id,name\n1,ok\n2,'), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]);

  it('invalid UTF-8 names the file and byte offset; the good file loads; the bad one is not marked loaded', () => {
    const { db, src } = drop({ 'a.csv': GOOD_CSV, 'b.csv': badUtf8 });
    const r = sluice(['run', '--db', db, '--source-dir', src, '--json']);
    expect(r.code).toBe(3);
    const s = json(r);
    expect(s).toMatchObject({ files_total: 2, files_loaded: 1, files_failed: 1, status: 'succeeded' });
    expect(r.stderr).toMatch(/b\.csv.*invalid UTF-8 at byte 15/);
    const again = json(sluice(['run', '--db', db, '--source-dir', src, '--json']));
    expect(again).toMatchObject({ files_unchanged: 1, files_failed: 1 });
  });

  it('a CSV header without the --key or --cursor column fails that file, not every record; fixed, the next run loads it', () => {
    const { db, src } = drop({ 'a.csv': GOOD_CSV, 'b.json': '[{"ident": 3, "name": "cid"}]' });
    const r = sluice(['run', '--db', db, '--source-dir', src, '--key', 'ident', '--strategy', 'update', '--json']);
    expect(r.code).toBe(3);
    expect(json(r)).toMatchObject({ files_loaded: 1, files_failed: 1, dead_letters: 0, loaded: 1 });
    expect(r.stderr).toContain(`${path.join(src, 'a.csv')}: the header has no column ident, the --key field (its columns: id, name)`);
    writeFileSync(path.join(src, 'a.csv'), 'ident,name\n1,alice\n');
    expect(json(sluice(['run', '--db', db, '--source-dir', src, '--key', 'ident', '--strategy', 'update', '--json']))).toMatchObject({ files_loaded: 1, files_unchanged: 1, loaded: 1 });
    const cursor = sluice(['run', '--db', db, '--input', path.join(src, 'a.csv'), '--pipeline', 'p2', '--table', 't2', '--key', 'ident', '--cursor', 'ts', '--strategy', 'upsert-newer']);
    expect(cursor.code).toBe(3);
    expect(cursor.stderr).toContain('the header has no column ts, the --cursor field');
  });

  it('a header-only CSV without the --key column fails too; one with it loads nothing, fine', () => {
    const { db, src } = drop({ 'h.csv': 'id,name\n' });
    const r = sluice(['run', '--db', db, '--source-dir', src, '--key', 'ident', '--json']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${path.join(src, 'h.csv')}: the header has no column ident, the --key field (its columns: id, name)`);
    expect(json(sluice(['run', '--db', db, '--source-dir', src, '--pipeline', 'p2', '--key', 'id', '--json']))).toMatchObject({ files_loaded: 1, input_records: 0 });
  });

  it('append says when a changed file loads all its records again; keyed strategies do not need to', () => {
    const { db, src } = drop({ 'log.csv': 'id,name\n1,alice\n' });
    const file = path.join(src, 'log.csv');
    expect(sluice(['run', '--db', db, '--input', file]).stderr).not.toContain('changed since');
    writeFileSync(file, 'id,name\n1,alice\n2,bob\n');
    const again = sluice(['run', '--db', db, '--input', file, '--json']);
    expect(json(again)).toMatchObject({ loaded: 2, target_rows: 3 });
    expect(again.stderr).toContain(`${file} changed since run 1 loaded it: under append all its records load again, beside the rows of the version loaded before`);
    const keyed = ['run', '--db', db, '--input', file, '--pipeline', 'keyed', '--table', 'k', '--key', 'id', '--strategy', 'update', '--json'];
    expect(sluice(keyed).code).toBe(0);
    writeFileSync(file, 'id,name\n1,alice\n2,bob\n3,cid\n');
    const merged = sluice(keyed);
    expect(json(merged)).toMatchObject({ loaded: 3, target_rows: 3 });
    expect(merged.stderr).not.toContain('changed since');
  });

  it('run --output whose export fails after the load: the summary still shows, then why, and how to export again (exit 1)', () => {
    const { db, src } = drop({ 'a.csv': GOOD_CSV });
    // /sys exists and takes no new files, not even from root: the check before loading passes.
    const r = sluice(['run', '--db', db, '--source-dir', src, '--output', '/sys/out.csv', '--json']);
    expect(r.code).toBe(1);
    expect(json(r)).toMatchObject({ status: 'succeeded', loaded: 2 });
    expect(r.stderr).toContain('Loaded 2 records from 1 file into records');
    expect(r.stderr).toContain('error: run 1 completed, but its export failed: cannot write /sys/out.csv');
    expect(r.stderr).toContain(`export again without loading: sluice export --db ${db} --table records --output /sys/out.csv`);
  });

  it('a CSV whose lines end with CR alone fails as a file instead of loading nothing as a success', () => {
    const { db, src } = drop({ 'mac.csv': 'id,name\r1,alice\r2,bob\r', 'ok.csv': 'id,name\r\n3,cid\r\n' });
    const r = sluice(['run', '--db', db, '--source-dir', src, '--json']);
    expect(r.code).toBe(3);
    expect(json(r)).toMatchObject({ files_loaded: 1, files_failed: 1, loaded: 1 });
    expect(r.stderr).toContain(`${path.join(src, 'mac.csv')}: line 1: the header holds a carriage return (CR) with no line feed after it: the file seems to end its lines with CR alone`);
  });

  it('--quiet still says why a file failed (exit 3), and nothing else', () => {
    const { db, src } = drop({ 'a.csv': GOOD_CSV, 'b.dat': 'x\n' });
    const r = sluice(['run', '--db', db, '--source-dir', src, '--quiet']);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(`failed: cannot tell the format of ${path.join(src, 'b.dat')} from its extension (expected .csv, .json, .ndjson, .jsonl or .txt, optionally .gz; or pass --format)\n`);
    expect(sluice(['run', '--db', db, '--input', path.join(src, 'a.csv'), '--quiet'])).toMatchObject({ code: 0, stderr: '' });
  });

  it('--on-file-error fail stops the run with exit 1; committed batches stay', () => {
    const { db, src } = drop({ 'a.csv': GOOD_CSV, 'b.csv': badUtf8 });
    const r = sluice(['run', '--db', db, '--source-dir', src, '--on-file-error', 'fail', '--json']);
    expect(r.code).toBe(1);
    expect(json(r)).toMatchObject({ status: 'failed', files_loaded: 1, files_failed: 1, target_rows: 2 });
    expect(rows(db, 'SELECT status, error FROM _sluice_runs')).toEqual([{ status: 'failed', error: expect.stringContaining('invalid UTF-8') }]);
    expect(r.stderr).toContain(`Stopped after loading 2 records from 2 files (1 failed) into records (${db})\n`);
    writeFileSync(path.join(src, 'c.csv'), GOOD_CSV);
    const stoppedEarly = sluice(['run', '--db', `${db}2`, '--source-dir', src, '--on-file-error', 'fail']);
    expect(stoppedEarly.stderr).toContain('files: 3 total, 1 loaded, 0 unchanged, 1 failed, 1 not read');
  });

  it('a truncated .gz fails that file', () => {
    const gz = gzipSync(Buffer.from('{"id":1}\n'.repeat(1000)));
    const { db, src } = drop({ 'a.ndjson.gz': gz.subarray(0, gz.length - 20) });
    const r = sluice(['run', '--db', db, '--source-dir', src, '--json']);
    expect(r.code).toBe(3);
    expect(json(r)).toMatchObject({ files_failed: 1, files_loaded: 0 });
    expect(rows(db, 'SELECT COUNT(*) AS n FROM _sluice_files')).toEqual([{ n: 0 }]);
  });

  it('a file failing in the middle of a batch leaves none of that batch; the next file loads as if it never ran', () => {
    // 2,500 good records (slices of 1,000 written inside the open batch), then invalid UTF-8.
    const good = Array.from({ length: 2500 }, (_, i) => `k${i},2030-01-01T00:00:${String(i % 60).padStart(2, '0')}Z,${i}`).join('\n');
    const broken = Buffer.concat([Buffer.from(`id,ts,extra\n${good}\nk9,`), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]);
    const { db, src } = drop({ 'a.csv': broken, 'b.csv': 'id,ts\nx,2024-05-01T00:00:00Z\ny,2024-06-01T00:00:00Z\n' });
    const r = sluice(['run', '--db', db, '--source-dir', src, '--key', 'id', '--cursor', 'ts', '--strategy', 'upsert-newer', '--table', 'events', '--batch-size', '5000', '--json']);
    expect(r.code, r.stderr).toBe(3);
    expect(json(r)).toMatchObject({ files_failed: 1, files_loaded: 1, input_records: 2, loaded: 2, lineage_entries: 4 });
    expect(rows(db, 'SELECT id, ts FROM events ORDER BY id')).toEqual([
      { id: 'x', ts: '2024-05-01T00:00:00Z' },
      { id: 'y', ts: '2024-06-01T00:00:00Z' },
    ]);
    expect(rows(db, 'SELECT COUNT(*) AS n FROM _sluice_lineage')).toEqual([{ n: 2 }]);
    // The largest cursor loaded is b's: a's rolled-back 2030 records never counted.
    expect(rows(db, 'SELECT max_cursor FROM _sluice_runs')).toEqual([{ max_cursor: '2024-06-01T00:00:00Z' }]);
  });

  it('a file that failed after committing part of it is read on from there next time, never loaded twice', () => {
    // Long enough that whole batches commit before the decoder meets the bad bytes.
    const good = Array.from({ length: 20_000 }, (_, i) => `k${i},${i}`).join('\n');
    const broken = Buffer.concat([Buffer.from(`id,v\n${good}\nk9,`), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]);
    const { db, src } = drop({ 'a.csv': broken });
    const args = ['run', '--db', db, '--source-dir', src, '--table', 't', '--strategy', 'append', '--json'];
    const first = sluice(args);
    expect(first.code).toBe(3);
    const committed = json<{ loaded: number; files_failed: number }>(first);
    expect(committed.files_failed).toBe(1);
    expect(committed.loaded).toBeGreaterThan(0);
    for (let again = 0; again < 2; again += 1) {
      const r = sluice(args);
      expect(r.code).toBe(3);
      expect(json(r)).toMatchObject({ files_failed: 1, input_records: 0, loaded: 0 });
      expect(r.stderr).toContain(`a.csv is unchanged since run 1 failed it after record ${committed.loaded}; reading on from there`);
      expect(r.stderr).toMatch(/a\.csv.*invalid UTF-8/);
    }
    expect(rows(db, 'SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS ids FROM t')).toEqual([{ n: committed.loaded, ids: committed.loaded }]);
  });

  it('a record beyond --max-record-bytes stops that file with a clear error', () => {
    const { db, src } = drop({ 'a.txt': `short\n${'x'.repeat(5000)}\n` });
    const r = sluice(['run', '--db', db, '--source-dir', src, '--max-record-bytes', '1024']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/a\.txt.*line 2/);
  });

  it('an empty file is fine', () => {
    const { db, src } = drop({ 'empty.csv': '' });
    const r = sluice(['run', '--db', db, '--source-dir', src, '--json']);
    expect(r.code).toBe(0);
    expect(json(r)).toMatchObject({ files_loaded: 1, input_records: 0, loaded: 0 });
  });
});

describe('sluice run: hostile records', () => {
  it('ragged CSV rows become dead letters with their line; neighbours load', () => {
    const { db, src } = drop({ 'a.csv': 'id,name\n1,a\n2,b,extra\n3\n4,d\n' });
    const s = json(sluice(['run', '--db', db, '--source-dir', src, '--json']));
    expect(s).toMatchObject({ input_records: 4, loaded: 2, rejected: 2 });
    expect(rows(db, 'SELECT line, reason FROM _sluice_dead_letters ORDER BY line')).toEqual([
      { line: 3, reason: 'malformed_row' },
      { line: 4, reason: 'malformed_row' },
    ]);
  });

  it('headers that collide after lower-casing are kept apart and said so', () => {
    const { db, src } = drop({ 'a.csv': 'id,ID,Name\n1,2,x\n' });
    const r = sluice(['run', '--db', db, '--source-dir', src]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/"ID" collides with "id".*"id_2"/);
    expect(rows(db, 'SELECT id, id_2, name FROM records')).toEqual([{ id: '1', id_2: '2', name: 'x' }]);
  });

  it('a header that looks like SQL is just a column name; __proto__ is just a field', () => {
    const { db, src } = drop({
      'a.csv': '"x""); DROP TABLE records; --",id\nboom,1\n',
      'b.json': '[{"__proto__": "p", "constructor": "c", "id": 2}]',
    });
    const r = sluice(['run', '--db', db, '--source-dir', src, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const table = rows(db, 'SELECT "x""); drop table records; --" AS x, "__proto__" AS proto, "constructor" AS ctor, id FROM records ORDER BY rowid');
    expect(table).toEqual([
      { x: 'boom', proto: null, ctor: null, id: '1' },
      { x: null, proto: 'p', ctor: 'c', id: 2 },
    ]);
    expect(rows(db, "SELECT typeof(id) AS t FROM records WHERE id = 2")).toEqual([{ t: 'integer' }]);
  });

  it('integers beyond 2^53 are stored exactly or rejected, never rounded', () => {
    const { db, src } = drop({ 'a.csv': 'id,n\n1,9007199254740993\n', 'b.ndjson': '{"id":2,"n":9007199254740993}\n' });
    const s = json(sluice(['run', '--db', db, '--source-dir', src, '--type', 'n=integer', '--json']));
    expect(s).toMatchObject({ loaded: 1, rejected: 1 });
    const connection = new Database(db, { readonly: true });
    const stored = connection.prepare('SELECT n FROM records').safeIntegers(true).all();
    connection.close();
    expect(stored).toEqual([{ n: 9007199254740993n }]);
    expect(rows(db, 'SELECT reason, field FROM _sluice_dead_letters')).toEqual([{ reason: 'unsupported_value', field: 'n' }]);
  });

  it('NUL bytes, 1e309 and NaN become dead letters', () => {
    const { db, src } = drop({ 'a.ndjson': '{"id":1,"s":"a\\u0000b"}\n{"id":2,"x":1e309}\n{"id":3,"x":NaN}\n{"id":4}\n' });
    const s = json(sluice(['run', '--db', db, '--source-dir', src, '--json']));
    expect(s).toMatchObject({ input_records: 4, loaded: 1, rejected: 3 });
  });

  it('a run whose records are all rejected completes normally', () => {
    const { db, src } = drop({ 'a.csv': 'id,v\n,1\n,2\n' });
    const r = sluice(['run', '--db', db, '--source-dir', src, '--require', 'id', '--json']);
    expect(r.code).toBe(0);
    expect(json(r)).toMatchObject({ status: 'succeeded', loaded: 0, rejected: 2, dead_letters: 2 });
  });

  it('reports files whose columns differ from the target', () => {
    const { db, src } = drop({ 'a.csv': 'id,name\n1,a\n', 'b.csv': 'id,email\n2,b@x\n' });
    const r = sluice(['run', '--db', db, '--source-dir', src, '--json']);
    expect(json(r).files).toEqual([
      expect.objectContaining({ path: path.join(src, 'a.csv'), new_columns: [], missing_columns: [] }),
      expect.objectContaining({ path: path.join(src, 'b.csv'), new_columns: ['email'], missing_columns: ['name'] }),
    ]);
    expect(r.stderr).toContain('new columns email (added)');
  });
});

describe('sluice run: watermark and dry run', () => {
  it('a corrupt stored watermark stops the run with the repair command', () => {
    const { db, src } = drop({ 'a.json': '[{"id":1,"ts":"2025-01-01T00:00:00"}]' });
    expect(sluice(['run', '--db', db, '--source-dir', src, '--cursor', 'ts']).code).toBe(0);
    const connection = new Database(db);
    connection.prepare("UPDATE _sluice_watermarks SET value = 'yesterday-ish'").run();
    connection.close();
    writeFileSync(path.join(src, 'b.json'), '[{"id":2,"ts":"2025-01-02T00:00:00"}]');
    const r = sluice(['run', '--db', db, '--source-dir', src, '--cursor', 'ts']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the stored watermark of pipeline default is "yesterday-ish", expected an ISO-8601 timestamp');
    expect(r.stderr).toContain('sluice watermark set <VALUE>');
  });

  it('--dry-run reports and creates nothing; on an existing db it commits nothing', () => {
    const { db, src } = drop({ 'a.csv': GOOD_CSV });
    const dry = sluice(['run', '--db', db, '--source-dir', src, '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    expect(json(dry)).toMatchObject({ dry_run: true, loaded: 2 });
    expect(dry.stderr).toContain('Would load 2 records');
    expect(existsSync(db)).toBe(false);
    expect(sluice(['run', '--db', db, '--input', path.join(src, 'a.csv')]).code).toBe(0);
    writeFileSync(path.join(src, 'b.csv'), 'id,name\n3,carol\n');
    expect(json(sluice(['run', '--db', db, '--source-dir', src, '--dry-run', '--json']))).toMatchObject({ loaded: 1, target_rows: 3 });
    expect(rows(db, 'SELECT COUNT(*) AS n FROM records')).toEqual([{ n: 2 }]);
    expect(rows(db, 'SELECT COUNT(*) AS n FROM _sluice_runs')).toEqual([{ n: 1 }]);
  });

  it(':memory: works', () => {
    const { src } = drop({ 'a.csv': GOOD_CSV });
    expect(json(sluice(['run', '--db', ':memory:', '--source-dir', src, '--json']))).toMatchObject({ loaded: 2, target_rows: 2 });
  });
});

describe('sluice run: a typed column of an existing table', () => {
  it('types its field in later runs too: a value that does not fit is a dead letter', () => {
    const { db, src } = drop({ 'a.csv': 'id,amount\n1,10.5\n' });
    expect(sluice(['run', '--db', db, '--source-dir', src, '--type', 'amount=number']).code).toBe(0);
    writeFileSync(path.join(src, 'b.csv'), 'id,amount\n2,7\n3,lots\n');
    const s = json(sluice(['run', '--db', db, '--source-dir', src, '--json']));
    expect(s).toMatchObject({ loaded: 1, rejected: 1 });
    expect(rows(db, 'SELECT id, amount, typeof(amount) AS t FROM records ORDER BY rowid')).toEqual([
      { id: '1', amount: 10.5, t: 'real' },
      { id: '2', amount: 7, t: 'real' },
    ]);
    expect(rows(db, 'SELECT reason, field FROM _sluice_dead_letters')).toEqual([{ reason: 'invalid_type', field: 'amount' }]);
  });
});

describe('sluice run: a re-run skips unchanged files', () => {
  it('unchanged files between changed ones: each recorded once, counted, and the changed ones loaded', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 6; i++) files[`f${i}.csv`] = `id,name\n${i},n${i}\n`;
    const { db, src } = drop(files);
    expect(json(sluice(['run', '--db', db, '--source-dir', src, '--key', 'id', '--strategy', 'update', '--json']))).toMatchObject({ files_loaded: 6 });
    writeFileSync(path.join(src, 'f1.csv'), 'id,name\n1,changed\n');
    writeFileSync(path.join(src, 'f4.csv'), 'id,name\n4,changed\n');
    const again = json<{ files: { path: string; status: string }[] }>(sluice(['run', '--db', db, '--source-dir', src, '--key', 'id', '--strategy', 'update', '--json']));
    expect(again).toMatchObject({ files_total: 6, files_loaded: 2, files_unchanged: 4, input_records: 2, target_rows: 6 });
    expect(again.files.map((f) => f.status)).toEqual(['unchanged', 'loaded', 'unchanged', 'unchanged', 'loaded', 'unchanged']);
    const statuses = rows(db, 'SELECT ordinal, status FROM _sluice_checkpoints WHERE run_id = 2 ORDER BY ordinal');
    expect(statuses.map((r) => r.status)).toEqual(['unchanged', 'loaded', 'unchanged', 'unchanged', 'loaded', 'unchanged']);
    expect(rows(db, "SELECT name FROM records WHERE id IN ('1', '4') ORDER BY id")).toEqual([{ name: 'changed' }, { name: 'changed' }]);
  });
});

describe('sluice run: the file ledger knows a file by its absolute path', () => {
  const appendRun = (cwd: string, args: string[]) => json(sluice(['run', ...args, '--strategy', 'append', '--json'], { cwd }));

  it('a run from another directory, or through the config file named another way, loads nothing twice (append)', () => {
    const { dir, db, src } = drop({ 'a.csv': GOOD_CSV });
    writeFileSync(path.join(dir, 'sluice.yaml'), 'db: test.db\ninput: [in/a.csv]\n');
    expect(appendRun(ROOT, ['--config', path.join(dir, 'sluice.yaml')])).toMatchObject({ files_loaded: 1, loaded: 2 });
    expect(appendRun(dir, ['--config', 'sluice.yaml'])).toMatchObject({ files_unchanged: 1, loaded: 0 });
    expect(appendRun(src, ['--db', db, '--input', 'a.csv'])).toMatchObject({ files_unchanged: 1, loaded: 0 });
    expect(appendRun(dir, ['--db', db, '--source-dir', './in'])).toMatchObject({ files_unchanged: 1, loaded: 0 });
    expect(rows(db, 'SELECT COUNT(*) AS n FROM records')).toEqual([{ n: 2 }]);
    expect(rows(db, 'SELECT path FROM _sluice_paths')).toEqual([{ path: path.join(src, 'a.csv') }]);
  });

  it('a ledger that stored the path as given, relative, still knows the file from that directory', () => {
    const { dir, db } = drop({ 'a.csv': GOOD_CSV });
    expect(appendRun(dir, ['--db', db, '--input', 'in/a.csv'])).toMatchObject({ files_loaded: 1 });
    // What earlier versions stored: the path relative to the run's working directory.
    const ledger = new Database(db);
    ledger.prepare("UPDATE _sluice_files SET path = 'in/a.csv'").run();
    ledger.close();
    expect(appendRun(dir, ['--db', db, '--input', 'in/a.csv'])).toMatchObject({ files_unchanged: 1, loaded: 0 });
    expect(rows(db, 'SELECT COUNT(*) AS n FROM records')).toEqual([{ n: 2 }]);
  });

  it('a dead letter stored under the relative path still waits: a re-delivery does not store it twice', () => {
    const { dir, db, src } = drop({ 'a.csv': 'id,name\n1,alice\n,nokey\n' });
    const args = ['--db', db, '--input', 'in/a.csv', '--require', 'id'];
    expect(appendRun(dir, args)).toMatchObject({ loaded: 1, dead_letters: 1 });
    const ledger = new Database(db);
    ledger.prepare("UPDATE _sluice_files SET path = 'in/a.csv'").run();
    ledger.prepare("UPDATE _sluice_paths SET path = 'in/a.csv'").run();
    ledger.close();
    writeFileSync(path.join(src, 'a.csv'), 'id,name\n1,alice\n,nokey\n2,bob\n');
    expect(appendRun(dir, args)).toMatchObject({ rejected: 1, dead_letters: 0 });
    expect(rows(db, 'SELECT COUNT(*) AS n FROM _sluice_dead_letters')).toEqual([{ n: 1 }]);
  });
});

describe('sluice --version', () => {
  it('prints the package version and exits 0', () => {
    const r = sluice(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
