import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { json, ROOT, rows, sluice, sluiceAsync, tempDir } from '../support/cli.js';
import { writeEvents } from '../support/generate.js';

function checkpointExample(): { config: string; db: string } {
  const dir = path.join(tempDir(), 'checkpoint');
  cpSync(path.join(ROOT, 'examples/checkpoint'), dir, { recursive: true });
  return { config: path.join(dir, 'sluice.yaml'), db: path.join(dir, 'checkpoint.db') };
}

const processed = (db: string): unknown[] => rows(db, 'SELECT "index", original FROM processed ORDER BY rowid');

describe('examples/checkpoint: crash and resume', () => {
  const clean = checkpointExample();
  sluice(['run', '--config', clean.config]);

  for (const [what, at] of [['at the first record', 1], ['mid-batch', 5], ['exactly on a batch boundary', 6], ['at the last record', 10]] as const) {
    it(`--simulate-crash ${at} (${what}), then the same command: 10 rows, in order, no duplicates`, () => {
      const { config, db } = checkpointExample();
      const crashed = sluice(['run', '--config', config, '--simulate-crash', String(at)]);
      expect(crashed.signal).toBe('SIGKILL');
      const resumed = sluice(['run', '--config', config, '--json']);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(json(resumed)).toMatchObject({ resumed: true, input_records: 10, loaded: 10, target_rows: 10, lineage_entries: 20 });
      expect(resumed.stderr).toContain('resumed');
      expect(processed(db)).toEqual(processed(clean.db));
      expect(processed(db)).toHaveLength(10);
    });
  }

  it('--restart abandons the unfinished run; committed rows stay', () => {
    const { config, db } = checkpointExample();
    sluice(['run', '--config', config, '--simulate-crash', '5']);
    const fresh = json(sluice(['run', '--config', config, '--restart', '--json']));
    expect(fresh).toMatchObject({ resumed: false, run_id: 2, input_records: 10 });
    // Under append, the 3 rows it committed load again: said, not silent.
    expect((fresh as { warnings: string[] }).warnings.join('\n')).toContain('abandoned unfinished run 1 (--restart); rows it committed stay: under append, what it loaded of a file it had not finished loads again');
    expect(rows(db, 'SELECT id, status, error FROM _sluice_runs ORDER BY id')).toEqual([
      { id: 1, status: 'interrupted', error: 'abandoned by --restart' },
      { id: 2, status: 'succeeded', error: null },
    ]);
    expect(processed(db)).toHaveLength(13);
  });
});

describe('resume across files', () => {
  it('a crash in the last file resumes there; earlier files are not read again', () => {
    const dir = tempDir();
    writeEvents(path.join(dir, 'in'), { files: 3, perFile: 300, seed: 7 });
    const args = ['run', '--source-dir', path.join(dir, 'in'), '--key', 'key', '--strategy', 'update', '--batch-size', '100', '--quiet'];
    const clean = path.join(dir, 'clean.db');
    sluice([...args, '--db', clean]);
    const db = path.join(dir, 'crashed.db');
    expect(sluice([...args, '--db', db, '--simulate-crash', '750']).signal).toBe('SIGKILL');
    const resumed = json(sluice([...args, '--db', db, '--json']));
    expect(resumed).toMatchObject({ resumed: true, files_loaded: 3, input_records: 900 });
    expect(rows(db, 'SELECT * FROM records ORDER BY _sluice_seq')).toEqual(rows(clean, 'SELECT * FROM records ORDER BY _sluice_seq'));
  });

  it('an input file that changed between crash and resume is reloaded from its start, and said so', () => {
    const dir = tempDir();
    const input = path.join(dir, 'a.csv');
    writeFileSync(input, 'id,v\n' + Array.from({ length: 50 }, (_, i) => `${i},old`).join('\n') + '\n');
    const args = ['run', '--db', path.join(dir, 't.db'), '--input', input, '--key', 'id', '--strategy', 'update', '--batch-size', '10'];
    expect(sluice([...args, '--simulate-crash', '25']).signal).toBe('SIGKILL');
    writeFileSync(input, 'id,v\n' + Array.from({ length: 50 }, (_, i) => `${i},new`).join('\n') + '\n');
    const resumed = sluice([...args, '--json']);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain('changed since the interrupted run\'s checkpoint (record 20); reloading it from its start');
    expect(rows(path.join(dir, 't.db'), "SELECT COUNT(*) AS n FROM records WHERE v = 'new'")).toEqual([{ n: 50 }]);
  });
});

describe('signals and the writer lock', () => {
  function bigDrop(): { dir: string; args: string[] } {
    const dir = tempDir();
    writeEvents(path.join(dir, 'in'), { files: 2, perFile: 60_000, seed: 3 });
    return { dir, args: ['run', '--source-dir', path.join(dir, 'in'), '--db', path.join(dir, 't.db'), '--key', 'key', '--strategy', 'update', '--batch-size', '500'] };
  }

  /** Waits until the run has committed at least one checkpoint (the child is mid-run). */
  async function midRun(db: string): Promise<void> {
    const started = Date.now();
    while (!hasCheckpoint(db) && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 20));
  }

  it('SIGTERM mid-run: the batch in flight commits, the run is interrupted, exit 130, then it resumes', async () => {
    const { dir, args } = bigDrop();
    const child = sluiceAsync(args);
    await midRun(path.join(dir, 't.db'));
    child.kill('SIGTERM');
    const result = await child;
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain('run the same command again to resume');
    expect(rows(path.join(dir, 't.db'), 'SELECT status FROM _sluice_runs')).toEqual([{ status: 'interrupted' }]);
    const resumed = json(sluice([...args, '--json']));
    expect(resumed).toMatchObject({ resumed: true, status: 'succeeded', input_records: 120_000 });
  });

  it('a second concurrent run of the pipeline exits 2 naming the holder; another pipeline is not blocked', async () => {
    const { dir, args } = bigDrop();
    const first = sluiceAsync(args);
    await midRun(path.join(dir, 't.db'));
    const second = sluice(args);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(new RegExp(`pipeline default is being loaded by another process: pid ${first.pid()} on ${hostname()}, since \\d{4}-`));
    const small = path.join(dir, 'small.csv');
    writeFileSync(small, 'id,v\n1,a\n');
    const other = sluice(['run', '--db', path.join(dir, 't.db'), '--pipeline', 'other', '--table', 'other', '--input', small]);
    expect(other.code, other.stderr).toBe(0);
    first.kill('SIGKILL');
    await first;
  });

  it('a lock left by a dead process is taken over', () => {
    const dir = tempDir();
    const db = path.join(dir, 't.db');
    mkdirSync(path.join(dir, 'in'));
    writeFileSync(path.join(dir, 'in', 'a.csv'), 'id\n1\n');
    expect(sluice(['run', '--db', db, '--source-dir', path.join(dir, 'in')]).code).toBe(0);
    const connection = new Database(db);
    connection.prepare('INSERT INTO _sluice_locks (pipeline, run_id, pid, host, since, heartbeat_at) VALUES (?, NULL, ?, ?, ?, ?)').run('default', 999_999, hostname(), '2020-01-01', '2020-01-01');
    connection.close();
    writeFileSync(path.join(dir, 'in', 'b.csv'), 'id\n2\n');
    const r = sluice(['run', '--db', db, '--source-dir', path.join(dir, 'in'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ files_loaded: 1, target_rows: 2 });
    expect(rows(db, 'SELECT COUNT(*) AS n FROM _sluice_locks')).toEqual([{ n: 0 }]);
  });
});

function hasCheckpoint(db: string): boolean {
  try {
    return rows(db, "SELECT 1 FROM _sluice_checkpoints WHERE position > 0 LIMIT 1").length > 0;
  } catch {
    return false;
  }
}

