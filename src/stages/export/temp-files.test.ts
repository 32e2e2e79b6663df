import { lstatSync, lutimesSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scratchDir } from '../../../test/fixtures/export/helpers.js';
import { nodeExportFs } from './export-fs.js';
import { createTempFile, isTempFileName, STALE_TEMP_AGE_MS, sweepStaleTemps, tempFileName } from './temp-files.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = scratchDir()));
afterEach(() => cleanup());

function ageFile(path: string, ms: number): void {
  const when = (Date.now() - ms) / 1000;
  utimesSync(path, when, when);
}

describe('temp file names', () => {
  it('are short, random and recognizable', () => {
    const names = new Set(Array.from({ length: 100 }, tempFileName));
    expect(names.size).toBe(100);
    for (const name of names) {
      expect(name).toMatch(/^\.sluice-[0-9a-f]{8}\.tmp$/);
      expect(isTempFileName(name)).toBe(true);
    }
    expect(isTempFileName('.sluice-1234567.tmp')).toBe(false);
    expect(isTempFileName('out.csv.tmp')).toBe(false);
  });
});

describe('createTempFile', () => {
  it('creates the file exclusively and never follows a symlink planted at its name', async () => {
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious');
    const planted: string[] = [];
    const fs = {
      ...nodeExportFs,
      // The attacker wins every race it can: a link appears at the very name about to be opened.
      open: async (path: string, flags: number, mode?: number) => {
        if (planted.length < 2) {
          symlinkSync(victim, path);
          planted.push(path);
        }
        return nodeExportFs.open(path, flags, mode);
      },
    };
    const temp = await createTempFile(dir, 0o666, fs);
    await temp.handle.write(Buffer.from('mine'), 0, 4);
    await temp.handle.close();
    expect(planted).toHaveLength(2);
    expect(planted).not.toContain(temp.path);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(readFileSync(temp.path, 'utf8')).toBe('mine');
  });
});

describe('sweepStaleTemps', () => {
  it('removes stale temp files only: fresh ones and other names stay', async () => {
    const stale = join(dir, '.sluice-0000abcd.tmp');
    const fresh = join(dir, '.sluice-1111abcd.tmp');
    const other = join(dir, 'data.tmp');
    for (const path of [stale, fresh, other]) writeFileSync(path, 'x');
    ageFile(stale, STALE_TEMP_AGE_MS + 60_000);
    ageFile(other, STALE_TEMP_AGE_MS * 5);
    expect(await sweepStaleTemps(dir, nodeExportFs)).toEqual(['.sluice-0000abcd.tmp']);
    expect(lstatSync(fresh).isFile()).toBe(true);
    expect(lstatSync(other).isFile()).toBe(true);
  });

  it('removes a planted symlink with the prefix as a link, leaving what it points to', async () => {
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious');
    const link = join(dir, '.sluice-deadbeef.tmp');
    symlinkSync(victim, link);
    const when = (Date.now() - STALE_TEMP_AGE_MS * 2) / 1000;
    // lutimes: age the link itself, not its target.
    lutimesSync(link, when, when);
    expect(await sweepStaleTemps(dir, nodeExportFs)).toEqual(['.sluice-deadbeef.tmp']);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
  });

  it('is quiet about a directory it cannot read', async () => {
    expect(await sweepStaleTemps(join(dir, 'missing'), nodeExportFs)).toEqual([]);
  });
});
