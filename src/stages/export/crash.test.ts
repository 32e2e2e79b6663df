/**
 * The export as a real process: killed with SIGKILL at any moment, the target is the old
 * complete file or the new complete one, and the next export sweeps the orphaned temp file;
 * SIGINT/SIGTERM stop it cleanly with one line and exit 1. With strace (optional), the system
 * calls prove the fsync → rename → fsync(dir) order on the real kernel.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleRecords, scratchDir, sourceOf, tempFilesIn } from '../../../test/fixtures/export/helpers.js';
import { exportRecords } from './export.js';
import { STALE_TEMP_AGE_MS } from './temp-files.js';

const VITE_NODE = new URL('../../../node_modules/vite-node/vite-node.mjs', import.meta.url).pathname;
const CHILD = new URL('../../../test/fixtures/export/export-child.ts', import.meta.url).pathname;
/** Big enough (about 50 MB) that a kill shortly after the first chunk lands mid-write. */
const RECORDS = 1_000_000;
const OLD = 'old complete file\n';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = scratchDir()));
afterEach(() => cleanup());

interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the export child; once it reports writing, waits `delayMs` and sends `signal`. */
function runChild(output: string, strike?: { signal: NodeJS.Signals; delayMs: number }): Promise<ChildOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [VITE_NODE, CHILD, output, String(RECORDS)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      if (strike && chunk.toString().includes('writing')) setTimeout(() => child.kill(strike.signal), strike.delayMs);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

describe('killed with SIGKILL in the middle of a large export', () => {
  it('leaves the old or the new complete file, and the next export sweeps the temp file', async () => {
    const reference = join(dir, 'reference.ndjson');
    expect((await runChild(reference)).code).toBe(0);
    const complete = new Set([sha256(reference), createHash('sha256').update(OLD).digest('hex')]);
    for (const delayMs of [0, 150, 400]) {
      const output = join(dir, `out-${delayMs}.ndjson`);
      writeFileSync(output, OLD);
      const outcome = await runChild(output, { signal: 'SIGKILL', delayMs });
      expect(outcome.signal).toBe('SIGKILL');
      expect(complete).toContain(sha256(output));
    }
    const orphans = tempFilesIn(dir);
    expect(orphans.length).toBeGreaterThan(0);
    // A fresh orphan might belong to a live export: only stale ones are swept.
    await exportRecords(sourceOf(sampleRecords()), { output: join(dir, 'next.json'), format: 'json' });
    expect(tempFilesIn(dir)).toEqual(orphans);
    const stale = (Date.now() - STALE_TEMP_AGE_MS - 60_000) / 1000;
    for (const name of orphans) utimesSync(join(dir, name), stale, stale);
    await exportRecords(sourceOf(sampleRecords()), { output: join(dir, 'next.json'), format: 'json' });
    expect(tempFilesIn(dir)).toEqual([]);
  });
});

describe.each(['SIGTERM', 'SIGINT'] as const)('%s during the write', (signal) => {
  it('removes the temp file, keeps the original and exits 1 with one line', async () => {
    const output = join(dir, 'out.ndjson');
    writeFileSync(output, OLD);
    const outcome = await runChild(output, { signal, delayMs: 20 });
    expect(outcome).toEqual({ code: 1, signal: null, stderr: `error: cannot write ${output}: interrupted by ${signal}\n` });
    expect(readFileSync(output, 'utf8')).toBe(OLD);
    expect(tempFilesIn(dir)).toEqual([]);
  });
});

function straceWorks(): boolean {
  try {
    execFileSync('strace', ['-f', '-e', 'trace=none', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.runIf(straceWorks())('system calls (strace)', () => {
  it('fsyncs the temp file, renames it over the target, then fsyncs the directory', () => {
    const output = join(dir, 'out.ndjson');
    const log = join(dir, 'strace.log');
    execFileSync('strace', ['-f', '-y', '-o', log, '-e', 'trace=fsync,fdatasync,rename,renameat,renameat2', process.execPath, VITE_NODE, CHILD, output, '10'], {
      stdio: 'ignore',
    });
    // Lines look like `7969  fsync(20</tmp/x/.sluice-10a3e215.tmp>) = 0`: drop pid, fd and spacing.
    const calls = readFileSync(log, 'utf8')
      .split('\n')
      .filter((line) => line.includes(dir) && !line.includes('strace.log'))
      .map((line) => line.replace(/^\d+\s+/, '').replace(/\(\d+</, '(<').replace(/\s*= 0$/, '').replace(/\.sluice-[0-9a-f]{8}\.tmp/g, 'TEMP'));
    expect(calls).toEqual([`fsync(<${join(dir, 'TEMP')}>)`, `rename("${join(dir, 'TEMP')}", "${output}")`, `fsync(<${dir}>)`]);
  });
});
