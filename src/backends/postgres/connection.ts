import pg from 'pg';
import { SluiceError } from '../../core/errors.js';
import { LEDGER_INDEXES, LEDGER_TABLES, LINEAGE_VIEW, ledgerDdl } from '../../ledger/schema.js';
import { quoteIdent } from '../sql.js';
import { translateConnectError, translatePgError } from './errors.js';
import { MAX_IDENTIFIER_BYTES, physicalName } from './identifiers.js';
import { TYPE_PARSERS } from './values.js';

export interface PgOptions {
  /** Where targets and the ledger live. Default: the URL's `?schema=` parameter, else `public`. */
  schema?: string;
  /** The schema must exist already (inspection commands): never created. */
  mustExist?: boolean;
  /** Only read: no ledger tables created, every transaction read-only. */
  readonly?: boolean;
  /** Nothing outlasts a transaction (a dry run): the ledger is created inside each one, not at open. */
  dryRun?: boolean;
  /** Retries of a batch transaction after a transient error. Default SLUICE_PG_RETRIES or 5. */
  retries?: number;
}

/** A parsed `--db postgres://...` with sluice's own `schema` parameter taken out. */
export interface PgTarget {
  connectionString: string;
  schema: string;
  user: string;
  database: string;
  /** The URL without its password, for messages. */
  location: string;
}

export function parsePgUrl(url: string, location: string, schema?: string): PgTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SluiceError('CONFIG_INVALID', `--db ${location} is not a valid PostgreSQL URL`, {
      hint: 'use postgres://user:password@host:port/database',
    });
  }
  const fromUrl = parsed.searchParams.get('schema');
  parsed.searchParams.delete('schema');
  const chosen = schema ?? fromUrl ?? 'public';
  if (chosen === '' || physicalName(chosen) !== chosen) {
    throw new SluiceError('CONFIG_INVALID', `schema name ${JSON.stringify(chosen)} must be 1 to ${MAX_IDENTIFIER_BYTES} bytes long`);
  }
  return {
    connectionString: parsed.toString(),
    schema: chosen,
    user: decodeURIComponent(parsed.username) || process.env.PGUSER || 'the default user',
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || process.env.PGDATABASE || 'the default database',
    location,
  };
}

export type ClientWithError = pg.Client & { sluiceLastError?: Error };

/** Seconds to wait for a server before the first connect says it cannot. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Opens one session and sets it up. Settings, chosen deliberately:
 * - search_path is the one schema, so the ledger DDL (shared with SQLite) lands there unqualified.
 * - synchronous_commit=on: a COMMIT returns only once the batch is on the server's disk, so a
 *   checkpoint the ledger reports survives a server crash, whatever the server's default is.
 * - application_name names the schema, so an operator (or a test) can find the session.
 */
export async function connect(target: PgTarget, readonly: boolean): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: target.connectionString,
    types: TYPE_PARSERS,
    application_name: physicalName(`sluice:${target.schema}`),
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
  });
  // An idle connection that drops emits 'error'; unhandled, it would end the process. Kept:
  // the next query only hears "not queryable", while this one carries the SQLSTATE (57P01...).
  client.on('error', (error) => {
    (client as ClientWithError).sluiceLastError = error;
  });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw translateConnectError(error, target.location, target.user, target.database);
  }
  try {
    const settings = [`SET search_path TO ${quoteIdent(target.schema)}`, 'SET synchronous_commit TO on', 'SET client_min_messages TO warning'];
    if (readonly) settings.push('SET default_transaction_read_only TO on');
    await client.query(settings.join('; '));
  } catch (error) {
    await client.end().catch(() => {});
    throw translatePgError(error, target.location, 'setting up the session');
  }
  return client;
}

/** A fixed advisory-lock key that serializes ledger creation across processes. */
const DDL_LOCK = 0x51_75_69_63_65_00_00_01n;

/**
 * Makes sure the schema and the ledger tables exist. Concurrent CREATE ... IF NOT EXISTS can
 * still collide in the catalog, so creators queue on a transaction-level advisory lock.
 */
export async function ensureLedger(client: pg.Client, target: PgTarget, options: { mustExist: boolean; readonly: boolean; dryRun: boolean }): Promise<void> {
  const names = LEDGER_TABLES.map((t) => t.name);
  const present = await client.query<{ schema: boolean; tables: number; view: boolean; indexes: number }>(
    `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS schema,
      (SELECT count(*)::int FROM pg_tables WHERE schemaname = $1 AND tablename = ANY($2::text[])) AS tables,
      EXISTS (SELECT 1 FROM pg_views WHERE schemaname = $1 AND viewname = $3) AS view,
      (SELECT count(*)::int FROM pg_indexes WHERE schemaname = $1 AND indexname = ANY($4::text[])) AS indexes`,
    [target.schema, names, LINEAGE_VIEW, LEDGER_INDEXES],
  );
  const row = present.rows[0] as { schema: boolean; tables: number; view: boolean; indexes: number };
  if (!row.schema && (options.mustExist || options.readonly)) {
    throw new SluiceError('CONFIG_NO_DATABASE', `schema ${target.schema} does not exist in ${target.location}`, {
      hint: `check the schema name, or load data first with: sluice run --db ${target.location} ...`,
    });
  }
  if (options.readonly || options.dryRun || (row.tables === names.length && row.view && row.indexes === LEDGER_INDEXES.length)) return;
  try {
    await client.query('BEGIN');
    await createLedger(client, target);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw translatePgError(error, target.location, `creating the sluice ledger in schema ${target.schema}`);
  }
}

/** The schema and the ledger, inside the caller's transaction; each statement is a no-op when its object exists. */
export async function createLedger(client: pg.Client, target: PgTarget): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [DDL_LOCK.toString()]);
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(target.schema)}`);
  for (const statement of ledgerDdl('postgres', quoteIdent)) await client.query(statement);
}

/** The server can tell whether a transaction committed (PostgreSQL 13+): see transaction.ts. */
export async function hasXactStatus(client: pg.Client): Promise<boolean> {
  const result = await client.query<{ ok: boolean }>("SELECT to_regproc('pg_catalog.pg_xact_status') IS NOT NULL AS ok");
  return result.rows[0]?.ok === true;
}
