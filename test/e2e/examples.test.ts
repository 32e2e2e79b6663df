import { cpSync, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { json, ROOT, rows, sluice, tempDir } from '../support/cli.js';

/** Copies an example folder so the test never writes into the checkout. */
function example(name: string): string {
  const dir = path.join(tempDir(), name);
  cpSync(path.join(ROOT, 'examples', name), dir, { recursive: true });
  return dir;
}

describe('examples/capstone', () => {
  it('loads the 7 events as the capstone expects, then loads nothing new', () => {
    const dir = example('capstone');
    const first = sluice(['run', '--config', path.join(dir, 'sluice.yaml'), '--json']);
    expect(first.code, first.stderr).toBe(0);
    const s = json(first);
    expect(s).toMatchObject({
      input_records: 7,
      staged: 5,
      loaded: 5,
      rejected: 2,
      dead_letters: 2,
      lineage_entries: 12,
      watermark: '2025-01-15T12:00:00',
      target_rows: 4,
      status: 'succeeded',
      resumed: false,
    });
    expect(first.stderr).toContain('Loaded 5 records from 1 file into events');
    const db = path.join(dir, 'capstone.db');
    expect(rows(db, "SELECT name, value FROM events WHERE key = 'evt-003'")).toEqual([{ name: 'purchase_updated', value: 59.99 }]);
    const steps = rows(db, 'SELECT step, COUNT(*) AS n FROM _sluice_lineage_steps GROUP BY step ORDER BY step');
    expect(steps).toEqual([
      { step: 'load', n: 5 },
      { step: 'reject', n: 2 },
      { step: 'stage', n: 5 },
    ]);
    const letters = rows(db, 'SELECT reason, field, line FROM _sluice_dead_letters ORDER BY line');
    expect(letters).toEqual([
      { reason: 'missing_required', field: 'key', line: 5 },
      { reason: 'invalid_type', field: 'value', line: 6 },
    ]);

    const again = json(sluice(['run', '--config', path.join(dir, 'sluice.yaml'), '--json']));
    expect(again).toMatchObject({ input_records: 0, loaded: 0, files_unchanged: 1, target_rows: 4, watermark: '2025-01-15T12:00:00' });
  });

  it('never overwrites evt-003 with an older ts', () => {
    const dir = example('capstone');
    const config = path.join(dir, 'sluice.yaml');
    expect(sluice(['run', '--config', config]).code).toBe(0);
    const late = path.join(dir, 'late-evt-003.json');
    // Same pipeline: the record is older than the watermark.
    const watermarked = json(sluice(['run', '--config', config, '--input', late, '--json']));
    expect(watermarked).toMatchObject({ input_records: 1, skipped_watermark: 1, loaded: 0 });
    // Another pipeline has no watermark: the upsert-newer guard keeps the newer row.
    const guarded = json(sluice(['run', '--config', config, '--pipeline', 'other', '--input', late, '--json']));
    expect(guarded).toMatchObject({ input_records: 1, staged: 1, skipped_stale: 1, loaded: 0 });
    const db = path.join(dir, 'capstone.db');
    expect(rows(db, "SELECT name, value, ts FROM events WHERE key = 'evt-003'")).toEqual([
      { name: 'purchase_updated', value: 59.99, ts: '2025-01-15T12:00:00' },
    ]);
  });
});

describe('examples/etl-runner', () => {
  const cases = [
    { strategy: 'deduplicate', rows: 5, bob: 'bob@example.com' },
    { strategy: 'update', rows: 5, bob: 'bob@newmail.com' },
    { strategy: 'append', rows: 6, bob: null },
  ];
  for (const c of cases) {
    it(`${c.strategy} gives ${c.rows} rows`, () => {
      const dir = example('etl-runner');
      const result = sluice(['run', '--config', path.join(dir, 'sluice.yaml'), '--strategy', c.strategy, '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(json(result)).toMatchObject({ files_total: 2, files_loaded: 2, input_records: 6, target_rows: c.rows });
      if (c.bob !== null) {
        expect(rows(path.join(dir, 'etl.db'), "SELECT email FROM customers WHERE id = '2'")).toEqual([{ email: c.bob }]);
      }
    });
  }
});

describe('examples/exporter', () => {
  it('converts the four employees atomically, with the seed\'s success line', () => {
    const out = path.join(tempDir(), 'exported.json');
    const r = sluice(['export', '--input', path.join(ROOT, 'examples/exporter/employees.json'), '--output', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.trim()).toBe(`Exported 4 records to ${out} (atomic write)`);
    const written = JSON.parse(readFileSync(out, 'utf8')) as unknown[];
    expect(written).toEqual(JSON.parse(readFileSync(path.join(ROOT, 'examples/exporter/employees.json'), 'utf8')));
  });
});

describe('after a run', () => {
  it('the write-ahead log is folded back: no -wal file grows between runs', () => {
    const dir = example('capstone');
    expect(sluice(['run', '--config', path.join(dir, 'sluice.yaml')]).code).toBe(0);
    const wal = path.join(dir, 'capstone.db-wal');
    expect(existsSync(wal) ? statSync(wal).size : 0).toBe(0);
  });
});
