import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rows, sluiceAsync, tempDir } from '../support/cli.js';
import { random, writeEvents } from '../support/generate.js';

/**
 * Exactly once under kill -9: for each strategy, a load killed at random moments (and exactly
 * around commits) and resumed each time must end with the same target table, dead letters and
 * lineage as one uninterrupted run, row for row.
 */
const SEED = Number(process.env.SLUICE_CRASH_SEED ?? Date.now() % 1_000_000);
const KILLS = 10;

const STRATEGIES: { strategy: string; flags: string[]; batch: number }[] = [
  { strategy: 'append', flags: [], batch: 500 },
  { strategy: 'deduplicate', flags: ['--key', 'key'], batch: 500 },
  { strategy: 'update', flags: ['--key', 'key'], batch: 500 },
  { strategy: 'upsert-newer', flags: ['--key', 'key', '--cursor', 'ts'], batch: 500 },
  { strategy: 'replace', flags: ['--key', 'key'], batch: 500 },
  // Batches larger than a slice (1,000 records): kills land between the slices of an open batch.
  { strategy: 'append', flags: [], batch: 2500 },
  { strategy: 'upsert-newer', flags: ['--key', 'key', '--cursor', 'ts'], batch: 2500 },
];

function snapshot(db: string, table: string): Record<string, unknown[]> {
  return {
    target: rows(db, `SELECT * FROM ${table} ORDER BY _sluice_seq, rowid`),
    deadLetters: rows(db, 'SELECT run_id, file, line, raw, reason, field, message FROM _sluice_dead_letters ORDER BY file, line'),
    lineage: rows(db, 'SELECT l.run_id, p.path, l.line, l.key, l.step FROM _sluice_lineage l JOIN _sluice_paths p ON p.id = l.file_id ORDER BY p.path, l.line, l.rowid'),
    watermark: rows(db, 'SELECT cursor, value FROM _sluice_watermarks'),
  };
}

describe(`crash safety (seed ${SEED}; replay with SLUICE_CRASH_SEED=${SEED})`, () => {
  const dir = tempDir('sluice-crash-');
  const input = path.join(dir, 'in');
  writeEvents(input, { files: 5, perFile: 4_200, seed: SEED, gzipLast: true });

  for (const { strategy, flags, batch } of STRATEGIES) {
    it(`${strategy}, batches of ${batch}: killed ${KILLS}+ times, resumed, equals one uninterrupted run`, async () => {
      const base = ['run', '--source-dir', input, '--strategy', strategy, ...flags, '--require', 'key,value,ts', '--type', 'value=number', '--table', 'events', '--batch-size', String(batch), '--quiet'];
      const name = `${strategy}-${batch}`;
      const cleanDb = path.join(dir, `${name}-clean.db`);
      const clean = await sluiceAsync([...base, '--db', cleanDb]);
      expect(clean.code, clean.stderr).toBe(0);

      const crashedDb = path.join(dir, `${name}-crashed.db`);
      const next = random(SEED + strategy.length + batch);
      let kills = 0;
      const hooks = ['before-commit', 'after-commit'];
      for (let attempt = 0; attempt < KILLS + hooks.length; attempt += 1) {
        const hook = attempt < hooks.length ? hooks[attempt] : undefined;
        // Kills spread over the first few batches, so that enough attempts find records left to
        // kill in: of 500, up to 4 commits per kill (at most 5 + 4 x 9 of the 45 batches before
        // the last kill needed); of 2,500, at most one commit per kill (a kill past 3,500 records
        // could commit two batches, a file's 1,700-record tail and the next file's first, and the
        // 10 batches of the drop could run out after 8 kills: seen with seed 14035).
        const spread = batch >= 2500 ? 1000 : 2000;
        const crashArgs = hook ? [] : ['--simulate-crash', String(1 + Math.floor(next() * (batch + spread)))];
        const env = hook ? { SLUICE_TEST_CRASH_AT: `${hook}:${1 + Math.floor(next() * (2500 / batch))}` } : {};
        const result = await sluiceAsync([...base, '--db', crashedDb, ...crashArgs], { env });
        if (result.signal === 'SIGKILL') kills += 1;
        else expect(result.code, result.stderr).toBe(0);
      }
      const last = await sluiceAsync([...base, '--db', crashedDb]);
      expect(last.code, last.stderr).toBe(0);
      expect(kills).toBeGreaterThanOrEqual(KILLS);
      expect(snapshot(crashedDb, 'events')).toEqual(snapshot(cleanDb, 'events'));
    });
  }
});
