import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The PostgreSQL the tests run against: `SLUICE_TEST_PG_URL` (CI sets it from
 * scripts/pg-test-server.sh). Unset, the PostgreSQL half of the contract suite is skipped and
 * says so.
 */
export const PG_URL = process.env.SLUICE_TEST_PG_URL ?? '';
export const HAVE_PG = PG_URL !== '';
export const PG_SKIPPED = 'PostgreSQL skipped: set SLUICE_TEST_PG_URL (scripts/pg-test-server.sh prints one)';

/** A schema of its own for one test: `url` points sluice at it (`?schema=`), `drop` removes it. */
export interface PgScratch {
  schema: string;
  url: string;
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

/** Runs a statement on the test server with a short-lived connection (in `schema`, if given). */
export async function pgQuery<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = [], schema?: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    if (schema !== undefined) await client.query(`SET search_path TO "${schema}"`);
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** The `--db` URL of a schema on the test server. */
export function schemaUrl(schema: string): string {
  const url = new URL(PG_URL);
  url.searchParams.set('schema', schema);
  return url.toString();
}

/** Creates a fresh, uniquely named schema; every test gets its own and drops it afterwards. */
export async function freshPgSchema(label = 't'): Promise<PgScratch> {
  const schema = `sluice_${label}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await pgQuery(`CREATE SCHEMA "${schema}"`);
  return {
    schema,
    url: schemaUrl(schema),
    query: <R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = []) => pgQuery<R>(sql, params, schema),
    drop: async () => {
      await pgQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
}

/** Ends the server sessions sluice opened on a schema (its application_name is `sluice:<schema>`). */
export async function terminateSluiceSessions(schema: string, filter = ''): Promise<number> {
  const rows = await pgQuery<{ done: boolean }>(
    `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid() ${filter}`,
    [`sluice:${schema}`],
  );
  return rows.filter((row) => row.done).length;
}
