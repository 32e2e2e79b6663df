import { SluiceError } from '../core/errors.js';
import type { Backend } from './backend.js';
import { SqliteBackend } from './sqlite/sqlite-backend.js';

export interface OpenBackendOptions {
  /** A database that does not exist yet is an error (inspection commands), not created. */
  mustExist?: boolean;
  /** Only read (inspection, export): no ledger tables created, no settings changed. */
  readonly?: boolean;
}

/** The one place that names concrete backends: `postgres://` URLs → PostgreSQL, else SQLite. */
export async function openBackend(db: string, options: OpenBackendOptions = {}): Promise<Backend> {
  if (/^postgres(ql)?:\/\//i.test(db)) {
    throw new SluiceError('CONFIG_INVALID', `PostgreSQL is not supported yet (--db ${redact(db)})`, {
      hint: 'use a SQLite file path for --db',
    });
  }
  return SqliteBackend.open(db, { mustExist: options.mustExist ?? false, readonly: options.readonly ?? false });
}

/** A connection URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}
