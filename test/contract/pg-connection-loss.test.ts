import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sluiceAsync, tempDir } from '../support/cli.js';
import { writeEvents } from '../support/generate.js';
import { HAVE_PG, PG_SKIPPED, freshPgSchema, pgQuery, type PgScratch } from '../support/pg.js';
import { snapshot } from './backends.js';

/**
 * The server ends sluice's session (pg_terminate_backend) in the middle of a COPY, just before
 * COMMIT, or just after it with the reply lost. With retries (the default) the run carries on
 * and finishes; with SLUICE_PG_RETRIES=0 it stops, and the same command again resumes from the
 * checkpoint. Either way the result equals one uninterrupted run: nothing lost, nothing doubled.
 */
describe.skipIf(!HAVE_PG)(HAVE_PG ? 'PostgreSQL: lost connections' : `PostgreSQL: lost connections [${PG_SKIPPED}]`, () => {
  const scratches: PgScratch[] = [];
  let input: string;
  let clean: string;
  const fresh = async (): Promise<string> => {
    const scratch = await freshPgSchema('loss');
    scratches.push(scratch);
    return scratch.url;
  };
  const base = (db: string, strategy: string): string[] => {
    const keyed = strategy === 'append' ? [] : ['--key', 'key'];
    return ['run', '--db', db, '--source-dir', input, '--strategy', strategy, ...keyed, '--require', 'key,value,ts', '--type', 'value=number', '--table', 'events', '--batch-size', '150', '--quiet'];
  };
  const cleanRuns = new Map<string, unknown>();
  const cleanSnapshot = async (strategy: string, extra: string[] = []): Promise<unknown> => {
    if (!cleanRuns.has(strategy)) {
      clean = await fresh();
      const result = await sluiceAsync([...base(clean, strategy), ...extra]);
      expect(result.code, result.stderr).toBe(0);
      cleanRuns.set(strategy, await snapshot(clean, 'events'));
    }
    return cleanRuns.get(strategy);
  };

  beforeEach(() => {
    input = path.join(tempDir('sluice-loss-'), 'in');
    writeEvents(input, { files: 2, perFile: 400, seed: 7 });
    cleanRuns.clear();
  });
  afterEach(async () => {
    for (const scratch of scratches.splice(0)) await scratch.drop();
  });

  const cases = [
    { strategy: 'update', point: 'copy:1' },
    { strategy: 'update', point: 'copy:2' },
    { strategy: 'append', point: 'copy:4' },
    { strategy: 'update', point: 'before-commit:3' },
    { strategy: 'upsert-newer', point: 'after-commit:3' },
  ];
  for (const { strategy, point } of cases) {
    it(`${strategy}, session ended at ${point}: retried in place, equal to an uninterrupted run`, async () => {
      const db = await fresh();
      const flags = strategy === 'upsert-newer' ? ['--cursor', 'ts'] : [];
      const result = await sluiceAsync([...base(db, strategy), ...flags], { env: { SLUICE_TEST_PG_TERMINATE: point } });
      expect(result.code, result.stderr).toBe(0);
      if (flags.length > 0) {
        clean = await fresh();
        expect((await sluiceAsync([...base(clean, strategy), ...flags])).code).toBe(0);
        expect(await snapshot(db, 'events')).toEqual(await snapshot(clean, 'events'));
      } else {
        expect(await snapshot(db, 'events')).toEqual(await cleanSnapshot(strategy));
      }
    });
  }

  for (const { point, exit } of [
    { point: 'copy:4', exit: 1 },
    { point: 'before-commit:3', exit: 1 },
    { point: 'after-commit:3', exit: 0 },
  ]) {
    it(`no retries, session ended at ${point}: ${exit === 1 ? 'stops with a one-line message, then resumes' : 'the server says the COMMIT happened'}`, async () => {
      const db = await fresh();
      const result = await sluiceAsync(base(db, 'update'), { env: { SLUICE_TEST_PG_TERMINATE: point, SLUICE_PG_RETRIES: '0' } });
      expect(result.code, result.stderr).toBe(exit);
      if (exit === 1) {
        expect(result.stderr).toMatch(/lost the connection to PostgreSQL at postgres:\/\/sluice:\*\*\*@[^ ]+ while [a-z ]+: .*(\(SQLSTATE 57P01 admin_shutdown\)|the server closed the connection)/);
        expect(result.stderr.trim().split('\n')).toHaveLength(2);
        const resumed = await sluiceAsync(base(db, 'update'));
        expect(resumed.code, resumed.stderr).toBe(0);
      }
      expect(await snapshot(db, 'events')).toEqual(await cleanSnapshot('update'));
    });
  }

  it('terminated from outside while a COPY runs: the run retries and finishes, equal to an uninterrupted run', async () => {
    input = path.join(tempDir('sluice-loss-'), 'in');
    writeEvents(input, { files: 3, perFile: 6_000, seed: 11 });
    const db = await fresh();
    const schema = new URL(db).searchParams.get('schema') as string;
    const child = sluiceAsync([...base(db, 'update'), '--batch-size', '2000']);
    // (Row order follows the batching, so the uninterrupted run uses the same batch size.)
    let exited = false;
    void child.then(() => (exited = true));
    let terminated = 0;
    // Poll for sluice's session busy with a COPY and end it (a few times, at different moments).
    while (terminated < 3 && !exited) {
      const rows = await pgQuery<{ done: boolean }>(
        `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
          WHERE application_name = $1 AND state = 'active' AND query LIKE 'COPY%'`,
        [`sluice:${schema}`],
      );
      terminated += rows.filter((r) => r.done).length;
      await new Promise((resolve) => setTimeout(resolve, terminated > 0 ? 150 : 2));
    }
    const result = await child;
    expect(result.code, result.stderr).toBe(0);
    expect(terminated).toBeGreaterThan(0);
    expect(await snapshot(db, 'events')).toEqual(await cleanSnapshot('update', ['--batch-size', '2000']));
  }, 180_000);
});
