import { SluiceError } from '../core/errors.js';
import type { Backend } from './backend.js';
import { MAX_IDENTIFIER_BYTES } from './postgres/identifiers.js';
import { SqliteBackend } from './sqlite/sqlite-backend.js';

export interface OpenBackendOptions {
  /** A database that does not exist yet is an error (inspection commands), not created. */
  mustExist?: boolean;
  /** Only read (inspection, export): no ledger tables created, no settings changed. */
  readonly?: boolean;
  /**
   * A dry run: nothing outlasts a transaction, which the dry run rolls back. The ledger is made
   * inside each transaction instead of at open, and a SQLite file keeps its journal mode.
   */
  dryRun?: boolean;
  /**
   * PostgreSQL only: the schema holding the targets and the ledger (`--schema-name`). Default:
   * the URL's `?schema=` parameter, else `public`.
   */
  schema?: string;
}

/** Whether `--db` (or SLUICE_DB) names a PostgreSQL server rather than a SQLite file. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/**
 * Refuses a --table that the backend behind `db` cannot create as named, before anything is
 * written (exit 2): SQLite reserves names starting with sqlite_, PostgreSQL keeps only the first
 * 63 bytes of a name (two long names would be one table).
 */
export function checkTableNameFor(db: string, table: string): void {
  if (isPostgresUrl(db)) {
    const bytes = Buffer.byteLength(table);
    if (bytes <= MAX_IDENTIFIER_BYTES) return;
    throw new SluiceError('CONFIG_INVALID', `--table ${table} is ${bytes} bytes long; PostgreSQL keeps only the first ${MAX_IDENTIFIER_BYTES} bytes of a name`, {
      hint: 'use a shorter --table name',
    });
  }
  if (/^sqlite_/i.test(table)) {
    throw new SluiceError('CONFIG_INVALID', `--table ${table}: SQLite reserves names starting with sqlite_ for itself`, { hint: 'choose another --table name' });
  }
}

/** The one place that names concrete backends: `postgres://` URLs → PostgreSQL, else SQLite. */
export async function openBackend(db: string, options: OpenBackendOptions = {}): Promise<Backend> {
  const mustExist = options.mustExist ?? false;
  const readonly = options.readonly ?? false;
  const dryRun = options.dryRun ?? false;
  if (isPostgresUrl(db)) {
    // Imported on use: the PostgreSQL driver costs every SQLite command start-up time.
    const { PostgresBackend } = await import('./postgres/pg-backend.js');
    return PostgresBackend.open(db, redact(db), { mustExist, readonly, dryRun, ...(options.schema === undefined ? {} : { schema: options.schema }) });
  }
  return SqliteBackend.open(db, { mustExist, readonly, dryRun });
}

/** A connection URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@').replace(/([?&]password=)[^&#]*/gi, '$1***');
}

/**
 * `--schema-name NAME` as part of the `--db` URL (`?schema=NAME`), so every command and the
 * stored run settings carry it in one place. SQLite has no schemas: naming one is an error.
 */
export function withSchema(db: string, schema: string | undefined): string {
  if (schema === undefined) return db;
  if (!isPostgresUrl(db)) {
    throw new SluiceError('CONFIG_INVALID', `--schema-name ${schema} applies to PostgreSQL only; --db ${db} is a SQLite file`, {
      hint: 'drop --schema-name, or pass a postgres:// URL as --db',
    });
  }
  const url = new URL(db);
  url.searchParams.set('schema', schema);
  return url.toString();
}
