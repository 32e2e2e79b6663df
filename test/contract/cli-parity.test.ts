import { cpSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, sluice, tempDir } from '../support/cli.js';
import { HAVE_PG, PG_SKIPPED, freshPgSchema, type PgScratch } from '../support/pg.js';

/**
 * Every command of the earlier issues works unchanged on PostgreSQL: the same scenario through
 * the built CLI on a SQLite file and on a PostgreSQL schema prints the same JSON, once times,
 * durations and the --db text are set aside.
 */
const VOLATILE_KEYS = new Set(['duration_ms', 'took_ms', 'durationMs', 'db', 'location']);
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

function normalize(value: unknown, dbs: readonly string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => normalize(v, dbs));
  if (typeof value === 'string') {
    if (TIME.test(value)) return '<time>';
    return dbs.reduce((text, db) => text.replaceAll(db, '<db>'), value);
  }
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, VOLATILE_KEYS.has(k) ? '<volatile>' : normalize(v, dbs)]));
}

describe.skipIf(!HAVE_PG)(HAVE_PG ? 'CLI parity: SQLite and PostgreSQL' : `CLI parity: SQLite and PostgreSQL [${PG_SKIPPED}]`, () => {
  let pg: PgScratch;
  let dir: string;
  let sqlite: string;
  beforeAll(async () => {
    pg = await freshPgSchema('parity');
    dir = path.join(tempDir('sluice-parity-'), 'capstone');
    cpSync(path.join(ROOT, 'examples', 'capstone'), dir, { recursive: true });
    sqlite = path.join(dir, 'parity.db');
  });
  afterAll(async () => {
    await pg.drop();
  });

  const both = (args: string[]): { sqlite: unknown; postgres: unknown } => {
    const out = (db: string): unknown => {
      const result = sluice([...args, '--db', db, '--json'], { cwd: dir });
      expect(result.code, `${args.join(' ')} on ${db}: ${result.stderr}`).toBe(0);
      return normalize(JSON.parse(result.stdout), [sqlite, pg.url, pg.url.replace(/:[^:@/]+@/, ':***@')]);
    };
    return { sqlite: out(sqlite), postgres: out(pg.url) };
  };

  const steps: string[][] = [
    ['run', '--config', 'sluice.yaml'],
    ['run', '--config', 'sluice.yaml'],
    ['run', '--config', 'sluice.yaml', '--pipeline', 'other', '--input', 'late-evt-003.json'],
    ['runs'],
    ['status'],
    ['lineage', '--run', '1'],
    ['lineage', '--key', 'evt-003'],
    ['dead-letters', 'list'],
    ['dead-letters', 'show', '1'],
    ['watermark', 'show'],
    ['dead-letters', 'replay', '--pipeline', 'capstone'],
    ['dead-letters', 'list', '--pipeline', 'capstone'],
    ['watermark', 'set', '2025-02-01T00:00:00', '--pipeline', 'capstone'],
    ['dead-letters', 'purge', '--run', '1', '--yes', '--pipeline', 'capstone'],
    ['watermark', 'reset', '--pipeline', 'capstone', '--yes'],
    ['export', '--table', 'events', '--output', 'out.json'],
  ];
  for (const args of steps) {
    it(`sluice ${args.join(' ')}`, () => {
      const { sqlite: fromSqlite, postgres: fromPostgres } = both(args);
      expect(fromPostgres).toEqual(fromSqlite);
    });
  }

  it('the exported file is the same', () => {
    sluice(['export', '--table', 'events', '--output', 'a.json', '--db', sqlite], { cwd: dir });
    sluice(['export', '--table', 'events', '--output', 'b.json', '--db', pg.url], { cwd: dir });
    expect(readFileSync(path.join(dir, 'b.json'), 'utf8')).toBe(readFileSync(path.join(dir, 'a.json'), 'utf8'));
  });
});
