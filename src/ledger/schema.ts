import { COUNTER_NAMES } from './ledger.js';

/**
 * The ledger's tables, described once and rendered per SQL dialect, so SQLite and PostgreSQL
 * keep the same columns. Column types are abstract: `id` (auto-increment key), `int`, `text`,
 * `any` (a value of whatever type the data had: the sortable cursor, a number or text).
 */
export type Dialect = 'sqlite' | 'postgres';
type ColumnKind = 'id' | 'int' | 'text' | 'any';

interface TableDef {
  name: string;
  columns: readonly (readonly [string, ColumnKind, string?])[];
  primaryKey?: readonly string[];
  indexes?: readonly (readonly string[])[];
}

export const SCHEMA_VERSION = 1;

const COUNTERS = COUNTER_NAMES.map((name) => [name, 'int', 'NOT NULL DEFAULT 0'] as const);

export const LEDGER_TABLES: readonly TableDef[] = [
  { name: '_sluice_meta', columns: [['name', 'text', 'PRIMARY KEY'], ['value', 'text']] },
  {
    name: '_sluice_runs',
    columns: [
      ['id', 'id'],
      ['pipeline', 'text', 'NOT NULL'],
      ['status', 'text', 'NOT NULL'],
      ['started_at', 'text', 'NOT NULL'],
      ['finished_at', 'text'],
      ['heartbeat_at', 'text'],
      ['pid', 'int'],
      ['host', 'text'],
      ['settings', 'text'],
      ['watermark_before', 'text'],
      ['watermark_after', 'text'],
      ['max_cursor', 'text'],
      ['max_cursor_sortable', 'text'],
      ...COUNTERS,
      ['error', 'text'],
    ],
    indexes: [['pipeline', 'status']],
  },
  {
    name: '_sluice_checkpoints',
    columns: [
      ['run_id', 'int', 'NOT NULL'],
      ['ordinal', 'int', 'NOT NULL'],
      ['path', 'text', 'NOT NULL'],
      ['file_id', 'int', 'NOT NULL'],
      ['size', 'int', 'NOT NULL'],
      ['hash', 'text'],
      ['status', 'text', 'NOT NULL'],
      ['error', 'text'],
      ['position', 'int', 'NOT NULL DEFAULT 0'],
      ['line', 'int', 'NOT NULL DEFAULT 0'],
      ['byte_offset', 'int'],
      ['updated_at', 'text'],
    ],
    // A run looks up the files earlier runs failed (partlyFailedFilesSql) without a full scan.
    indexes: [['status', 'run_id']],
    primaryKey: ['run_id', 'ordinal'],
  },
  {
    name: '_sluice_files',
    columns: [
      ['pipeline', 'text', 'NOT NULL'],
      ['path', 'text', 'NOT NULL'],
      ['size', 'int', 'NOT NULL'],
      ['hash', 'text', 'NOT NULL'],
      ['run_id', 'int', 'NOT NULL'],
      ['loaded_at', 'text', 'NOT NULL'],
    ],
    primaryKey: ['pipeline', 'path'],
  },
  { name: '_sluice_paths', columns: [['id', 'id'], ['path', 'text', 'NOT NULL UNIQUE']] },
  {
    // `watermark reset` (or a watermark moved back): the files runs up to `after_run` loaded
    // count as not loaded for later runs, which read them again. Kept as a mark rather than by
    // deleting _sluice_files rows, so the audit of which run loaded what stays intact.
    name: '_sluice_rereads',
    columns: [
      ['pipeline', 'text', 'PRIMARY KEY'],
      ['after_run', 'int', 'NOT NULL'],
      ['reason', 'text', 'NOT NULL'],
      ['created_at', 'text', 'NOT NULL'],
    ],
  },
  {
    name: '_sluice_watermarks',
    columns: [
      ['pipeline', 'text', 'PRIMARY KEY'],
      ['cursor', 'text', 'NOT NULL'],
      ['type', 'text', 'NOT NULL'],
      ['value', 'text', 'NOT NULL'],
      ['updated_at', 'text', 'NOT NULL'],
      ['run_id', 'int'],
    ],
  },
  {
    name: '_sluice_lineage',
    columns: [
      ['run_id', 'int', 'NOT NULL'],
      ['file_id', 'int', 'NOT NULL'],
      ['line', 'int', 'NOT NULL'],
      ['key', 'text'],
      ['step', 'text', 'NOT NULL'],
    ],
  },
  {
    name: '_sluice_dead_letters',
    columns: [
      ['id', 'id'],
      ['run_id', 'int', 'NOT NULL'],
      ['pipeline', 'text', 'NOT NULL'],
      ['file_id', 'int', 'NOT NULL'],
      ['file', 'text', 'NOT NULL'],
      ['line', 'int', 'NOT NULL'],
      ['raw', 'text', 'NOT NULL'],
      ['reason', 'text', 'NOT NULL'],
      ['field', 'text'],
      ['message', 'text', 'NOT NULL'],
      ['created_at', 'text', 'NOT NULL'],
      // The run that resolved the letter: a replay that loaded it, or a run that read its file
      // again and found another record (or none) at its line (superseded). Null: waiting.
      ['replayed_by', 'int'],
    ],
    // (pipeline, file_id, line): a file read again looks up the letters it already has waiting.
    indexes: [['pipeline', 'run_id'], ['pipeline', 'file_id', 'line']],
  },
  {
    // Parallel workers on SQLite: who owns which file of a run (ordinal >= 0), and who takes
    // part in a run whose lock is shared (ordinal = -pid). PostgreSQL uses advisory locks instead.
    name: '_sluice_claims',
    columns: [
      ['run_id', 'int', 'NOT NULL'],
      ['ordinal', 'int', 'NOT NULL'],
      ['pid', 'int', 'NOT NULL'],
      ['host', 'text', 'NOT NULL'],
      ['since', 'text', 'NOT NULL'],
      ['heartbeat_at', 'text', 'NOT NULL'],
    ],
    primaryKey: ['run_id', 'ordinal'],
  },
  {
    name: '_sluice_locks',
    columns: [
      ['pipeline', 'text', 'PRIMARY KEY'],
      ['run_id', 'int'],
      ['pid', 'int', 'NOT NULL'],
      ['host', 'text', 'NOT NULL'],
      ['since', 'text', 'NOT NULL'],
      ['heartbeat_at', 'text', 'NOT NULL'],
    ],
  },
];

const TYPES: Record<Dialect, Record<ColumnKind, string>> = {
  sqlite: { id: 'INTEGER PRIMARY KEY AUTOINCREMENT', int: 'INTEGER', text: 'TEXT', any: '' },
  postgres: { id: 'BIGSERIAL PRIMARY KEY', int: 'BIGINT', text: 'TEXT', any: 'TEXT' },
};

/**
 * Lineage is stored compactly: one row per record, its outcome. A record whose outcome is a
 * merge decision (load, skip-stale, skip-duplicate; discard, a load undone) was staged first; that `stage` step is not
 * stored (it would double the rows written per record) but derived here. Rows `stage` stored by
 * earlier versions are replaced by the derived ones, so old and new ledgers read the same.
 */
export const LINEAGE_STEPS_SQL = `SELECT run_id, file_id, line, key, step FROM _sluice_lineage WHERE step <> 'stage'
  UNION ALL
  SELECT run_id, file_id, line, key, 'stage' FROM _sluice_lineage WHERE step IN ('load', 'discard', 'skip-stale', 'skip-duplicate')`;

/**
 * Files that earlier runs of a pipeline failed after committing part of them, oldest run first;
 * `pipeline` is the dialect's placeholder for the pipeline's name.
 */
export function partlyFailedFilesSql(pipeline: string): string {
  return `SELECT c.* FROM _sluice_checkpoints c JOIN _sluice_runs r ON r.id = c.run_id
    WHERE r.pipeline = ${pipeline} AND c.status = 'failed' AND c.position > 0 ORDER BY c.run_id, c.ordinal`;
}

/** Paths stored relative, as versions that kept a path as given did (rereads.ts), with their ids. */
export const RELATIVE_PATHS_SQL = "SELECT id, path FROM _sluice_paths WHERE path NOT LIKE '/%'";

/**
 * Sets the pipeline's re-read mark after the newest run so far (see _sluice_rereads);
 * `p` holds the dialect's placeholders for pipeline, reason and time.
 */
export function markRereadSql(p: readonly [string, string, string]): string {
  return `INSERT INTO _sluice_rereads (pipeline, after_run, reason, created_at)
    VALUES (${p[0]}, (SELECT COALESCE(MAX(id), 0) FROM _sluice_runs), ${p[1]}, ${p[2]})
    ON CONFLICT (pipeline) DO UPDATE SET after_run = excluded.after_run, reason = excluded.reason, created_at = excluded.created_at`;
}

/** Every lineage step, `stage` included, for SQL users: what `sluice lineage` reads. */
export const LINEAGE_VIEW = '_sluice_lineage_steps';

function indexName(table: string, columns: readonly string[]): string {
  return `${table}_${columns.join('_')}_idx`;
}

/** The ledger's index names: a ledger created by an older version may lack one. */
export const LEDGER_INDEXES: readonly string[] = LEDGER_TABLES.flatMap((table) => (table.indexes ?? []).map((columns) => indexName(table.name, columns)));

/** The DDL that creates the ledger (idempotent: IF NOT EXISTS everywhere). */
export function ledgerDdl(dialect: Dialect, quote: (name: string) => string): string[] {
  const statements: string[] = [];
  for (const table of LEDGER_TABLES) {
    const columns = table.columns.map(([name, kind, extra]) => [quote(name), TYPES[dialect][kind], extra ?? ''].join(' ').trim());
    if (table.primaryKey) columns.push(`PRIMARY KEY (${table.primaryKey.map(quote).join(', ')})`);
    statements.push(`CREATE TABLE IF NOT EXISTS ${quote(table.name)} (${columns.join(', ')})`);
    for (const index of table.indexes ?? []) {
      statements.push(`CREATE INDEX IF NOT EXISTS ${quote(indexName(table.name, index))} ON ${quote(table.name)} (${index.map(quote).join(', ')})`);
    }
  }
  // PostgreSQL has no CREATE VIEW IF NOT EXISTS; its DDL runs under a lock (postgres/connection.ts).
  const view = dialect === 'sqlite' ? 'CREATE VIEW IF NOT EXISTS' : 'CREATE OR REPLACE VIEW';
  statements.push(`${view} ${quote(LINEAGE_VIEW)} AS ${LINEAGE_STEPS_SQL}`);
  return statements;
}
