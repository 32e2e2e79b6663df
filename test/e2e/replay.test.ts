import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { json, rows, sluice, tempDir } from '../support/cli.js';

describe('sluice dead-letters replay', () => {
  it('after a fixed transform, the records that now pass are loaded; the rest wait; nothing is replayed twice', () => {
    const dir = tempDir();
    const input = path.join(dir, 'orders.csv');
    writeFileSync(input, 'id,amount\n1,10\n2,"12,50"\n3,7\n4,n/a\n');
    const transform = path.join(dir, 'clean.mjs');
    writeFileSync(transform, 'export default (r) => r;\n');
    const db = path.join(dir, 'orders.db');
    const run = sluice(['run', '--db', db, '--input', input, '--key', 'id', '--strategy', 'update', '--type', 'amount=number', '--transform', transform, '--json']);
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

  it('a missing database is exit 2 and is not created', () => {
    const db = path.join(tempDir(), 'missing.db');
    const r = sluice(['dead-letters', 'replay', '--db', db]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('does not exist');
  });
});
