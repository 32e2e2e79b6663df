import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
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
const mountPoint = path.join(base, 'disk');
mkdirSync(mountPoint);
const mounted = tryMount(mountPoint, '1m');

afterAll(() => {
  if (mounted) execFileSync('umount', [mountPoint]);
});

describe.skipIf(!mounted)('a disk that fills up mid-run (tmpfs; needs root to mount)', () => {
  it('rolls the batch back with a clear error; after space is freed the same command resumes', () => {
    const input = path.join(base, 'in');
    writeEvents(input, { files: 2, perFile: 5_000, seed: 11 });
    const args = ['run', '--source-dir', input, '--key', 'key', '--strategy', 'update', '--batch-size', '500', '--quiet'];
    const db = path.join(mountPoint, 't.db');
    const full = sluice([...args, '--db', db]);
    expect(full.code).toBe(1);
    expect(full.stderr).toContain('no space left on device');
    expect(full.stderr).toContain('run the same command again');
    expect(full.stderr).not.toMatch(/\n\s+at /);
    execFileSync('mount', ['-o', 'remount,size=64m', mountPoint]);
    const resumed = sluice([...args, '--db', db, '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(json(resumed)).toMatchObject({ resumed: true, input_records: 10_000, status: 'succeeded' });
    const clean = path.join(base, 'clean.db');
    expect(sluice([...args, '--db', clean]).code).toBe(0);
    expect(rows(db, 'SELECT * FROM records ORDER BY _sluice_seq')).toEqual(rows(clean, 'SELECT * FROM records ORDER BY _sluice_seq'));
  });
});
