import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { buildRunSettings } from '../config/run-config.js';
import { replayDeadLetters } from './replay.js';
import { runPipeline } from './run-pipeline.js';

const schemaWithMaximum = (maximum: number): string => JSON.stringify({ type: 'object', properties: { amount: { type: 'number', maximum } } });

function setup(): { dir: string; db: string; schema: string; input: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-replay-'));
  const input = path.join(dir, 'orders.ndjson');
  writeFileSync(input, ['{"id":1,"amount":"10"}', '{"id":2,"amount":"12.5"}', '{"id":3,"amount":"7"}', '{"id":4,"amount":"n/a"}'].join('\n'));
  const schema = path.join(dir, 'orders.schema.json');
  // The first version of the schema is too strict: orders above 11 are rejected.
  writeFileSync(schema, schemaWithMaximum(11));
  return { dir, db: path.join(dir, 't.db'), schema, input };
}

const query = (db: string, sql: string): unknown[] => {
  const c = new Database(db, { readonly: true });
  try {
    return c.prepare(sql).all();
  } finally {
    c.close();
  }
};

describe('replayDeadLetters', () => {
  it('loads what the fixed rules now accept, with lineage to the original line; the rest stays', async () => {
    const { db, schema, input } = setup();
    const settings = buildRunSettings({ db, input: [input], key: 'id', strategy: 'update', type: ['amount=number'], schema });
    const first = await runPipeline(settings);
    expect(first).toMatchObject({ loaded: 2, rejected: 2, dead_letters: 2 });

    writeFileSync(schema, schemaWithMaximum(1000));
    const replayed = await replayDeadLetters({ db });
    expect(replayed).toMatchObject({ replayed: 2, loaded: 1, still_rejected: 1, target_rows: 3 });
    // An undeclared key is stored as its text, whatever JSON type it came with.
    expect(query(db, 'SELECT id, amount FROM records ORDER BY id')).toEqual([
      { id: '1', amount: 10 },
      { id: '2', amount: 12.5 },
      { id: '3', amount: 7 },
    ]);
    expect(query(db, `SELECT l.run_id, p.path, l.line, l.step FROM _sluice_lineage_steps l JOIN _sluice_paths p ON p.id = l.file_id WHERE l.key = '2' ORDER BY l.run_id, l.step = 'load'`)).toEqual([
      { run_id: 1, path: input, line: 2, step: 'reject' },
      { run_id: 2, path: input, line: 2, step: 'stage' },
      { run_id: 2, path: input, line: 2, step: 'load' },
    ]);
    expect(query(db, 'SELECT line, replayed_by FROM _sluice_dead_letters ORDER BY line')).toEqual([
      { line: 2, replayed_by: 2 },
      { line: 4, replayed_by: null },
    ]);

    // Nothing is replayed twice: only the one still failing is taken up again.
    const again = await replayDeadLetters({ db });
    expect(again).toMatchObject({ replayed: 1, loaded: 0, still_rejected: 1 });
    expect(query(db, 'SELECT COUNT(*) AS n FROM _sluice_dead_letters')).toEqual([{ n: 2 }]);
  });

  it('filters by run and reason; an empty ledger has nothing to replay', async () => {
    const { db, schema, input } = setup();
    await runPipeline(buildRunSettings({ db, input: [input], key: 'id', strategy: 'update', type: ['amount=number'], schema }));
    expect(await replayDeadLetters({ db, reason: 'missing_required' })).toMatchObject({ replayed: 0, run_id: null });
    await expect(replayDeadLetters({ db, runId: 99 })).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
    await expect(replayDeadLetters({ db, pipeline: 'nope' })).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
  });
});
