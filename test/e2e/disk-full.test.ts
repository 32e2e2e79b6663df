import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { json, rows, sluice, tempDir } from '../support/cli.js';
import { writeEvents } from '../support/generate.js';

/** A small tmpfs to fill up; only where this process may mount (root, as in CI). */
function tryMount(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const base = tempDir('sluice-full-');
const mounts = [
  { batchSize: '500', size: '1m', dir: path.join(base, 'disk-500') },
  { batchSize: '1000', size: '2m', dir: path.join(base, 'disk-1000') },
];
for (const m of mounts) mkdirSync(m.dir);
const mounted = mounts.every((m) => tryMount(m.dir, m.size));

afterAll(() => {
  for (const m of mounts) execFileSync('umount', [m.dir], { stdio: 'ignore' });
});

describe.skipIf(!mounted)('a disk that fills up mid-run (tmpfs; needs root to mount)', () => {
  // Where the disk fills decides what else cannot write: on the 2 MB disk with one file of
  // 50,000 short rows, even the lock's release after the rollback failed, and hid the error as
  // an internal one.
  for (const { batchSize, dir } of mounts) {
    it(`batches of ${batchSize}: rolls the batch back with a clear error; after space is freed the same command resumes`, () => {
      const input = path.join(base, `in-${batchSize}`);
      let args: string[];
      if (batchSize === '500') {
        writeEvents(input, { files: 2, perFile: 5_000, seed: 11 });
        args = ['run', '--source-dir', input, '--key', 'key', '--strategy', 'update', '--batch-size', batchSize, '--quiet'];
      } else {
        mkdirSync(input);
        const lines = Array.from({ length: 50_000 }, (_, i) => `${i + 1},name ${i + 1}`);
        writeFileSync(path.join(input, 'mid.csv'), `id,name\n${lines.join('\n')}\n`);
        args = ['run', '--input', path.join(input, 'mid.csv'), '--key', 'id', '--strategy', 'update', '--batch-size', batchSize, '--quiet'];
      }
      const db = path.join(dir, 't.db');
      const full = sluice([...args, '--db', db]);
      expect(full.code).toBe(1);
      expect(full.stderr).toContain('no space left on device');
      expect(full.stderr).toContain('run the same command again');
      expect(full.stderr).not.toMatch(/internal error|\n\s+at /);
      execFileSync('mount', ['-o', 'remount,size=64m', dir]);
      const resumed = sluice([...args, '--db', db, '--json']);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(json(resumed)).toMatchObject({ resumed: true, input_records: batchSize === '500' ? 10_000 : 50_000, status: 'succeeded' });
      const clean = path.join(base, `clean-${batchSize}.db`);
      expect(sluice([...args, '--db', clean]).code).toBe(0);
      expect(rows(db, 'SELECT * FROM records ORDER BY _sluice_seq')).toEqual(rows(clean, 'SELECT * FROM records ORDER BY _sluice_seq'));
    });
  }
});
