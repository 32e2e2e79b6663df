import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { json, rows, sluice, tempDir } from '../support/cli.js';

/** The dead letters as stored: which record (line, id) each stands for, and whether it waits. */
function letters(db: string): { line: number; id: unknown; waiting: boolean }[] {
  const stored = rows(db, 'SELECT line, raw, replayed_by FROM _sluice_dead_letters ORDER BY id');
  return stored.map((r) => ({ line: Number(r.line), id: (JSON.parse(String(r.raw)) as { id: unknown }).id, waiting: r.replayed_by === null }));
}

function setup(name: string): { file: string; db: string; run: (...more: string[]) => ReturnType<typeof sluice> } {
  const dir = tempDir();
  const file = path.join(dir, name);
  const db = path.join(dir, 'letters.db');
  const run = (...more: string[]): ReturnType<typeof sluice> => sluice(['run', '--db', db, '--input', file, '--key', 'id', '--strategy', 'update', '--type', 'v=integer', ...more]);
  return { file, db, run };
}

// Superseding must never take a letter whose record the file still holds, failing: that record
// would be lost to dead-letters list and to replay.
describe('dead letters of a file read again: only what the file no longer says is superseded', () => {
  it('a resumed read of a JSON array leaves the letters before its checkpoint waiting', () => {
    const { file, db, run } = setup('a.json');
    writeFileSync(file, '[\n{"id":1,"v":1},\n{"id":2,"v":"x"},\n{"id":3,"v":3},\n{"id":4,"v":4}\n]\n');
    expect(run('--batch-size', '2', '--simulate-crash', '3').code).not.toBe(0);
    const resumed = run('--batch-size', '2', '--json');
    expect(json(resumed)).toMatchObject({ status: 'succeeded', resumed: true });
    expect(resumed.stderr).not.toContain('superseded');
    expect(letters(db)).toEqual([{ line: 3, id: 2, waiting: true }]);
  });

  it('a JSON array on one line read in several slices keeps its unchanged bad records waiting, even when the read then fails', () => {
    const { file, db, run } = setup('big.json');
    const records = Array.from({ length: 2500 }, (_, i) => ({ id: i + 1, v: i === 2399 ? 'bad' : i + 1 }));
    writeFileSync(file, JSON.stringify(records));
    expect(json(run('--json'))).toMatchObject({ rejected: 1, dead_letters: 1 });
    // Changed elsewhere: the bad record is the same, on the same line, in a later slice.
    writeFileSync(file, JSON.stringify(records.map((r) => (r.id === 1 ? { ...r, v: 100 } : r))));
    const again = run('--json');
    expect(json(again)).toMatchObject({ rejected: 1, dead_letters: 0 });
    expect(again.stderr).not.toContain('superseded');
    // Then cut short: the file fails after its first batches; the bad record is still in it.
    writeFileSync(file, JSON.stringify(records).slice(0, -1) + ',{"id":');
    expect(json(run('--batch-size', '1000', '--json'))).toMatchObject({ files_failed: 1 });
    expect(letters(db)).toEqual([{ line: 1, id: 2400, waiting: true }]);
  });

  it('identical bad records on one line keep one letter each, read once or again', () => {
    const { file, db, run } = setup('twins.json');
    writeFileSync(file, '[{"id":2,"v":"x"},{"id":2,"v":"x"},{"id":3,"v":3}]');
    expect(json(run('--batch-size', '1', '--json'))).toMatchObject({ rejected: 2, dead_letters: 2 });
    writeFileSync(file, '[{"id":2,"v":"x"},{"id":2,"v":"x"},{"id":3,"v":3},{"id":4,"v":4}]');
    const again = run('--json');
    expect(json(again)).toMatchObject({ rejected: 2, dead_letters: 0 });
    expect(again.stderr).toContain('2 rejected records already wait in dead letters');
    // One of the twins corrected: one letter stays, the other is superseded.
    writeFileSync(file, '[{"id":2,"v":"x"},{"id":2,"v":5},{"id":3,"v":3},{"id":4,"v":4}]');
    expect(run().stderr).toContain('1 dead letter from an earlier read of this file superseded');
    expect(letters(db)).toEqual([
      { line: 1, id: 2, waiting: true },
      { line: 1, id: 2, waiting: false },
    ]);
  });
});
