import { SluiceError } from '../../core/errors.js';
import { emptyFields, type Fields } from '../../core/record.js';
import type { DeadLetterRow } from '../../ledger/ledger.js';
import { keyLineageQuery, type DeadLetterFilter, type KeyLineageRow, type LedgerQueries } from '../../ledger/queries.js';
import { META, quoteIdent } from '../sql.js';
import type { Db } from './connection.js';

import { toDeadLetter, toKeyLineage, type Row } from '../../ledger/rows.js';


/** `WHERE ...` and its parameters for a dead-letter filter. Plain SQL, the same on PostgreSQL. */
function deadLetterWhere(filter: DeadLetterFilter): { clause: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown): void => {
    where.push(sql);
    params.push(value);
  };
  if (filter.pipeline !== undefined) add('pipeline = ?', filter.pipeline);
  if (filter.runId !== undefined) add('run_id = ?', filter.runId);
  if (filter.reason !== undefined) add('reason = ?', filter.reason);
  if (filter.before !== undefined) add('created_at < ?', filter.before);
  if (filter.waitingOnly === true) where.push('replayed_by IS NULL');
  return { clause: where.length > 0 ? `WHERE ${where.join(' AND ')}` : '', params };
}

/**
 * Inspection and repair queries on SQLite. The SQL is kept portable (no rowid, no json_*, `?`
 * placeholders only) so the PostgreSQL twin is the same text with `$n` placeholders; the one
 * exception is noted where it occurs.
 */
export class SqliteQueries implements LedgerQueries {
  constructor(private readonly db: Db) {}

  async hasLedger(): Promise<boolean> {
    const sql = "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('_sluice_runs', '_sluice_watermarks', '_sluice_dead_letters')";
    try {
      return Number((this.db.prepare(sql).get() as Row).n) === 3;
    } catch (error) {
      // Opening never reads the file: the first query is where a non-database shows.
      if ((error as { code?: string }).code === 'SQLITE_NOTADB') {
        throw new SluiceError('CONFIG_INVALID', `${this.db.name} is not a SQLite database`, { file: this.db.name, hint: 'check --db', cause: error });
      }
      throw error;
    }
  }

  async pipelines(): Promise<string[]> {
    const sql = 'SELECT pipeline FROM _sluice_runs UNION SELECT pipeline FROM _sluice_watermarks ORDER BY pipeline';
    return (this.db.prepare(sql).all() as Row[]).map((row) => String(row.pipeline));
  }

  async lineageForKey(key: string, scope: { pipeline?: string; runId?: number }): Promise<KeyLineageRow[]> {
    const { sql, params } = keyLineageQuery(key, scope, { placeholder: () => '?', collate: '' });
    return (this.db.prepare(sql).all(...params) as Row[]).map(toKeyLineage);
  }

  async listDeadLetters(filter: DeadLetterFilter, limit?: number): Promise<DeadLetterRow[]> {
    const { clause, params } = deadLetterWhere(filter);
    const sql = `SELECT * FROM _sluice_dead_letters ${clause} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...params, limit ?? -1) as Row[]).map(toDeadLetter);
  }

  async countDeadLetters(filter: DeadLetterFilter): Promise<number> {
    const { clause, params } = deadLetterWhere(filter);
    return Number((this.db.prepare(`SELECT COUNT(*) AS n FROM _sluice_dead_letters ${clause}`).get(...params) as Row).n);
  }

  async getDeadLetter(id: number): Promise<DeadLetterRow | null> {
    const row = this.db.prepare('SELECT * FROM _sluice_dead_letters WHERE id = ?').get(id) as Row | undefined;
    return row === undefined ? null : toDeadLetter(row);
  }

  async deleteDeadLetters(filter: DeadLetterFilter): Promise<number> {
    const { clause, params } = deadLetterWhere(filter);
    return this.db.prepare(`DELETE FROM _sluice_dead_letters ${clause}`).run(...params).changes;
  }

  async targetRowsByKey(table: string, keyColumn: string, key: string): Promise<Fields[]> {
    const columns = (this.db.prepare('SELECT name FROM pragma_table_info(?)').all(table) as Row[]).map((row) => String(row.name));
    if (!columns.includes(keyColumn)) return [];
    // SQLite compares '7' and 7 as different values in an untyped column: ask for both.
    // (PostgreSQL twin: WHERE CAST(key AS TEXT) = $1.)
    const numeric = key.trim() !== '' && Number.isFinite(Number(key)) ? Number(key) : null;
    const order = columns.includes(META.seq) ? ` ORDER BY ${META.runId}, ${META.seq}` : '';
    const sql = `SELECT * FROM ${quoteIdent(table)} WHERE ${quoteIdent(keyColumn)} IN (?, ?)${order}`;
    const statement = this.db.prepare(sql).safeIntegers(true);
    return (statement.all(key, numeric ?? key) as Row[]).map((row) => {
      const fields = emptyFields();
      for (const [name, value] of Object.entries(row)) fields[name] = exactNumber(value);
      return fields;
    });
  }
}

/** BigInt only where a number would lose precision. */
function exactNumber(value: unknown): unknown {
  if (typeof value === 'bigint' && value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
  return value;
}
