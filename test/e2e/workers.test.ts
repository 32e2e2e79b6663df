import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { json, rows, sluice, sluiceAsync, tempDir, type CliResult } from '../support/cli.js';
import { random } from '../support/generate.js';
import { freshPgSchema, HAVE_PG, PG_SKIPPED, type PgScratch } from '../support/pg.js';

/**
 * `sluice run --workers N`: worker processes share the files of one run. Whatever the number of
 * workers and their timing, and when one of them is killed with SIGKILL in the middle, the run
 * ends with the same target table, dead letters and lineage as one process, row for row, for
 * every strategy, on SQLite and on PostgreSQL.
 *
 * What is compared: the target table (every column, bookkeeping ones included, ordered by key
 * and seq), the dead letters, the lineage of the steps decided per record (stage, reject), the
 * watermark and every counter except one split: for deduplicate and upsert-newer, whether a
 * record counts as loaded or as a duplicate/stale depends on which of two records with the same
 * key landed first (a later record that lands first is loaded, then displaced), so there only
 * their sum (= staged) is compared, and each staged record must have exactly one outcome.
 */
const SEED = Number(process.env.SLUICE_WORKERS_SEED ?? Date.now() % 1_000_000);
const FILES = 40;
const PER_FILE = 200;

const STRATEGIES: { strategy: string; flags: string[]; split: boolean }[] = [
  { strategy: 'append', flags: [], split: false },
  { strategy: 'deduplicate', flags: ['--key', 'key'], split: true },
  { strategy: 'update', flags: ['--key', 'key'], split: false },
  { strategy: 'upsert-newer', flags: ['--key', 'key', '--cursor', 'ts'], split: true },
  { strategy: 'replace', flags: ['--key', 'key'], split: false },
];

/**
 * A drop that makes the order of commits matter: a third of the records reuse one of 1,500 keys
 * shared by all files, with only 40 distinct cursor values (ties everywhere, each with different
 * data), about 2% invalid (dead letters); NDJSON and CSV alternate.
 */
function writeDrop(dir: string, seed: number): void {
  mkdirSync(dir, { recursive: true });
  const next = random(seed);
  for (let f = 0; f < FILES; f += 1) {
    const records: string[][] = [];
    for (let i = 0; i < PER_FILE; i += 1) {
      const n = f * PER_FILE + i;
      const shared = next() < 0.35;
      const key = shared ? `k${Math.floor(next() * 1500)}` : `u${n}`;
      const invalid = next() < 0.02;
      const ts = new Date(Date.UTC(2025, 0, 1) + Math.floor(next() * 40) * 60_000).toISOString().slice(0, 19);
      records.push([invalid && next() < 0.5 ? '' : key, `event ${n}, file ${f}`, invalid ? 'not_a_number' : String(Math.round(next() * 10_000) / 100), ts]);
    }
    const csv = f % 2 === 1;
    const name = path.join(dir, `part-${String(f).padStart(3, '0')}.${csv ? 'csv' : 'ndjson'}`);
    const quote = (v: string): string => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
    const body = csv
      ? ['key,name,value,ts', ...records.map((r) => r.map(quote).join(','))].join('\n') + '\n'
      : records.map(([key, name, value, ts]) => JSON.stringify({ key, name, value, ts })).join('\n') + '\n';
    writeFileSync(name, body);
  }
}

/** A database of one backend: its --db value and read access to what a run left in it. */
interface Db {
  db: string;
  query(sql: string): Promise<Record<string, unknown>[]>;
}

interface Backend {
  name: 'sqlite' | 'postgres';
  available: boolean;
  fresh(label: string): Promise<Db>;
}

const dir = tempDir('sluice-workers-');
const scratches: PgScratch[] = [];
afterAll(async () => {
  for (const scratch of scratches) await scratch.drop();
});

const BACKENDS: Backend[] = [
  {
    name: 'sqlite',
    available: true,
    fresh: async (label) => {
      const db = path.join(dir, `${label}.db`);
      return { db, query: async (sql) => rows(db, sql) };
    },
  },
  {
    name: 'postgres',
    available: HAVE_PG,
    fresh: async () => {
      const scratch = await freshPgSchema('w');
      scratches.push(scratch);
      return { db: scratch.url, query: (sql) => scratch.query(sql) };
    },
  },
];

const OUTCOMES = "('load', 'skip-stale', 'skip-duplicate')";
const COUNTERS = ['files_total', 'files_loaded', 'files_unchanged', 'files_failed', 'input_records', 'staged', 'loaded', 'rejected', 'skipped_watermark', 'skipped_stale', 'skipped_duplicate', 'dropped', 'dead_letters', 'lineage_entries'];

async function snapshot(t: Db, keyed: boolean, split: boolean): Promise<Record<string, unknown>> {
  const target = await t.query(`SELECT * FROM events ORDER BY ${keyed ? 'key, ' : ''}_sluice_seq`);
  for (const row of target) delete row._sluice_rowid;
  const [run] = await t.query(`SELECT status, watermark_before, watermark_after, max_cursor, ${COUNTERS.join(', ')} FROM _sluice_runs ORDER BY id DESC LIMIT 1`);
  const counters = Object.fromEntries(Object.entries(run ?? {}).map(([name, value]) => [name, value === null ? null : String(value)]));
  if (split) {
    counters.outcomes = String(Number(counters.loaded) + Number(counters.skipped_stale) + Number(counters.skipped_duplicate));
    delete counters.loaded;
    delete counters.skipped_stale;
    delete counters.skipped_duplicate;
  }
  return {
    target,
    counters,
    deadLetters: await t.query('SELECT run_id, file, line, raw, reason, field, message FROM _sluice_dead_letters ORDER BY file, line'),
    lineage: await t.query(`SELECT l.run_id, p.path, l.line, l.key, l.step FROM _sluice_lineage_steps l JOIN _sluice_paths p ON p.id = l.file_id
      WHERE l.step NOT IN ${OUTCOMES} ORDER BY p.path, l.line, l.step, l.key`),
    // Every staged record has exactly one outcome (its step may depend on timing, see above).
    outcomesPerStaged: await t.query(`SELECT p.path, l.line FROM _sluice_lineage l JOIN _sluice_paths p ON p.id = l.file_id GROUP BY p.path, l.line
      HAVING SUM(CASE WHEN l.step IN ${OUTCOMES} THEN 1 ELSE 0 END) > 1`),
    outcomeSteps: split ? null : await t.query(`SELECT p.path, l.line, l.step FROM _sluice_lineage l JOIN _sluice_paths p ON p.id = l.file_id WHERE l.step IN ${OUTCOMES} ORDER BY p.path, l.line`),
    watermark: await t.query('SELECT cursor, type, value FROM _sluice_watermarks'),
  };
}

function summary(result: CliResult): { status: string; run_id: number; warnings: string[] } & Record<string, unknown> {
  expect(result.code, result.stderr).toBe(0);
  return json(result);
}

/** Polls until the pipeline's run has read `records` input records. */
async function progressed(t: Db, records: number): Promise<void> {
  for (let i = 0; i < 2000; i += 1) {
    const [run] = await t.query('SELECT input_records FROM _sluice_runs ORDER BY id DESC LIMIT 1').catch(() => []);
    if (Number(run?.input_records ?? 0) >= records) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the run never read ${records} records`);
}

/**
 * A transform that takes half a millisecond per record and changes none: it keeps a run on
 * SQLite busy long enough for a test to act in the middle of it.
 */
function slowTransform(): string {
  const file = path.join(dir, 'slow.mjs');
  writeFileSync(file, 'export default (r) => { const end = performance.now() + 0.5; while (performance.now() < end); return r; };\n');
  return file;
}

/** Whether a process is still running (a zombie waiting to be reaped is not). */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** The worker processes of a `sluice run --workers N` (its children). */
function workerPids(coordinator: number): number[] {
  const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(coordinator)], { encoding: 'utf8' });
  return out.split('\n').map((line) => Number(line.trim())).filter((pid) => pid > 0);
}

const input = path.join(dir, 'in');
writeDrop(input, SEED);

for (const backend of BACKENDS) {
  const title = `parallel workers [${backend.available ? backend.name : PG_SKIPPED}] (seed ${SEED}; replay with SLUICE_WORKERS_SEED=${SEED})`;
  describe.skipIf(!backend.available)(title, () => {
    const base = (flags: string[]): string[] => ['run', '--source-dir', input, ...flags, '--require', 'key,value,ts', '--type', 'value=number', '--table', 'events', '--quiet', '--json'];
    const references = new Map<string, Record<string, unknown>>();
    const next = random(SEED + backend.name.length);

    for (const { strategy, flags, split } of STRATEGIES) {
      const args = base(['--strategy', strategy, ...flags, '--batch-size', '50']);
      const keyed = strategy !== 'append';

      it(`${strategy}: 4 workers equal one process, row for row`, async () => {
        const one = await backend.fresh(`${strategy}-one`);
        const alone = summary(await sluiceAsync([...args, '--db', one.db]));
        expect(alone).toMatchObject({ status: 'succeeded' });
        const reference = await snapshot(one, keyed, split);
        references.set(strategy, reference);
        expect(alone.target_rows).toBe((reference.target as unknown[]).length);
        const four = await backend.fresh(`${strategy}-four`);
        const result = summary(await sluiceAsync([...args, '--db', four.db, '--workers', '4']));
        // The coordinator counts the table its workers created: never 0 from a stale lookup.
        expect(result).toMatchObject({ status: 'succeeded', files_loaded: FILES, input_records: FILES * PER_FILE, warnings: [], target_rows: alone.target_rows });
        expect(await snapshot(four, keyed, split)).toEqual(reference);
        if (strategy === 'upsert-newer') {
          const single = await backend.fresh(`${strategy}-single`);
          summary(await sluiceAsync([...args, '--db', single.db, '--workers', '1']));
          expect(await snapshot(single, keyed, split)).toEqual(reference);
        }
      });

      it(`${strategy}: a worker killed with SIGKILL in the middle; the others finish its files, still equal`, async () => {
        const reference = references.get(strategy);
        expect(reference, 'the one-process run of the test before').toBeDefined();
        // --simulate-crash with --workers: worker 1 dies like kill -9 after that many records,
        // inside its first file (a file is 200 records): with loads this fast, the other workers
        // may leave it no second file. Batches of 10 (results do not depend on batch size) slow
        // the others down. On a loaded machine (CI runs test files side by side on 2 cores)
        // worker 1 can still start, or wait for the write lock, until the others have claimed
        // every file, and then it never reaches its crash point (seen in CI, seed 79621): such a
        // try proves nothing about the kill, so it is made again, up to 3 times. Every try must
        // equal one process; at least one must have killed worker 1.
        const slower = base(['--strategy', strategy, ...flags, '--batch-size', '10']);
        let killedOnce = false;
        for (let attempt = 1; attempt <= 3 && !killedOnce; attempt += 1) {
          const after = 30 + Math.floor(next() * 160);
          const killed = await backend.fresh(`${strategy}-killed-${attempt}`);
          const result = summary(await sluiceAsync([...slower, '--db', killed.db, '--workers', '4', '--simulate-crash', String(after)]));
          expect(result.status).toBe('succeeded');
          killedOnce = /worker 1 \(pid \d+\) was killed by SIGKILL/.test(result.warnings.join('\n'));
          expect(await snapshot(killed, keyed, split), `try ${attempt}`).toEqual(reference);
        }
        expect(killedOnce, 'worker 1 reached its crash point in none of 3 tries').toBe(true);
      });
    }

    it('kill -9 from outside, of one worker of a slower run (batches of 10): still equal to one process', async () => {
      const reference = references.get('append');
      expect(reference).toBeDefined();
      const t = await backend.fresh('append-kill9');
      const slow = backend.name === 'sqlite' ? ['--transform', slowTransform()] : [];
      const run = sluiceAsync([...base(['--strategy', 'append', '--batch-size', '10', ...slow]), '--db', t.db, '--workers', '3']);
      await progressed(t, 1500);
      const [victim] = workerPids(run.pid() as number);
      expect(victim, 'a live worker').toBeDefined();
      process.kill(victim as number, 'SIGKILL');
      const result = summary(await run);
      expect(result.warnings.join('\n')).toContain(`(pid ${victim}) was killed by SIGKILL`);
      expect(await snapshot(t, false, false)).toEqual(reference);
    });

    it('the same command started again joins the run (another machine); a plain run of the pipeline is refused meanwhile', async () => {
      const reference = references.get('update');
      expect(reference).toBeDefined();
      const t = await backend.fresh('update-join');
      // The first command must stay busy while the second starts: PostgreSQL's commits take long
      // enough in batches of 20, SQLite's (not synced one by one) need the slow transform.
      const busy = backend.name === 'sqlite' ? ['--batch-size', '5', '--transform', slowTransform()] : ['--batch-size', '20'];
      const args = [...base(['--strategy', 'update', '--key', 'key', ...busy]), '--db', t.db];
      const first = sluiceAsync([...args, '--workers', '2']);
      await progressed(t, 200);
      const second = sluiceAsync([...args, '--workers', '2']);
      const plain = await sluiceAsync(args);
      expect(plain.code, plain.stderr).toBe(2);
      expect(plain.stderr).toMatch(/pipeline default is being loaded by another process: pid \d+/);
      const [a, b] = [summary(await first), summary(await second)];
      expect(b.run_id).toBe(a.run_id);
      expect(b.warnings.join('\n')).toContain(`joined run ${a.run_id} of pipeline default`);
      expect([a.status, b.status]).toEqual(['succeeded', 'succeeded']);
      expect(await snapshot(t, true, false)).toEqual(reference);
      // Nothing changed: the next run reads nothing.
      expect(summary(await sluiceAsync([...args, '--workers', '2']))).toMatchObject({ files_unchanged: FILES, input_records: 0 });
    });
  });
}

describe('parallel workers: signals, file errors, replace (SQLite)', () => {
  it('Ctrl-C stops every worker at a checkpoint (exit 130); the same command resumes, equal to one process', async () => {
    const one = path.join(dir, 'sigint-one.db');
    const db = path.join(dir, 'sigint.db');
    const args = ['run', '--source-dir', input, '--strategy', 'append', '--require', 'key,value,ts', '--type', 'value=number', '--table', 'events', '--quiet', '--json'];
    summary(await sluiceAsync([...args, '--db', one, '--batch-size', '50']));
    const run = sluiceAsync([...args, '--db', db, '--batch-size', '10', '--workers', '3']);
    await progressed({ db, query: async (sql) => rows(db, sql) }, 1000);
    run.kill('SIGINT');
    const stopped = await run;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(json(stopped)).toMatchObject({ status: 'interrupted' });
    expect(rows(db, 'SELECT COUNT(*) AS n FROM _sluice_locks')).toEqual([{ n: 0 }]);
    expect(summary(await sluiceAsync([...args, '--db', db, '--batch-size', '10', '--workers', '3']))).toMatchObject({ status: 'succeeded', resumed: true });
    const read = async (file: string): Promise<unknown> => snapshot({ db: file, query: async (sql) => rows(file, sql) }, false, false);
    expect(await read(db)).toEqual(await read(one));
  });

  it('the coordinator killed with SIGKILL takes its workers with it; a resume without --workers then equals one process', async () => {
    const one = path.join(dir, 'orphans-one.db');
    const db = path.join(dir, 'orphans.db');
    const args = ['run', '--source-dir', input, '--strategy', 'append', '--require', 'key,value,ts', '--type', 'value=number', '--table', 'events', '--quiet', '--json'];
    summary(await sluiceAsync([...args, '--db', one, '--batch-size', '50']));
    const run = sluiceAsync([...args, '--db', db, '--batch-size', '10', '--workers', '2', '--transform', slowTransform()]);
    await progressed({ db, query: async (sql) => rows(db, sql) }, 200);
    const workers = workerPids(run.pid() as number);
    expect(workers.length).toBe(2);
    run.kill('SIGKILL');
    await run;
    // Left loading, they would race the resumed run below for the same records.
    for (let i = 0; i < 60 && workers.some(alive); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(workers.filter(alive)).toEqual([]);
    expect(summary(await sluiceAsync([...args, '--db', db, '--batch-size', '10', '--transform', slowTransform()]))).toMatchObject({ status: 'succeeded', resumed: true });
    const read = async (file: string): Promise<unknown> => snapshot({ db: file, query: async (sql) => rows(file, sql) }, false, false);
    expect(await read(db)).toEqual(await read(one));
  });

  it('a malformed file is skipped (exit 3), or with --on-file-error fail stops the run (exit 1)', async () => {
    const drop = path.join(dir, 'broken');
    mkdirSync(drop, { recursive: true });
    for (let f = 0; f < 6; f += 1) writeFileSync(path.join(drop, `p${f}.csv`), `id,v\n${f},x\n${f + 10},y\n`);
    writeFileSync(path.join(drop, 'p2.csv.gz'), gzipSync('id,v\n99,z\n').subarray(0, 12));
    const args = ['run', '--source-dir', drop, '--key', 'id', '--strategy', 'update', '--workers', '2', '--quiet', '--json'];
    const skipped = sluice([...args, '--db', path.join(dir, 'broken-skip.db')]);
    expect(skipped.code, skipped.stderr).toBe(3);
    expect(json(skipped)).toMatchObject({ status: 'succeeded', files_failed: 1, files_loaded: 6, target_rows: 12 });
    const failed = sluice([...args, '--db', path.join(dir, 'broken-fail.db'), '--on-file-error', 'fail']);
    expect(failed.code, failed.stderr).toBe(1);
    expect(json(failed)).toMatchObject({ status: 'failed', files_failed: 1 });
    expect(String(rows(path.join(dir, 'broken-fail.db'), 'SELECT error FROM _sluice_runs')[0]?.error)).toContain('stopped at a file error');
  });

  it('replace with a failing file keeps the table and says so, with --workers too', () => {
    const drop = path.join(dir, 'replace-failing');
    mkdirSync(drop, { recursive: true });
    const db = path.join(drop, 't.db');
    for (let f = 0; f < 4; f += 1) writeFileSync(path.join(drop, `p${f}.csv`), `id,v\n${f},x\n`);
    const args = ['run', '--source-dir', drop, '--pattern', '*.csv', '--db', db, '--strategy', 'replace', '--key', 'id', '--workers', '2'];
    expect(sluice(args).code).toBe(0);
    writeFileSync(path.join(drop, 'p1.csv'), 'id,v\n1,"x\n');
    writeFileSync(path.join(drop, 'p0.csv'), 'id,v\n0,NEW\n');
    const failed = sluice(args);
    expect(failed.code, failed.stderr).toBe(3);
    expect(failed.stderr).toContain('note: table records was not replaced:');
    expect(failed.stderr).toContain(`Kept records as it was (${db}): 3 records from 4 files (1 failed) went to a new table that was not swapped in`);
    expect(rows(db, 'SELECT id, v FROM records ORDER BY id')).toEqual([0, 1, 2, 3].map((id) => ({ id: String(id), v: 'x' })));
    // Its records reached only the dropped new table: lineage says discard, not load.
    const steps = sluice(['lineage', '--by-step', '--db', db, '--json']);
    expect(json(steps)).toMatchObject({ steps: { load: 0, discard: 3, stage: 3 } });
  });

  it('replace: a resumed run reads every file again once one was read (with and without --workers)', async () => {
    for (const workers of [[], ['--workers', '2']]) {
      const drop = path.join(dir, `replace-${workers.length}`);
      mkdirSync(drop, { recursive: true });
      const db = path.join(drop, 't.db');
      const a = path.join(drop, 'a.csv');
      const b = path.join(drop, 'b.csv');
      writeFileSync(a, 'id,v\n1,a\n2,b\n');
      writeFileSync(b, 'id,v\n3,c\n4,d\n');
      const args = ['run', '--db', db, '--input', a, '--input', b, '--strategy', 'replace', '--key', 'id', '--quiet'];
      expect(sluice(args).code).toBe(0);
      // a.csv changes; the run dies once a.csv is loaded, before anything of b.csv (unchanged) commits.
      writeFileSync(a, 'id,v\n1,A\n2,B\n');
      expect(sluice([...args, '--simulate-crash', '3']).signal).toBe('SIGKILL');
      expect(sluice([...args, ...workers]).code).toBe(0);
      expect(rows(db, 'SELECT id, v FROM records ORDER BY id')).toEqual([
        { id: '1', v: 'A' },
        { id: '2', v: 'B' },
        { id: '3', v: 'c' },
        { id: '4', v: 'd' },
      ]);
    }
  });
});
