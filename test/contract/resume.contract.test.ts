import path from 'node:path';
import { expect, it } from 'vitest';
import { sluiceAsync } from '../support/cli.js';
import { random, writeEvents } from '../support/generate.js';
import { forEachBackend, snapshot } from './backends.js';

/**
 * Resume after a crash, through the built CLI: `--simulate-crash N` (and a SIGKILL just before a
 * COMMIT) then the same command again must end equal to one uninterrupted run, row for row.
 */
const SEED = Number(process.env.SLUICE_CRASH_SEED ?? 20_250_115);

const STRATEGIES: { strategy: string; flags: string[] }[] = [
  { strategy: 'append', flags: [] },
  { strategy: 'deduplicate', flags: ['--key', 'key'] },
  { strategy: 'update', flags: ['--key', 'key'] },
  { strategy: 'upsert-newer', flags: ['--key', 'key', '--cursor', 'ts'] },
  { strategy: 'replace', flags: ['--key', 'key'] },
];

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return sluiceAsync(args, { env });
}

forEachBackend('contract: resume after a crash (CLI)', (db) => {
  for (const { strategy, flags } of STRATEGIES) {
    it(`${strategy}: --simulate-crash and a kill before COMMIT, resumed, equal one uninterrupted run`, async () => {
      const t = db();
      const input = path.join(t.dir, 'in');
      writeEvents(input, { files: 3, perFile: 400, seed: SEED, gzipLast: true });
      const cleanDb = await t.another();
      const base = ['run', '--source-dir', input, '--strategy', strategy, ...flags, '--require', 'key,value,ts', '--type', 'value=number', '--table', 'events', '--batch-size', '97', '--quiet'];
      const clean = await cli([...base, '--db', cleanDb]);
      expect(clean.code, clean.stderr).toBe(0);

      const next = random(SEED + strategy.length);
      const crash = await cli([...base, '--db', t.db, '--simulate-crash', String(1 + Math.floor(next() * 1100))]);
      expect(crash.signal, crash.stderr).toBe('SIGKILL');
      const killed = await cli([...base, '--db', t.db], { SLUICE_TEST_CRASH_AT: `before-commit:${2 + Math.floor(next() * 3)}` });
      expect(killed.signal, killed.stderr).toBe('SIGKILL');
      const resumed = await cli([...base, '--db', t.db]);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(await snapshot(t.db, 'events')).toEqual(await snapshot(cleanDb, 'events'));
    });
  }
});
