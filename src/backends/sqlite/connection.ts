import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { SluiceError, describeErrno } from '../../core/errors.js';
import { LINEAGE_STEPS_SQL, LINEAGE_VIEW, ledgerDdl } from '../../ledger/schema.js';
import { quoteIdent } from '../sql.js';

export type Db = Database.Database;

/** How long a writer waits for another process's write transaction before giving up. */
export const BUSY_TIMEOUT_MS = 30_000;

/**
 * Durability, chosen deliberately:
 * - journal_mode=WAL: readers (`sluice status`, an export) never block the loader, and a
 *   commit is one sequential append to the log.
 * - synchronous=FULL: the log is fsynced at every commit, so what a command reports committed
 *   survives power loss, not only kill -9. The one exception is the stream of batch commits
 *   inside a run (SqliteBackend.bulkLoad): NORMAL, with a background thread syncing the log,
 *   and FULL again before the run completes.
 * synchronous is a per-connection setting and resets with every connection, so it is set and
 * then read back on every open (see assertDurability).
 */
const PRAGMAS = ['journal_mode = WAL', 'synchronous = FULL', `busy_timeout = ${BUSY_TIMEOUT_MS}`, 'foreign_keys = OFF'];

export interface OpenOptions {
  /** A missing database file is an error instead of being created. */
  mustExist?: boolean;
  readonly?: boolean;
  /**
   * Writes nothing that outlasts a transaction (a dry run): the journal mode is left as the
   * file has it (WAL is a lasting change of the file), and the ledger is not created here but
   * inside each transaction (SqliteBackend), which a dry run rolls back.
   */
  dryRun?: boolean;
}

export function openSqlite(file: string, options: OpenOptions = {}): Db {
  const inMemory = file === ':memory:' || file === '';
  if (!inMemory && options.mustExist && !existsSync(file)) {
    throw new SluiceError('CONFIG_NO_DATABASE', `database ${file} does not exist`, {
      file,
      hint: 'check --db, or load data first with: sluice run --db ' + file + ' ...',
    });
  }
  if (inMemory && options.readonly) {
    throw new SluiceError('CONFIG_NO_DATABASE', '--db :memory: has nothing to read: every command gets a new, empty database in memory', {
      hint: 'pass the SQLite file (or postgres:// URL) the runs loaded',
    });
  }
  if (!inMemory) checkDatabasePath(file);
  let db: Db;
  try {
    db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.mustExist ?? false });
  } catch (error) {
    throw new SluiceError('BACKEND_IO', `cannot open database ${file}: ${describeErrno(error)}`, { file, cause: error });
  }
  probe(db, file);
  if (options.readonly || options.dryRun) {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  } else {
    for (const pragma of PRAGMAS) db.pragma(pragma);
    assertDurability(db, inMemory);
    createLedger(db);
  }
  return db;
}

/** The ledger's tables, indexes and view; each statement does nothing when its object exists. */
export function createLedger(db: Db): void {
  refreshLineageView(db);
  for (const statement of ledgerDdl('sqlite', quoteIdent)) db.exec(statement);
}

/**
 * SQLite has no CREATE OR REPLACE VIEW: a view an older version made (before `discard` counted
 * as staged) would stay as it was, and SQL users would read other steps than `sluice lineage`
 * shows. It is dropped, in the transaction that makes it anew, when its text is not today's.
 */
function refreshLineageView(db: Db): void {
  const row = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'view' AND name = ?").get(LINEAGE_VIEW) as { sql: string } | undefined;
  if (row === undefined || row.sql.endsWith(LINEAGE_STEPS_SQL)) return;
  db.transaction(() => {
    db.exec(`DROP VIEW IF EXISTS ${quoteIdent(LINEAGE_VIEW)}`);
    db.exec(`CREATE VIEW ${quoteIdent(LINEAGE_VIEW)} AS ${LINEAGE_STEPS_SQL}`);
  }).immediate();
}

/** A directory as --db, or a file in a directory that is not there: said plainly, exit 2. */
function checkDatabasePath(file: string): void {
  if (existsSync(file)) {
    if (!statSync(file).isDirectory()) return;
    throw new SluiceError('CONFIG_INVALID', `--db ${file} is a directory, not a database file`, {
      file,
      hint: `name a file in it, for example --db ${join(file, 'sluice.db')}`,
    });
  }
  const dir = dirname(file);
  if (!existsSync(dir)) {
    throw new SluiceError('CONFIG_INVALID', `cannot create database ${file}: directory ${dir} does not exist`, { file, hint: `create it first: mkdir -p ${dir}` });
  }
  if (!statSync(dir).isDirectory()) {
    throw new SluiceError('CONFIG_INVALID', `cannot create database ${file}: ${dir} is a file, not a directory`, { file, hint: 'check --db' });
  }
}

/** Opening never reads the file: a first query tells a database from any other file. */
function probe(db: Db, file: string): void {
  try {
    db.prepare('SELECT COUNT(*) FROM sqlite_master').get();
  } catch (error) {
    db.close();
    const code = (error as { code?: string }).code;
    const reason = code === 'SQLITE_NOTADB' ? 'is not a SQLite database' : `cannot be read: ${(error as Error).message}`;
    throw new SluiceError('CONFIG_NO_DATABASE', `${file} ${reason}`, { file, hint: 'check --db', cause: error });
  }
}

/** Reads the durability settings back: a connection that is not what PRAGMAS says is a bug. */
export function assertDurability(db: Db, inMemory: boolean): void {
  const journal = String(db.pragma('journal_mode', { simple: true }));
  const synchronous = Number(db.pragma('synchronous', { simple: true }));
  const expectedJournal = inMemory ? 'memory' : 'wal';
  if (journal !== expectedJournal || synchronous !== 2) {
    throw new SluiceError('BACKEND_IO', `database durability settings not applied: journal_mode=${journal}, synchronous=${synchronous} (expected ${expectedJournal}, 2=FULL)`);
  }
}

export function durabilitySettings(db: Db): { journalMode: string; synchronous: number } {
  return { journalMode: String(db.pragma('journal_mode', { simple: true })), synchronous: Number(db.pragma('synchronous', { simple: true })) };
}
