import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, json, ROOT, rows, sluice, tempDir, type CliResult } from '../support/cli.js';

/**
 * The inspection and repair commands, driven as a user would, on ledgers left by real runs:
 * the capstone and ETL examples, a crashed run, a failed file, an empty ledger, no database.
 */

function example(name: string): string {
  const dir = path.join(tempDir('sluice-inspect-'), name);
  cpSync(path.join(ROOT, 'examples', name), dir, { recursive: true });
  return dir;
}

function ok(result: CliResult): CliResult {
  expect(result.code, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe(0);
  return result;
}

/** Tables are for 80-column terminals; only a command meant for pasting may be longer. */
function expectNarrow(text: string): void {
  for (const line of text.split('\n')) {
    if (!line.includes('sluice ')) expect([...line].length, line).toBeLessThanOrEqual(80);
  }
}

function sql(db: string, statement: string, ...params: unknown[]): void {
  const connection = new Database(db);
  try {
    connection.prepare(statement).run(...params);
  } finally {
    connection.close();
  }
}

/** Runs a command printed by sluice (it starts with `sluice`) through a shell, as a user pasting it. */
/** Runs a shown `[cd DIR && ]sluice ...` command in a shell, with the built CLI as `sluice`. */
function paste(command: string, cwd: string): CliResult {
  expect(command).toMatch(/^(cd \S+ && )?sluice /);
  const script = command.replace(/^((?:cd \S+ && )?)sluice /, (_all, cd: string) => `${cd}${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} `);
  const result = spawnSync('sh', ['-c', script], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

describe('on the capstone ledger', () => {
  let dir = '';
  let db = '';
  let config = '';
  beforeAll(() => {
    dir = example('capstone');
    db = path.join(dir, 'capstone.db');
    config = path.join(dir, 'sluice.yaml');
  });

  it('run --report prints the by-step table after the summary, and adds it to --json', () => {
    const human = ok(sluice(['run', '--config', config, '--report']));
    expect(human.stderr).toContain('Loaded 5 records');
    expect(human.stdout).toMatch(/^run 1 of pipeline capstone \(succeeded\): 12 lineage entries/);
    expect(human.stdout).toMatch(/stage\s+5\n\s*load\s+5\n\s*reject\s+2\n/);
    expect(human.stdout).toMatch(/FILE\s+STAGE\s+LOAD\s+REJECT\n\S*events\.json\s+5\s+5\s+2/);
    const again = json<{ run_id: number; lineage: { run_id: number; total: number } }>(ok(sluice(['run', '--config', config, '--report', '--json'])));
    expect(again.lineage).toMatchObject({ run_id: again.run_id, total: 0 });
  });

  it('runs: newest first, as a table and as JSON', () => {
    const human = ok(sluice(['runs', '--db', db]));
    const lines = human.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+STARTED \(UTC\)\s+TOOK\s+FILES\s+IN\s+LOADED\s+REJ\s+SKIP\s+WATERMARK$/);
    expect(lines[1]).toMatch(/^ *2 +succeeded .* +1 +0 +0 +0 +0 +2025-01-15T12:00:00$/);
    expect(lines[2]).toMatch(/^ *1 +succeeded .* +1 +7 +5 +2 +0 +2025-01-15T12:00:00$/);
    expectNarrow(human.stdout);
    const list = json<{ id: number; input_records: number; files_unchanged: number }[]>(ok(sluice(['runs', '--db', db, '--json'])));
    expect(list.map((r) => [r.id, r.input_records, r.files_unchanged])).toEqual([
      [2, 0, 1],
      [1, 7, 0],
    ]);
    expect(json<unknown[]>(ok(sluice(['runs', '--db', db, '--limit', '1', '--json'])))).toHaveLength(1);
    expect(ok(sluice(['runs', '--db', db, '--status', 'failed'])).stderr).toContain('nothing yet: no failed runs');
    expect(ok(sluice(['runs', '--db', db, '--status', 'failed', '--pipeline', 'nope'])).stderr).toContain('nothing yet: no failed runs of pipeline nope in');
    expect(sluice(['runs', '--db', db, '--status', 'done']).code).toBe(2);
    expect(sluice(['runs', '--db', db, '--limit', '0']).code).toBe(2);
  });

  it('status: watermark, last run, tables, dead letters waiting', () => {
    const human = ok(sluice(['status', '--db', db]));
    expect(human.stdout).toContain('pipeline capstone');
    expect(human.stdout).toMatch(/watermark: +ts = 2025-01-15T12:00:00 \(timestamp; run 1/);
    expect(human.stdout).toMatch(/last run: +2 succeeded/);
    expect(human.stdout).toMatch(/tables: +events 4 rows/);
    expect(human.stdout).toContain(`dead letters: 2 waiting: sluice dead-letters list --db ${db} --pipeline capstone`);
    expect(human.stdout).not.toContain('unfinished');
    const [status] = json<Record<string, unknown>[]>(ok(sluice(['status', '--db', db, '--json'])));
    expect(status).toMatchObject({ pipeline: 'capstone', runs: 2, unfinished: null, dead_letters_waiting: 2, tables: [{ table: 'events', rows: 4 }] });
  });

  it('status and watermark show name a numeric cursor by its declared type', () => {
    const dir = tempDir('sluice-inspect-int-');
    const input = path.join(dir, 'a.csv');
    writeFileSync(input, 'id,version\n1,5\n2,7\n');
    const intDb = path.join(dir, 'int.db');
    ok(sluice(['run', '--db', intDb, '--input', input, '--key', 'id', '--cursor', 'version', '--type', 'version=integer', '--strategy', 'upsert-newer', '--quiet']));
    expect(ok(sluice(['status', '--db', intDb])).stdout).toMatch(/watermark: +version = 7 \(integer; run 1/);
    expect(ok(sluice(['watermark', 'show', '--db', intDb])).stdout).toMatch(/version +integer +7/);
    const [status] = json<{ watermark: Record<string, unknown> }[]>(ok(sluice(['status', '--db', intDb, '--json'])));
    expect(status?.watermark).toMatchObject({ cursor: 'version', type: 'number', cursor_type: 'integer', value: '7' });
  });

  it('lineage --by-step and --key', () => {
    const byStep = ok(sluice(['lineage', '--by-step', '--db', db, '--run', '1']));
    expect(byStep.stdout).toMatch(/reject\s+2/);
    expectNarrow(byStep.stdout);
    expect(json(ok(sluice(['lineage', '--db', db, '--run', '1', '--json'])))).toMatchObject({ run_id: 1, steps: { stage: 5, load: 5, reject: 2 } });
    // The latest run by default: the rerun read nothing.
    expect(json(ok(sluice(['lineage', '--db', db, '--json'])))).toMatchObject({ run_id: 2, total: 0 });

    const rejected = ok(sluice(['lineage', '--key', 'evt-005', '--db', db]));
    expect(rejected.stdout).toMatch(/1 +\S*events\.json +6 +reject +#2 invalid_type: field value/);
    expect(rejected.stdout).toContain('no row with this key');
    expectNarrow(rejected.stdout);
    const history = json<{ history: Record<string, unknown>[]; current: Record<string, unknown>[] }>(ok(sluice(['lineage', '--key', 'evt-003', '--db', db, '--json'])));
    expect(history.history.map((e) => `${String(e.line)}:${String(e.step)}`)).toEqual(['4:stage', '4:load', '8:stage', '8:load']);
    expect(history.current).toMatchObject([{ table: 'events', run_id: 1, fields: { key: 'evt-003', name: 'purchase_updated', value: 59.99 } }]);
    const loaded = ok(sluice(['lineage', '--key', 'evt-003', '--db', db]));
    expect(loaded.stdout).toMatch(/now in table events, written by run 1 from \S*events\.json:8:\n +key: +evt-003\n +name: +purchase_updated/);
    expect(sluice(['lineage', '--db', db, '--run', '99']).code).toBe(2);
    expect(sluice(['lineage', '--db', db, '--run', '1', '--pipeline', 'other']).code).toBe(2);
  });

  it('dead-letters list, show, purge', () => {
    const list = ok(sluice(['dead-letters', 'list', '--db', db]));
    expect(list.stdout).toMatch(/^ID +RUN +FILE:LINE +REASON +FIELD +MESSAGE\n +1 +1 +\S*events\.json:5 +missing_required +key +required field/);
    expect(list.stdout).toMatch(/\n +2 +1 +\S*events\.json:6 +invalid_type +value +field value/);
    expectNarrow(list.stdout);
    expect(json<{ id: number }[]>(ok(sluice(['dead-letters', 'list', '--db', db, '--reason', 'invalid_type', '--json']))).map((d) => d.id)).toEqual([2]);
    expect(sluice(['dead-letters', 'list', '--db', db, '--reason', 'nonsense']).code).toBe(2);
    expect(sluice(['dead-letters', 'list', '--db', db, '--run', '42']).code).toBe(2);

    const show = ok(sluice(['dead-letters', 'show', '2', '--db', db]));
    expect(show.stdout).toMatch(/source: +\S*events\.json:6\n/);
    expect(show.stdout).toMatch(/reason: +invalid_type\n/);
    expect(show.stdout).toMatch(/raw record: +\{\n +"key": "evt-005",\n/);
    expect(json(ok(sluice(['dead-letters', 'show', '2', '--db', db, '--json'])))).toMatchObject({ id: 2, line: 6, raw_json: { value: 'not_a_number' }, replayed_by: null });
    const missing = sluice(['dead-letters', 'show', '99', '--db', db]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('dead letter 99 not found');

    const refused = sluice(['dead-letters', 'purge', '--run', '1', '--db', db]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('would delete 2 dead letters of run 1; nothing was deleted');
    expect(refused.stderr).toContain(`sluice dead-letters purge --db ${db} --run 1 --yes`);
    expect(rows(db, 'SELECT COUNT(*) AS n FROM _sluice_dead_letters')).toEqual([{ n: 2 }]);
    expect(sluice(['dead-letters', 'purge', '--db', db]).code).toBe(2);
    expect(ok(sluice(['dead-letters', 'purge', '--before', '2000-01-01', '--yes', '--db', db])).stderr).toContain('nothing to delete');
    expect(json(ok(sluice(['dead-letters', 'purge', '--run', '1', '--yes', '--json', '--db', db])))).toMatchObject({ matched: 2, deleted: 2 });
    expect(ok(sluice(['dead-letters', '--db', db])).stderr).toContain('nothing yet: no dead letters');
  });
});

describe('watermark repairs', () => {
  it('show, set (validated, never backwards without --force), reset --yes', () => {
    const dir = example('capstone');
    const db = path.join(dir, 'capstone.db');
    expect(ok(sluice(['run', '--config', path.join(dir, 'sluice.yaml')])).stderr).toContain(`see the rejected records: sluice dead-letters list --db ${db} --run 1`);
    const show = ok(sluice(['watermark', 'show', '--db', db]));
    expect(show.stdout).toMatch(/^PIPELINE +CURSOR +TYPE +VALUE +SET BY +UPDATED \(UTC\)\ncapstone +ts +timestamp +2025-01-15T12:00:00 +run 1 /);
    expect(json(ok(sluice(['watermark', '--db', db, '--json'])))).toMatchObject([{ pipeline: 'capstone', cursor: 'ts', cursor_type: 'timestamp', valid: true }]);

    const invalid = sluice(['watermark', 'set', 'soon', '--db', db]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('cursor ts expects an ISO-8601 timestamp');
    const back = sluice(['watermark', 'set', '2025-01-15T09:00:00', '--db', db]);
    expect(back.code).toBe(2);
    expect(back.stderr).toContain(`sluice watermark set 2025-01-15T09:00:00 --db ${db} --pipeline capstone --force`);
    expect(rows(db, 'SELECT value FROM _sluice_watermarks')).toEqual([{ value: '2025-01-15T12:00:00' }]);
    expect(ok(sluice(['watermark', 'set', '2025-01-16T00:00:00', '--db', db])).stderr).toContain('2025-01-15T12:00:00 -> 2025-01-16T00:00:00');
    expect(json(ok(sluice(['watermark', 'set', '2025-01-15T09:00:00', '--force', '--json', '--db', db])))).toMatchObject({ change: 'backward', value: '2025-01-15T09:00:00' });

    // With the watermark moved back, the late evt-003 (ts 09:00, on the watermark) is no longer skipped; upsert-newer
    // keeps the newer row, which covers it: the watermark stays at 09:00.
    const late = json(ok(sluice(['run', '--config', path.join(dir, 'sluice.yaml'), '--input', path.join(dir, 'late-evt-003.json'), '--json'])));
    expect(late).toMatchObject({ skipped_watermark: 0, skipped_stale: 1, watermark: '2025-01-15T09:00:00' });

    const refused = sluice(['watermark', 'reset', '--db', db]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`sluice watermark reset --db ${db} --pipeline capstone --yes`);
    const reset = ok(sluice(['watermark', 'reset', '--db', db, '--yes']));
    expect(reset.stderr).toContain('watermark of pipeline capstone (ts) deleted; it was 2025-01-15T09:00:00');
    expect(reset.stderr).toContain('note: the next run reads the 2 file(s) loaded so far again, from their start, and loads every record its strategy accepts');
    expect(rows(db, 'SELECT * FROM _sluice_watermarks')).toEqual([]);
    expect(ok(sluice(['watermark', 'reset', '--db', db, '--yes'])).stderr).toContain('no watermark: nothing to reset');
    const status = ok(sluice(['status', '--db', db]));
    expect(status.stdout).toMatch(/re-read: +2 loaded files, by the next run \(watermark ts reset\)\n/);
    expectNarrow(status.stdout);
    expect(json(ok(sluice(['status', '--db', db, '--json'])))).toMatchObject([{ reread: { files: 2, reason: 'watermark ts reset' } }]);

    // The next run reads events.json again (the late file is not among its inputs); the table converges.
    const again = ok(sluice(['run', '--config', path.join(dir, 'sluice.yaml'), '--json']));
    expect(again.stderr).toMatch(/watermark ts reset \(\S+\): reading 1 file\(s\) loaded before again, from their start/);
    // The 2 rejects' letters wait under run 1, so the hint lists the pipeline's, not this run's.
    expect(again.stderr).toContain(`see the rejected records: sluice dead-letters list --db ${db} --pipeline capstone`);
    // Every record was already there (skipped), yet the watermark comes back to what they cover.
    expect(json(again)).toMatchObject({ files_loaded: 1, input_records: 7, skipped_watermark: 0, loaded: 0, target_rows: 4, watermark_before: null, watermark: '2025-01-15T12:00:00' });
    expect(rows(db, 'SELECT value FROM _sluice_watermarks')).toEqual([{ value: '2025-01-15T12:00:00' }]);
    expect(rows(db, "SELECT name, value FROM events WHERE key = 'evt-003'")).toEqual([{ name: 'purchase_updated', value: 59.99 }]);
    expect(json(ok(sluice(['run', '--config', path.join(dir, 'sluice.yaml'), '--json'])))).toMatchObject({ files_unchanged: 1, input_records: 0 });
    // The late file was not read again yet: status still says so.
    expect(json(ok(sluice(['status', '--db', db, '--json'])))).toMatchObject([{ reread: { files: 1 } }]);
  });

  it('the repair commands a run prints for a corrupt watermark work as printed', () => {
    const dir = example('capstone');
    const db = path.join(dir, 'capstone.db');
    const config = path.join(dir, 'sluice.yaml');
    ok(sluice(['run', '--config', config]));
    sql(db, "UPDATE _sluice_watermarks SET value = 'garbage'");
    expect(ok(sluice(['watermark', 'show', '--db', db])).stdout).toContain('garbage (invalid)');
    const stopped = sluice(['run', '--config', config]);
    expect(stopped.code).toBe(2);
    const set = /sluice watermark set <VALUE> [^,\n]*--force/.exec(stopped.stderr)?.[0];
    const reset = /sluice watermark reset [^\n]*--yes/.exec(stopped.stderr)?.[0];
    expect(set).toBeDefined();
    expect(reset).toBeDefined();
    const repaired = paste((set as string).replace('<VALUE>', '2025-01-15T12:00:00'), dir);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.stderr).toContain('"garbage" was not an ISO-8601 timestamp');
    ok(sluice(['run', '--config', config]));
    sql(db, "UPDATE _sluice_watermarks SET value = 'garbage'");
    expect(paste(reset as string, dir).code).toBe(0);
    ok(sluice(['run', '--config', config]));
  });

  it('a watermark needs a cursor; several pipelines need --pipeline', () => {
    const dir = example('etl-runner');
    const db = path.join(dir, 'etl.db');
    ok(sluice(['run', '--config', path.join(dir, 'sluice.yaml')]));
    const none = sluice(['watermark', 'set', '5', '--db', db]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('pipeline etl has no cursor');
    ok(sluice(['run', '--config', path.join(dir, 'sluice.yaml'), '--pipeline', 'etl2', '--strategy', 'update']));
    const ambiguous = sluice(['watermark', 'reset', '--yes', '--db', db]);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain('2 pipelines (etl, etl2)');
  });
});

describe('on the ETL ledger: two pipelines', () => {
  let db = '';
  beforeAll(() => {
    const dir = example('etl-runner');
    db = path.join(dir, 'etl.db');
    ok(sluice(['run', '--config', path.join(dir, 'sluice.yaml')]));
    ok(sluice(['run', '--config', path.join(dir, 'sluice.yaml'), '--pipeline', 'etl2', '--strategy', 'update']));
  });

  it('runs shows the pipeline column only when pipelines mix', () => {
    const all = ok(sluice(['runs', '--db', db]));
    expect(all.stdout).toMatch(/^ID +PIPELINE +STATUS/);
    expect(all.stdout).toMatch(/\n +1 +etl +succeeded .* 2 +6 +5 +0 +1 +-\n?$/);
    expectNarrow(all.stdout);
    expect(ok(sluice(['runs', '--db', db, '--pipeline', 'etl'])).stdout).toMatch(/^ID +STATUS/);
  });

  it('status shows every pipeline, or the one named', () => {
    const all = json<{ pipeline: string }[]>(ok(sluice(['status', '--db', db, '--json'])));
    expect(all.map((s) => s.pipeline)).toEqual(['etl', 'etl2']);
    expect(ok(sluice(['status', '--db', db, '--pipeline', 'etl2'])).stdout).toMatch(/^pipeline etl2\n/);
    expect(ok(sluice(['status', '--db', db, '--pipeline', 'nope'])).stderr).toContain('nothing yet: no runs of pipeline nope');
  });

  it('lineage by step counts the duplicate; --key follows a customer through both files', () => {
    const report = json<{ files: { file: string; steps: Record<string, number> }[] }>(ok(sluice(['lineage', '--db', db, '--pipeline', 'etl', '--json'])));
    expect(report.files.map((f) => [path.basename(f.file), f.steps.load, f.steps['skip-duplicate']])).toEqual([
      ['customers.csv', 3, 0],
      ['orders.csv', 2, 1],
    ]);
    const human = ok(sluice(['lineage', '--db', db, '--run', '1']));
    expect(human.stdout).toMatch(/skip-duplicate +1/);
    expect(human.stdout).toMatch(/FILE +STAGE +LOAD +SKIP-DUPLICATE/);
    const key = json<{ history: { run_id: number; step: string }[]; current: { fields: Record<string, unknown> }[] }>(
      ok(sluice(['lineage', '--db', db, '--pipeline', 'etl', '--key', '2', '--json'])),
    );
    expect(key.history.map((e) => e.step)).toEqual(['stage', 'load', 'stage', 'skip-duplicate']);
    // Both pipelines load the same table: the row now is the one etl2's update wrote.
    expect(key.current).toMatchObject([{ fields: { id: '2', email: 'bob@newmail.com' } }]);
  });
});

describe('a runs table too wide for 80 columns', () => {
  it('keeps the watermarks whole, below the table, rather than cutting them or the line', () => {
    const dir = tempDir('sluice-inspect-wide-');
    const lines = Array.from({ length: 120_000 }, (_, i) => `${i},2025-01-15T12:00:00.123456Z`);
    writeFileSync(path.join(dir, 'big.csv'), `id,ts\n${lines.join('\n')}\n`);
    const db = path.join(dir, 'wide.db');
    ok(sluice(['run', '--input', 'big.csv', '--db', db, '--pipeline', 'big', '--key', 'id', '--cursor', 'ts', '--strategy', 'upsert-newer', '--quiet'], { cwd: dir }));
    ok(sluice(['run', '--input', 'big.csv', '--db', db, '--pipeline', 'other', '--table', 't2', '--quiet'], { cwd: dir }));
    const table = ok(sluice(['runs', '--db', db])).stdout;
    expectNarrow(table);
    expect(table).toContain('run 1 watermark: 2025-01-15T12:00:00.123456Z');
    expect(table).not.toContain('…');
  });
});

describe('a crashed run', () => {
  let dir = '';
  let db = '';
  beforeAll(() => {
    dir = tempDir('sluice-inspect-crash-');
    mkdirSync(path.join(dir, 'in'));
    for (let f = 1; f <= 3; f += 1) {
      const lines = Array.from({ length: 10 }, (_, i) => JSON.stringify({ id: `k${f}-${i}`, v: i, ts: `2025-01-0${f}T00:00:${String(i).padStart(2, '0')}` }));
      writeFileSync(path.join(dir, 'in', `part ${f}.ndjson`), `${lines.join('\n')}\n`);
    }
    db = path.join(dir, 'crash.db');
    const crashed = sluice(['run', '--db', db, '--source-dir', 'in', '--key', 'id', '--cursor', 'ts', '--strategy', 'upsert-newer', '--batch-size', '2', '--simulate-crash', '15', '--quiet'], { cwd: dir });
    expect(crashed.signal).toBe('SIGKILL');
  });

  it('status shows the checkpoint and a resume command that works when pasted', () => {
    const human = ok(sluice(['status', '--db', 'crash.db'], { cwd: dir }));
    expect(human.stdout).toMatch(/unfinished: +run 1 crashed \(pid \d+ on .+ is gone\), 14 records loaded/);
    expect(human.stdout).toMatch(/checkpoint: +in\/part 2\.ndjson after record 4 \(\d+(\.\d)?% of the file\)/);
    expect(human.stdout).toMatch(/progress: +1\/3 files done, \d+(\.\d)?% of all bytes/);
    const [status] = json<{ unfinished: { process: string; checkpoint: Record<string, unknown>; resume_command: string } }[]>(ok(sluice(['status', '--db', 'crash.db', '--json'], { cwd: dir })));
    expect(status?.unfinished).toMatchObject({ process: 'dead', checkpoint: { file: path.join(dir, 'in/part 2.ndjson'), files_done: 1, files_total: 3, record: 4 } });
    const command = status?.unfinished.resume_command as string;
    expect(command).toBe("sluice run --db crash.db --pipeline default --table records --source-dir in --key id --cursor ts --strategy upsert-newer --batch-size 2");
    expect(human.stdout).toContain(`resume with:  ${command}`);
    const runs = ok(sluice(['runs', '--db', db]));
    expect(runs.stdout).toMatch(/\n +1 +running .* - +3 +14 +14 +0 +0 +-\n?$/);

    // Shown in another directory, the command first goes to the run's, where `in` is.
    const elsewhere = tempDir();
    const [away] = json<{ unfinished: { resume_command: string } }[]>(ok(sluice(['status', '--db', db, '--json'], { cwd: elsewhere })));
    const awayCommand = away?.unfinished.resume_command as string;
    expect(awayCommand).toBe(`cd ${dir} && ${command.replace('--db crash.db', `--db ${db}`)}`);
    const resumed = paste(awayCommand, elsewhere);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('resumed');
    expect(json(ok(sluice(['status', '--db', db, '--json'])))).toMatchObject([{ unfinished: null, last_run: { id: 1, status: 'succeeded' }, tables: [{ rows: 30 }] }]);
  });

  it('a run whose process is alive is shown loading, with no resume command', () => {
    const copy = path.join(tempDir(), 'alive.db');
    cpSync(db, copy);
    // A killed run leaves its last commits in the write-ahead log.
    if (existsSync(`${db}-wal`)) cpSync(`${db}-wal`, `${copy}-wal`);
    sql(copy, "UPDATE _sluice_runs SET status = 'running', finished_at = NULL, pid = ?", process.pid);
    const [status] = json<{ unfinished: Record<string, unknown> }[]>(ok(sluice(['status', '--db', copy, '--json'])));
    expect(status?.unfinished).toMatchObject({ process: 'alive', pid: process.pid, resume_command: null });
    expect(ok(sluice(['status', '--db', copy])).stdout).toMatch(/unfinished: +run 1 loading now \(pid \d+/);
  });
});

describe('a failed file', () => {
  it('runs names the file skipped and why', () => {
    const dir = tempDir('sluice-inspect-failed-');
    mkdirSync(path.join(dir, 'in'));
    writeFileSync(path.join(dir, 'in', 'good.ndjson'), '{"id":1}\n{"id":2}\n');
    writeFileSync(path.join(dir, 'in', 'bad.ndjson'), Buffer.from('{"id":3}\n\xff\xfe\n', 'latin1'));
    const db = path.join(dir, 'f.db');
    expect(sluice(['run', '--db', db, '--source-dir', path.join(dir, 'in'), '--quiet']).code).toBe(3);
    const human = ok(sluice(['runs', '--db', db]));
    expect(human.stdout).toMatch(/run 1 skipped \S*bad\.ndjson: invalid UTF-8/);
    expectNarrow(human.stdout);
    const [run] = json<{ files_failed: number; failed_files: { path: string; error: string }[] }[]>(ok(sluice(['runs', '--db', db, '--json'])));
    expect(run?.files_failed).toBe(1);
    expect(run?.failed_files).toEqual([{ path: path.join(dir, 'in', 'bad.ndjson'), error: expect.stringContaining('invalid UTF-8') as unknown }]);
    expect(ok(sluice(['status', '--db', db])).stdout).toMatch(/tables: +records 2 rows/);
  });
});

describe('empty ledger and missing database', () => {
  const commands = [
    ['runs'],
    ['status'],
    ['lineage'],
    ['lineage', '--key', 'k'],
    ['dead-letters', 'list'],
    ['watermark', 'show'],
  ];

  it('a database without a ledger: one "nothing yet" line, exit 0, JSON empty', () => {
    const db = path.join(tempDir(), 'plain.db');
    sql(db, 'CREATE TABLE t (a)');
    for (const command of commands) {
      const human = ok(sluice([...command, '--db', db]));
      expect(human.stdout).toBe('');
      expect(human.stderr.trim().split('\n')).toHaveLength(1);
      expect(human.stderr).toMatch(/nothing yet|no lineage/);
      expect(JSON.stringify(json(ok(sluice([...command, '--db', db, '--json']))))).toMatch(/^\[\]$|^null$|"history":\[\]/);
    }
  });

  it('a missing --db: exit 2, a clear message, no file created', () => {
    const dir = tempDir();
    const db = path.join(dir, 'missing.db');
    const all = [...commands, ['dead-letters', 'show', '1'], ['dead-letters', 'purge', '--run', '1', '--yes'], ['watermark', 'set', '1'], ['watermark', 'reset', '--yes']];
    for (const command of all) {
      const result = sluice([...command, '--db', db]);
      expect(result.code, command.join(' ')).toBe(2);
      expect(result.stderr).toContain(`database ${db} does not exist`);
    }
    const viaEnv = sluice(['status'], { cwd: dir, env: { SLUICE_DB: db } });
    expect(viaEnv.code).toBe(2);
    expect(viaEnv.stderr).toContain(db);
    const byDefault = sluice(['runs'], { cwd: dir, env: { SLUICE_DB: undefined } });
    expect(existsSync(db)).toBe(false);
    expect(existsSync(path.join(dir, 'sluice.db'))).toBe(false);
    expect(byDefault.code).toBe(2);
  });

  it('a --db that cannot be a database says why and how to fix it: exit 2, nothing created', () => {
    const dir = tempDir('sluice-baddb-');
    const input = path.join(dir, 'a.csv');
    writeFileSync(input, 'id\n1\n');
    const cases: [string[], string, string][] = [
      [['run', '--input', input, '--db', path.join(dir, 'nodir', 'x.db')], `directory ${path.join(dir, 'nodir')} does not exist`, 'mkdir -p'],
      [['run', '--input', input, '--db', dir], `--db ${dir} is a directory, not a database file`, path.join(dir, 'sluice.db')],
      [['status', '--db', dir], `--db ${dir} is a directory, not a database file`, 'name a file in it'],
      [['status', '--db', ':memory:'], '--db :memory: has nothing to read', 'the runs loaded'],
    ];
    for (const [args, message, fix] of cases) {
      const result = sluice(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr).toContain(fix);
      expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    }
    expect(existsSync(path.join(dir, 'nodir'))).toBe(false);
  });
});

/** An input file of that name and text, and a database beside it, in a fresh directory. */
function inputAndDb(name: string, text: string): { input: string; db: string } {
  const dir = tempDir();
  const input = path.join(dir, name);
  writeFileSync(input, text);
  return { input, db: path.join(dir, 'letters.db') };
}

describe('dead-letters show', () => {
  it('shows the raw record indented as written: numbers beyond 2^53 are not rounded', () => {
    const { input, db } = inputAndDb('n.ndjson', '{"id":1,"y":12345678901234567890,"big":9007199254740993,"z":-0.0}\n');
    expect(sluice(['run', '--db', db, '--input', input, '--quiet']).code).toBe(0);
    const shown = sluice(['dead-letters', 'show', '1', '--db', db]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('"y": 12345678901234567890,');
    expect(shown.stdout).toContain('"big": 9007199254740993,');
    expect(shown.stdout).toContain('"z": -0.0');
    expect(json<{ raw: string }>(sluice(['dead-letters', 'show', '1', '--db', db, '--json'])).raw).toBe('{"id":1,"y":12345678901234567890,"big":9007199254740993,"z":-0.0}');
  });
});

describe('dead-letters purge beside an unfinished run', () => {
  it('is refused (exit 2) until the run completes: its counters and lineage count those letters', () => {
    const { input, db } = inputAndDb('a.csv', 'id,n\n1,x\n2,2\n3,y\n4,4\n');
    const run = ['run', '--db', db, '--input', input, '--type', 'n=integer', '--batch-size', '1'];
    expect(sluice([...run, '--simulate-crash', '3']).signal).toBe('SIGKILL');
    const refused = sluice(['dead-letters', 'purge', '--run', '1', '--yes', '--db', db]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('run 1 of pipeline default is unfinished; purge dead letters once it has completed');
    expect(sluice(['dead-letters', 'purge', '--before', '2999-01-01', '--yes', '--db', db]).code).toBe(2);
    expect(rows(db, 'SELECT count(*) AS n FROM _sluice_dead_letters')).toEqual([{ n: 1 }]);
    expect(json(sluice([...run, '--json']))).toMatchObject({ resumed: true, dead_letters: 2 });
    expect(sluice(['dead-letters', 'purge', '--run', '1', '--yes', '--db', db]).code).toBe(0);
    expect(rows(db, 'SELECT count(*) AS n FROM _sluice_dead_letters')).toEqual([{ n: 0 }]);
  });
});
