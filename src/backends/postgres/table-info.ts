import type { PgSession } from './session.js';

/** A hidden identity column: PostgreSQL's stand-in for SQLite's rowid (see pg-target.ts). */
export const ROWID = '_sluice_rowid';

/** A column as the catalog has it: stored (maybe truncated) name, full name, SQL type. */
export interface ColumnInfo {
  physical: string;
  name: string;
  pgType: string;
}

export interface TableInfo {
  /** In table order, without the hidden row id. */
  columns: ColumnInfo[];
  byPhysical: Map<string, ColumnInfo>;
  hasRowid: boolean;
  /** Indexes ensured this session (no CREATE INDEX IF NOT EXISTS on every batch). */
  indexed: Set<string>;
}

/**
 * A column whose name PostgreSQL truncated keeps its full name in a comment, so the table
 * reads back with the field names the data had (and the next run finds its columns again).
 */
const NAME_COMMENT = 'sluice column name: ';

export function nameComment(name: string): string {
  return NAME_COMMENT + JSON.stringify(name);
}

function fullName(physical: string, comment: string | null): string {
  if (comment === null || !comment.startsWith(NAME_COMMENT)) return physical;
  try {
    const name = JSON.parse(comment.slice(NAME_COMMENT.length)) as unknown;
    return typeof name === 'string' ? name : physical;
  } catch {
    return physical;
  }
}

/** The columns of a table of the session's schema, or null when there is no such table. */
export async function readTableInfo(session: PgSession, table: string): Promise<TableInfo | null> {
  const sql = `SELECT a.attname AS physical, format_type(a.atttypid, a.atttypmod) AS type, col_description(c.oid, a.attnum) AS comment
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE n.nspname = current_schema() AND c.relname = $1 AND c.relkind IN ('r', 'p')
    ORDER BY a.attnum`;
  const result = await session.query<{ physical: string | null; type: string; comment: string | null }>(sql, [table]);
  if (result.rows.length === 0) return null;
  const info: TableInfo = { columns: [], byPhysical: new Map(), hasRowid: false, indexed: new Set() };
  for (const row of result.rows) {
    if (row.physical === null) continue;
    if (row.physical === ROWID) {
      info.hasRowid = true;
      continue;
    }
    const column = { physical: row.physical, name: fullName(row.physical, row.comment), pgType: row.type };
    info.columns.push(column);
    info.byPhysical.set(column.physical, column);
  }
  return info;
}
