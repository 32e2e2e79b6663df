import { cpSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe } from 'vitest';
import { buildRunSettings, openBackend, runPipeline, rowFields, type Backend, type Fields, type RunOptions, type RunSummary } from '../../src/index.js';
import { ROOT, tempDir } from '../support/cli.js';
import { HAVE_PG, PG_SKIPPED, freshPgSchema, pgQuery } from '../support/pg.js';

/**
 * The backend contract suite runs every behaviour against each backend: SQLite always,
 * PostgreSQL when SLUICE_TEST_PG_URL is set. Each test gets a fresh database: a new SQLite file,
 * or a new PostgreSQL schema (dropped afterwards). Checks go through the Backend API (streamRowBatches,
 * ledger, queries), never backend-specific SQL, so one assertion holds for both.
 */
export type Kind = 'sqlite' | 'postgres';

export interface TestDb {
  kind: Kind;
  /** The `--db` value: a file path or a postgres:// URL. */
  db: string;
  /** A scratch directory for input files. */
  dir: string;
  /** A second fresh database of the same backend, dropped with the first. */
  another(): Promise<string>;
}

interface BackendCase {
  kind: Kind;
  available: boolean;
  fresh(dir: string): Promise<{ db: string; cleanup(): Promise<void> }>;
}

const BACKENDS: readonly BackendCase[] = [
  {
    kind: 'sqlite',
    available: true,
    fresh: async (dir) => {
      mkdirSync(dir, { recursive: true });
      return { db: path.join(dir, 'contract.db'), cleanup: async () => {} };
    },
  },
  {
    kind: 'postgres',
    available: HAVE_PG,
    fresh: async () => {
      const scratch = await freshPgSchema('c');
      return { db: scratch.url, cleanup: () => scratch.drop() };
    },
  },
];

if (!HAVE_PG) console.warn(`backend contract suite: ${PG_SKIPPED}`);

/** Declares `body`'s tests once per backend; `db()` is the current test's fresh database. */
export function forEachBackend(title: string, body: (db: () => TestDb, kind: Kind) => void): void {
  for (const backend of BACKENDS) {
    const name = backend.available ? `${title} [${backend.kind}]` : `${title} [${PG_SKIPPED}]`;
    describe.skipIf(!backend.available)(name, () => {
      let current: TestDb | null = null;
      let cleanup: (() => Promise<void>) | null = null;
      beforeEach(async () => {
        const dir = tempDir('sluice-contract-');
        const made: (() => Promise<void>)[] = [];
        const make = async (sub: string): Promise<string> => {
          const fresh = await backend.fresh(path.join(dir, sub));
          made.push(fresh.cleanup);
          return fresh.db;
        };
        const db = await make('db');
        let n = 0;
        current = { kind: backend.kind, db, dir, another: () => make(`db${(n += 1)}`) };
        cleanup = async () => {
          for (const drop of made) await drop();
          rmSync(dir, { recursive: true, force: true });
        };
      });
      afterEach(async () => {
        await cleanup?.();
        current = null;
      });
      body(() => {
        if (current === null) throw new Error('no test database: call db() inside a test');
        return current;
      }, backend.kind);
    });
  }
}

/** `sluice run` through the library API. */
export function run(t: TestDb, options: RunOptions): Promise<RunSummary> {
  return runPipeline(buildRunSettings({ db: t.db, ...options }));
}

export async function withBackend<T>(t: { db: string }, work: (backend: Backend) => Promise<T>): Promise<T> {
  const backend = await openBackend(t.db);
  try {
    return await work(backend);
  } finally {
    await backend.close();
  }
}

/** A table's rows in insertion order, as streamRowBatches gives them. */
export function tableRows(t: TestDb, table: string, withMeta = false): Promise<Fields[]> {
  return withBackend(t, async (backend) => {
    const rows: Fields[] = [];
    for await (const batch of backend.streamRowBatches(table, { withMeta })) for (const values of batch.rows) rows.push({ ...rowFields(batch.columns, values) });
    return rows;
  });
}

/**
 * Runs DDL a user would run on their own database (a table sluice did not make): the one place a
 * contract test writes SQL, in the dialect both backends share.
 */
export async function userSql(t: TestDb, sql: string): Promise<void> {
  if (t.kind === 'sqlite') {
    const db = new Database(t.db);
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
    return;
  }
  await pgQuery(sql, [], new URL(t.db).searchParams.get('schema') ?? undefined);
}

/** Copies an example folder so tests never write into the checkout. */
export function example(t: TestDb, name: string): string {
  const dir = path.join(t.dir, name);
  cpSync(path.join(ROOT, 'examples', name), dir, { recursive: true });
  return dir;
}

/** Everything a run leaves behind, read through the Backend API. */
export async function snapshot(db: string, table: string): Promise<unknown> {
  return withBackend({ db }, async (backend) => {
    const target: unknown[] = [];
    for await (const batch of backend.streamRowBatches(table, { withMeta: true })) for (const values of batch.rows) target.push({ ...rowFields(batch.columns, values) });
    const letters = (await backend.queries.listDeadLetters({})).map(({ runId, file, line, raw, reason, field, message }) => ({ runId, file, line, raw, reason, field, message }));
    letters.sort((p, q) => (p.file === q.file ? p.line - q.line : p.file < q.file ? -1 : 1));
    const runs = await backend.ledger.listRuns({});
    const lineage = await Promise.all(runs.map((run) => backend.ledger.lineageByStep(run.id)));
    const watermark = await backend.ledger.getWatermark('default');
    return { target, letters, lineage, counters: runs.map((r) => [r.status, r.counters]), watermark: watermark?.value ?? null };
  });
}
