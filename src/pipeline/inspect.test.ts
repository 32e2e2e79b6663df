import { cpSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildRunSettings } from '../config/run-config.js';
import type { RunOptions } from '../config/run-config.js';
import type { RunSettings } from '../core/settings.js';
import { keyHistory, lineageByStep, listRuns } from './inspect.js';
import { listDeadLetters, purgeDeadLetters, showDeadLetter } from './inspect-dead-letters.js';
import { pipelineStatus, resumeCommand, shellQuote } from './inspect-status.js';
import { resetWatermark, setWatermark, showWatermark } from './inspect-watermark.js';
import { runPipeline } from './run-pipeline.js';

const EXAMPLES = path.resolve(import.meta.dirname, '../../examples');

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'sluice-inspect-'));
}

/** A copy of an example, loaded once with its own config (plus any flags). */
async function loadExample(name: string, flags: RunOptions = {}): Promise<{ dir: string; db: string }> {
  const dir = path.join(tempDir(), name);
  cpSync(path.join(EXAMPLES, name), dir, { recursive: true });
  const settings = buildRunSettings({ config: path.join(dir, 'sluice.yaml'), ...flags });
  await runPipeline(settings);
  return { dir, db: settings.db };
}

function sql(db: string, statement: string, ...params: unknown[]): void {
  const connection = new Database(db);
  try {
    connection.prepare(statement).run(...params);
  } finally {
    connection.close();
  }
}

describe('on the capstone ledger', () => {
  let db = '';
  let dir = '';
  beforeAll(async () => {
    ({ db, dir } = await loadExample('capstone'));
  });

  it('lists the run with its counters', async () => {
    const runs = await listRuns({ db });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ id: 1, pipeline: 'capstone', status: 'succeeded', input_records: 7, loaded: 5, rejected: 2, skipped: 0, watermark_after: '2025-01-15T12:00:00', error: null, failed_files: [] });
    expect(runs[0]?.duration_ms).toBeGreaterThanOrEqual(0);
    expect(await listRuns({ db, status: 'failed' })).toEqual([]);
    expect(await listRuns({ db, pipeline: 'other' })).toEqual([]);
  });

  it('refuses an unknown status', async () => {
    await expect(listRuns({ db, status: 'done' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('counts lineage by step and file', async () => {
    const report = await lineageByStep({ db });
    expect(report).toMatchObject({ run_id: 1, pipeline: 'capstone', total: 12 });
    expect(report?.steps).toMatchObject({ stage: 5, load: 5, reject: 2, 'skip-stale': 0, 'skip-duplicate': 0 });
    expect(report?.files).toEqual([{ file: path.join(dir, 'events.json'), total: 12, steps: expect.objectContaining({ stage: 5, load: 5, reject: 2 }) as unknown }]);
    await expect(lineageByStep({ db, runId: 7 })).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
    await expect(lineageByStep({ db, runId: 1, pipeline: 'other' })).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
  });

  it('tells the history of a key and its row now', async () => {
    const h = await keyHistory({ db, key: 'evt-003' });
    expect(h.history.map((e) => [e.line, e.step])).toEqual([
      [4, 'stage'],
      [4, 'load'],
      [8, 'stage'],
      [8, 'load'],
    ]);
    expect(h.current).toEqual([
      {
        pipeline: 'capstone',
        table: 'events',
        key_column: 'key',
        run_id: 1,
        source: `${path.join(dir, 'events.json')}:8`,
        fields: expect.objectContaining({ key: 'evt-003', name: 'purchase_updated', value: 59.99 }) as unknown,
      },
    ]);
  });

  it('explains a rejected key with its dead letter', async () => {
    const h = await keyHistory({ db, key: 'evt-005' });
    expect(h.history).toEqual([
      expect.objectContaining({ run_id: 1, line: 6, step: 'reject', reason: 'invalid_type', field: 'value', dead_letter_id: 2 }),
    ]);
    expect(h.current).toEqual([]);
    expect((await keyHistory({ db, key: 'nope' })).history).toEqual([]);
  });

  it('lists and shows dead letters', async () => {
    const list = await listDeadLetters({ db });
    expect(list.matching).toBe(2);
    expect(list.dead_letters.map((d) => [d.id, d.line, d.reason])).toEqual([
      [1, 5, 'missing_required'],
      [2, 6, 'invalid_type'],
    ]);
    expect((await listDeadLetters({ db, reason: 'invalid_type' })).dead_letters.map((d) => d.id)).toEqual([2]);
    const newest = await listDeadLetters({ db, limit: 1 });
    expect(newest).toMatchObject({ matching: 2, dead_letters: [{ id: 2 }] });
    await expect(listDeadLetters({ db, reason: 'typo' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    const letter = await showDeadLetter({ db, id: 2 });
    expect(letter.raw_json).toEqual({ key: 'evt-005', name: 'api_call', value: 'not_a_number', ts: '2025-01-15T10:30:00' });
    await expect(showDeadLetter({ db, id: 99 })).rejects.toMatchObject({ code: 'DEAD_LETTER_NOT_FOUND' });
  });

  it('reports the pipeline status', async () => {
    const [status] = await pipelineStatus({ db });
    expect(status).toMatchObject({
      pipeline: 'capstone',
      watermark: { cursor: 'ts', type: 'timestamp', value: '2025-01-15T12:00:00', run_id: 1 },
      last_run: { id: 1, status: 'succeeded' },
      runs: 1,
      unfinished: null,
      tables: [{ table: 'events', exists: true, rows: 4 }],
      dead_letters_waiting: 2,
    });
    expect(await pipelineStatus({ db, pipeline: 'other' })).toEqual([]);
  });
});

describe('watermark repairs', () => {
  it('sets forward, refuses backwards without force, validates the type, resets', async () => {
    const { db } = await loadExample('capstone');
    expect(await showWatermark({ db })).toEqual([
      expect.objectContaining({ pipeline: 'capstone', cursor: 'ts', cursor_type: 'timestamp', valid: true, watermark: expect.objectContaining({ value: '2025-01-15T12:00:00' }) as unknown }),
    ]);
    expect(await setWatermark({ db, value: '2025-01-16T00:00:00' })).toMatchObject({ change: 'forward', previous: '2025-01-15T12:00:00' });
    await expect(setWatermark({ db, value: '2025-01-01' })).rejects.toMatchObject({ code: 'WATERMARK_BACKWARDS' });
    await expect(setWatermark({ db, value: 'yesterday' })).rejects.toMatchObject({ code: 'WATERMARK_INVALID' });
    expect(await setWatermark({ db, value: '2025-01-01', force: true })).toMatchObject({ change: 'backward', value: '2025-01-01' });

    sql(db, "UPDATE _sluice_watermarks SET value = 'oops'");
    expect((await showWatermark({ db }))[0]?.valid).toBe(false);
    const repaired = await setWatermark({ db, value: '2025-01-15T12:00:00' });
    expect(repaired.change).toBe('replaced-invalid');
    expect(repaired.notes[0]).toContain('"oops"');

    expect(await resetWatermark({ db, confirm: false })).toMatchObject({ change: 'none', previous: '2025-01-15T12:00:00' });
    expect((await showWatermark({ db }))[0]?.watermark?.value).toBe('2025-01-15T12:00:00');
    expect(await resetWatermark({ db, confirm: true })).toMatchObject({ change: 'reset' });
    expect((await showWatermark({ db }))[0]).toMatchObject({ watermark: null, cursor: 'ts' });
    // Without a watermark the cursor type comes from the latest run's settings.
    expect(await setWatermark({ db, value: '2025-01-10' })).toMatchObject({ change: 'new', cursor: 'ts', type: 'timestamp' });
  });

  it('types a numeric cursor from the run settings', async () => {
    const dir = tempDir();
    const input = path.join(dir, 'in.ndjson');
    writeFileSync(input, '{"id":1,"seq":5}\n{"id":2,"seq":9}\n');
    const db = path.join(dir, 'n.db');
    await runPipeline(buildRunSettings({ db, input: [input], key: 'id', cursor: 'Seq', type: ['seq=integer'], strategy: 'upsert-newer' }));
    expect(await showWatermark({ db })).toMatchObject([{ cursor: 'seq', cursor_type: 'integer', watermark: { value: '9', type: 'number' } }]);
    await expect(setWatermark({ db, value: '9.5' })).rejects.toMatchObject({ code: 'WATERMARK_INVALID' });
    expect(await setWatermark({ db, value: '12' })).toMatchObject({ change: 'forward', type: 'integer' });
    await expect(setWatermark({ db, value: '3' })).rejects.toMatchObject({ code: 'WATERMARK_BACKWARDS' });
  });

  it('needs a pipeline with a cursor, and one pipeline when there are several', async () => {
    const { db } = await loadExample('etl-runner');
    await expect(setWatermark({ db, value: '1' })).rejects.toMatchObject({ code: 'WATERMARK_INVALID' });
    await runPipeline(buildRunSettings({ config: path.join(path.dirname(db), 'sluice.yaml'), pipeline: 'etl2' }));
    await expect(setWatermark({ db, value: '1' })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('etl, etl2') as unknown });
  });
});

describe('dead-letter purge', () => {
  it('counts without confirm, deletes with it', async () => {
    const { db } = await loadExample('capstone');
    expect(await purgeDeadLetters({ db, runId: 1, confirm: false })).toMatchObject({ matched: 2, deleted: 0 });
    expect((await listDeadLetters({ db })).matching).toBe(2);
    expect(await purgeDeadLetters({ db, before: '2000-01-01', confirm: true })).toMatchObject({ pipeline: 'capstone', matched: 0, deleted: 0 });
    await expect(purgeDeadLetters({ db, confirm: true })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(purgeDeadLetters({ db, before: 'last week', confirm: true })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(purgeDeadLetters({ db, runId: 5, confirm: true })).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
    expect(await purgeDeadLetters({ db, before: '2999-01-01T00:00:00+02:00', confirm: true })).toMatchObject({ matched: 2, deleted: 2, before: '2998-12-31T22:00:00.000Z' });
    expect((await listDeadLetters({ db })).matching).toBe(0);
  });
});

describe('empty and missing databases', () => {
  it('reads a database without a ledger as empty, creating nothing', async () => {
    const db = path.join(tempDir(), 'plain.db');
    sql(db, 'CREATE TABLE t (a)');
    expect(await listRuns({ db })).toEqual([]);
    expect(await pipelineStatus({ db })).toEqual([]);
    expect(await lineageByStep({ db })).toBeNull();
    expect(await keyHistory({ db, key: 'k' })).toEqual({ key: 'k', history: [], current: [] });
    expect(await listDeadLetters({ db })).toEqual({ dead_letters: [], matching: 0, resolved_hidden: 0 });
    expect(await showWatermark({ db })).toEqual([]);
    const connection = new Database(db, { readonly: true });
    expect(connection.prepare("SELECT name FROM sqlite_master WHERE name LIKE '_sluice%'").all()).toEqual([]);
    connection.close();
  });

  it('refuses a missing database without creating it', async () => {
    const db = path.join(tempDir(), 'missing.db');
    for (const call of [listRuns({ db }), pipelineStatus({ db }), setWatermark({ db, value: '1' }), purgeDeadLetters({ db, runId: 1, confirm: true })]) {
      await expect(call).rejects.toMatchObject({ code: 'CONFIG_NO_DATABASE' });
    }
    expect(existsSync(db)).toBe(false);
  });
});

describe('resumeCommand', () => {
  it('rebuilds the flags of a run from its settings', () => {
    const settings: RunSettings = buildRunSettings({
      db: 'x.db',
      pipeline: 'p',
      table: 'events',
      sourceDir: 'drops dir',
      pattern: '*.csv',
      key: 'id',
      cursor: 'ts',
      strategy: 'upsert-newer',
      require: ['id', 'ts'],
      type: ['ts=timestamp', 'n=integer'],
      batchSize: 50,
      normalize: false,
      simulateCrash: 3,
    });
    expect(resumeCommand(settings, 'my db.sqlite', 'p')).toBe(
      "sluice run --db 'my db.sqlite' --pipeline p --table events --source-dir 'drops dir' --pattern '*.csv' --key id --cursor ts" +
        ' --strategy upsert-newer --require id,ts --type ts=timestamp --type n=integer --batch-size 50 --no-normalize',
    );
  });

  // Resuming must name the same files (and transform) as the run stored them, relative paths
  // included, so a command shown in another directory first goes where the run started.
  it('changes to the directory a run started in when its paths are relative and it started elsewhere', () => {
    const here = process.cwd();
    const settings = { ...buildRunSettings({ db: 'x.db', input: ['in/a.csv'], key: 'id' }), cwd: '/srv/drops' };
    expect(resumeCommand(settings, 'x.db', 'p')).toBe(`cd /srv/drops && sluice run --db ${path.join(here, 'x.db')} --pipeline p --table records --input in/a.csv --key id`);
    expect(resumeCommand({ ...settings, cwd: here }, 'x.db', 'p')).toBe('sluice run --db x.db --pipeline p --table records --input in/a.csv --key id');
    expect(resumeCommand({ ...settings, inputs: ['/data/a.csv'] }, 'x.db', 'p')).toBe('sluice run --db x.db --pipeline p --table records --input /data/a.csv --key id');
    expect(resumeCommand(settings, 'postgres://u@h/db', 'p')).toMatch(/^cd \/srv\/drops && sluice run --db postgres:\/\/u@h\/db /);
  });

  it('quotes for a POSIX shell', () => {
    expect(shellQuote('plain/path.csv')).toBe('plain/path.csv');
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });
});
