import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildRunSettings } from '../config/run-config.js';
import type { Strategy } from '../core/settings.js';
import { runPipeline } from './run-pipeline.js';

interface Rec {
  id: string;
  v: number;
  ts: number;
}

/** The strategies as plain code over records in (file, line) order: the model sluice must match. */
function model(strategy: Strategy, records: Rec[]): { rows: Rec[]; loaded: number; stale: number; duplicate: number } {
  const byKey = new Map<string, Rec>();
  let loaded = 0;
  let stale = 0;
  let duplicate = 0;
  if (strategy === 'append') return { rows: records, loaded: records.length, stale, duplicate };
  for (const r of records) {
    const current = byKey.get(r.id);
    if (strategy === 'deduplicate' && current) duplicate += 1;
    else if (strategy === 'upsert-newer' && current && r.ts < current.ts) stale += 1;
    else if (strategy === 'upsert-newer' && current && r.ts === current.ts) duplicate += 1;
    else {
      byKey.set(r.id, r);
      loaded += 1;
    }
  }
  return { rows: [...byKey.values()], loaded, stale, duplicate };
}

const ts = (n: number): string => new Date(Date.UTC(2025, 0, 1, 0, n)).toISOString().slice(0, 19);

const recordArb = fc.record({ id: fc.constantFrom('a', 'b', 'c', 'd', 'e'), v: fc.integer({ min: 0, max: 999 }), ts: fc.integer({ min: 0, max: 9 }) });

describe('every strategy equals the in-memory model, whatever the files, batches and slices', () => {
  for (const strategy of ['append', 'deduplicate', 'update', 'upsert-newer', 'replace'] as Strategy[]) {
    it(strategy, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(recordArb, { maxLength: 30 }), fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 4 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 4 }), async (records, cuts, batchSize, sliceSize) => {
          const dir = mkdtempSync(path.join(tmpdir(), 'sluice-prop-'));
          mkdirSync(path.join(dir, 'in'));
          const bounds = [0, ...[...cuts].sort((a, b) => a - b).map((n) => Math.min(n, records.length)), records.length];
          const files: Rec[][] = [];
          for (let i = 0; i + 1 < bounds.length; i += 1) files.push(records.slice(bounds[i], bounds[i + 1]));
          files.forEach((part, i) => {
            const text = part.map((r) => JSON.stringify({ ...r, ts: ts(r.ts) })).join('\n');
            writeFileSync(path.join(dir, 'in', `f${String(i).padStart(2, '0')}.ndjson`), text);
          });
          const db = path.join(dir, 'db.sqlite');
          const settings = buildRunSettings({
            db,
            sourceDir: path.join(dir, 'in'),
            strategy,
            key: strategy === 'append' ? undefined : 'id',
            cursor: strategy === 'upsert-newer' ? 'ts' : undefined,
            batchSize,
            // Batches written in slices: a later slice's merge must see the earlier ones' rows.
            sliceSize,
          });
          const summary = await runPipeline(settings);
          const expected = model(strategy === 'replace' ? 'update' : strategy, records);
          const connection = new Database(db, { readonly: true });
          const exists = connection.prepare("SELECT 1 FROM sqlite_master WHERE name = 'records'").get() !== undefined;
          const hasRows = exists && connection.prepare('SELECT COUNT(*) AS n FROM records').pluck().get() !== 0;
          const actual = hasRows ? (connection.prepare('SELECT id, v, ts FROM records ORDER BY id, _sluice_seq').all() as { id: string; v: number; ts: string }[]) : [];
          connection.close();
          const want = expected.rows.map((r) => ({ ...r, ts: ts(r.ts) })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
          if (strategy === 'append') {
            expect(actual.map((r) => JSON.stringify(r)).sort()).toEqual(want.map((r) => JSON.stringify(r)).sort());
          } else {
            expect(actual).toEqual(want);
          }
          expect(summary).toMatchObject({ loaded: expected.loaded, skipped_stale: expected.stale, skipped_duplicate: expected.duplicate, input_records: records.length });
          expect(summary.staged).toBe(summary.loaded + summary.skipped_stale + summary.skipped_duplicate);
        }),
        { numRuns: 25 },
      );
    });
  }
});
