import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { json, rows, sluice, tempDir } from '../support/cli.js';

/** orders.csv with the given text, a pass-through transform to fix later, and the run's flags. */
function orders(csv: string): { input: string; transform: string; db: string; flags: string[] } {
  const dir = tempDir();
  const input = path.join(dir, 'orders.csv');
  writeFileSync(input, csv);
  const transform = path.join(dir, 'clean.mjs');
  writeFileSync(transform, 'export default (r) => r;\n');
  const db = path.join(dir, 'orders.db');
  const flags = ['--db', db, '--input', input, '--key', 'id', '--strategy', 'update', '--type', 'amount=number', '--transform', transform];
  return { input, transform, db, flags };
}

describe('sluice dead-letters replay', () => {
  it('after a fixed transform, the records that now pass are loaded; the rest wait; nothing is replayed twice', () => {
    const { input, transform, db, flags } = orders('id,amount\n1,10\n2,"12,50"\n3,7\n4,n/a\n');
    const run = sluice(['run', ...flags, '--json']);
    expect(json(run)).toMatchObject({ loaded: 2, rejected: 2 });

    // The fix: decimal commas become points.
    writeFileSync(transform, 'export default (r) => ({ ...r, amount: r.amount.replace(",", ".") });\n');
    const replay = sluice(['dead-letters', 'replay', '--db', db, '--json']);
    expect(replay.code, replay.stderr).toBe(0);
    expect(json(replay)).toMatchObject({ replayed: 2, loaded: 1, still_rejected: 1, target_rows: 3 });
    expect(replay.stderr).toContain('Replayed 2 dead letters of pipeline default in run 2: 1 loaded into records, 1 rejected again');
    expect(rows(db, "SELECT amount, _sluice_source FROM records WHERE id = '2'")).toEqual([{ amount: 12.5, _sluice_source: `${input}:3` }]);

    const unknownRun = sluice(['dead-letters', 'replay', '--db', db, '--run', '99']);
    expect(unknownRun.code).toBe(2);
    expect(unknownRun.stderr).toContain('run 99 not found');
    const again = sluice(['dead-letters', 'replay', '--db', db, '--json']);
    expect(json(again)).toMatchObject({ replayed: 1, loaded: 0, still_rejected: 1 });
    const list = sluice(['dead-letters', 'list', '--db', db, '--json']);
    expect(json<unknown[]>(list)).toHaveLength(1);
  });

  it('a corrected file delivered again supersedes the old letter: it stops waiting and a replay never loads it over the fix', () => {
    const { input, transform, db, flags: base } = orders('id,amount\n1,10\n2,n/a\n3,7\n');
    // One record per batch: the bad line's batch is not the file's first or last.
    const flags = [...base, '--batch-size', '1'];
    expect(json(sluice(['run', ...flags, '--json']))).toMatchObject({ loaded: 2, rejected: 1, dead_letters: 1 });

    writeFileSync(input, 'id,amount\n1,10\n2,12\n3,7\n');
    const fixed = sluice(['run', ...flags]);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stderr).toContain(`${input}: 1 dead letter from an earlier read of this file superseded: the file no longer has that failing record at its line, so replay will not load it`);
    expect(json<unknown[]>(sluice(['dead-letters', 'list', '--db', db, '--json']))).toEqual([]);
    expect(sluice(['dead-letters', 'list', '--db', db]).stderr).toContain(`no dead letters waiting in ${db}; 1 resolved one (replayed or superseded) hidden (--all shows them)`);
    const all = sluice(['dead-letters', 'list', '--db', db, '--all']);
    expect(all.stdout).toMatch(/RESOLVED/);
    expect(all.stdout).toContain('superseded, run 2');
    expect(json(sluice(['dead-letters', 'list', '--db', db, '--all', '--json']))).toMatchObject([{ line: 3, replayed_by: null, superseded_by: 2 }]);
    expect(sluice(['dead-letters', 'show', '1', '--db', db]).stdout).toContain('superseded by run 2, which read');

    // Rules that would now accept the old record: the replay has nothing to load.
    writeFileSync(transform, 'export default (r) => ({ ...r, amount: r.amount === "n/a" ? "0" : r.amount });\n');
    expect(json(sluice(['dead-letters', 'replay', '--db', db, '--json']))).toMatchObject({ replayed: 0, loaded: 0 });
    expect(rows(db, "SELECT amount FROM records WHERE id = '2'")).toEqual([{ amount: 12 }]);
  });

  it('a replay killed or stopped part-way is continued by the same command, each letter replayed once', () => {
    // 100 letters (amounts like "5x"), 2 of which the fix will not cure (ids 5 and 45); batches of 10.
    const lines = Array.from({ length: 100 }, (_, i) => `${i + 1},${i === 4 || i === 44 ? 'n/a' : `${i + 1}x`}`);
    const { input, transform, db, flags } = orders(`id,amount\n${lines.join('\n')}\n`);
    expect(json(sluice(['run', ...flags, '--batch-size', '10', '--json']))).toMatchObject({ loaded: 0, rejected: 100 });
    // The fix, which also stops its own process at a record, as a marker file says (once).
    const marker = path.join(path.dirname(transform), 'stop-at');
    writeFileSync(
      transform,
      `import { existsSync, readFileSync, rmSync } from 'node:fs';
export default (r) => {
  if (existsSync(${JSON.stringify(marker)})) {
    const [id, signal] = readFileSync(${JSON.stringify(marker)}, 'utf8').split(' ');
    if (r.id === id) { rmSync(${JSON.stringify(marker)}); process.kill(process.pid, signal); }
  }
  return { ...r, amount: r.amount.replace('x', '') };
};
`,
    );
    writeFileSync(marker, '30 SIGKILL');
    expect(sluice(['dead-letters', 'replay', '--db', db]).signal).toBe('SIGKILL');

    // The unfinished replay is no run of files: status names its own command, and a run waits for it.
    const [status] = json<{ unfinished: { resume_command: string } }[]>(sluice(['status', '--db', db, '--json']));
    expect(status?.unfinished.resume_command).toBe(`sluice dead-letters replay --db ${db} --pipeline default`);
    const run = sluice(['run', ...flags]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('run 2 of pipeline default is an unfinished dead-letter replay; it must finish before the next run');
    expect(run.stderr).toContain(`continue it with: sluice dead-letters replay --db ${db} --pipeline default`);

    // Another filter waits until the unfinished replay is done.
    const other = sluice(['dead-letters', 'replay', '--db', db, '--reason', 'missing_key']);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('replay run 2 of pipeline default is unfinished and was started with no filter; it must finish first');
    expect(other.stderr).toContain(`continue it with: sluice dead-letters replay --db ${db} --pipeline default`);

    // SIGTERM: the batch in flight commits, then the replay stops (exit 130) and says how to go on.
    writeFileSync(marker, '65 SIGTERM');
    const stopped = sluice(['dead-letters', 'replay', '--db', db]);
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toContain('Interrupted: replayed 70 dead letters of pipeline default in run 2 (resumed): 68 loaded into records, 2 rejected again');
    expect(stopped.stderr).toContain(`the letters after those wait; continue with: sluice dead-letters replay --db ${db} --pipeline default`);

    const done = sluice(['dead-letters', 'replay', '--db', db, '--json']);
    expect(done.code, done.stderr).toBe(0);
    expect(json(done)).toMatchObject({ run_id: 2, resumed: true, interrupted: false, replayed: 100, loaded: 98, still_rejected: 2, target_rows: 98 });
    // Each letter went through once: one lineage entry per line in the replay run.
    expect(rows(db, 'SELECT step, COUNT(*) AS n, COUNT(DISTINCT line) AS lines FROM _sluice_lineage WHERE run_id = 2 GROUP BY step ORDER BY step')).toEqual([
      { step: 'load', n: 98, lines: 98 },
      { step: 'reject', n: 2, lines: 2 },
    ]);
    expect(rows(db, "SELECT id FROM _sluice_dead_letters WHERE replayed_by IS NULL ORDER BY id")).toEqual([{ id: 5 }, { id: 45 }]);
    expect(rows(db, "SELECT amount, _sluice_source FROM records WHERE id = '100'")).toEqual([{ amount: 100, _sluice_source: `${input}:101` }]);
    expect(json(sluice(['runs', '--db', db, '--json']))).toMatchObject([{ id: 2, status: 'succeeded' }, { id: 1 }]);
  });

  it('a missing database is exit 2 and is not created', () => {
    const db = path.join(tempDir(), 'missing.db');
    const r = sluice(['dead-letters', 'replay', '--db', db]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('does not exist');
  });
});
