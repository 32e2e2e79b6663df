import { emptyFields, type Fields } from '../../core/record.js';
import type { DeadLetterRow } from '../../ledger/ledger.js';
import { keyLineageQuery, type DeadLetterFilter, type KeyLineageRow, type LedgerQueries } from '../../ledger/queries.js';
import { META, quoteIdent } from '../sql.js';
import { physicalName } from './identifiers.js';
import { toDeadLetter, toKeyLineage, type Row } from '../../ledger/rows.js';
import type { Standalone } from './pg-ledger.js';
import type { PgTarget } from './pg-target.js';
import type { PgSession } from './session.js';


/** `WHERE ...` with `$n` placeholders for a dead-letter filter (the SQLite twin's SQL). */
function deadLetterWhere(filter: DeadLetterFilter): { clause: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (column: string, op: string, value: unknown): void => {
    where.push(`${column} ${op} $${params.push(value)}`);
  };
  if (filter.pipeline !== undefined) add('pipeline', '=', filter.pipeline);
  if (filter.runId !== undefined) add('run_id', '=', filter.runId);
  if (filter.reason !== undefined) add('reason', '=', filter.reason);
  if (filter.before !== undefined) add('created_at', '<', filter.before);
  if (filter.waitingOnly === true) where.push('replayed_by IS NULL');
  return { clause: where.length > 0 ? `WHERE ${where.join(' AND ')}` : '', params };
}

/** Inspection and repair queries on PostgreSQL; each statement stands alone. */
export class PgQueries implements LedgerQueries {
  constructor(
    private readonly session: PgSession,
    private readonly standalone: Standalone,
    private readonly target: PgTarget,
  ) {}

  private rows(sql: string, params: unknown[] = []): Promise<Row[]> {
    return this.standalone(async () => (await this.session.query<Row>(sql, params)).rows);
  }

  async hasLedger(): Promise<boolean> {
    const sql = `SELECT count(*) AS n FROM pg_tables WHERE schemaname = current_schema()
      AND tablename IN ('_sluice_runs', '_sluice_watermarks', '_sluice_dead_letters')`;
    const [row] = await this.rows(sql);
    return Number(row?.n ?? 0) === 3;
  }

  async pipelines(): Promise<string[]> {
    // Byte order, as SQLite sorts: a UNION can only be ordered by an expression from outside.
    const sql = 'SELECT pipeline FROM (SELECT pipeline FROM _sluice_runs UNION SELECT pipeline FROM _sluice_watermarks) p ORDER BY pipeline COLLATE "C"';
    return (await this.rows(sql)).map((row) => String(row.pipeline));
  }

  async lineageForKey(key: string, scope: { pipeline?: string; runId?: number }): Promise<KeyLineageRow[]> {
    const { sql, params } = keyLineageQuery(key, scope, { placeholder: (n) => `$${n}`, collate: ' COLLATE "C"' });
    return (await this.rows(sql, params)).map(toKeyLineage);
  }

  async listDeadLetters(filter: DeadLetterFilter, limit?: number): Promise<DeadLetterRow[]> {
    const { clause, params } = deadLetterWhere(filter);
    const cap = limit === undefined || limit < 0 ? 'ALL' : `$${params.push(limit)}`;
    return (await this.rows(`SELECT * FROM _sluice_dead_letters ${clause} ORDER BY id DESC LIMIT ${cap}`, params)).map(toDeadLetter);
  }

  async countDeadLetters(filter: DeadLetterFilter): Promise<number> {
    const { clause, params } = deadLetterWhere(filter);
    const [row] = await this.rows(`SELECT count(*) AS n FROM _sluice_dead_letters ${clause}`, params);
    return Number(row?.n ?? 0);
  }

  async getDeadLetter(id: number): Promise<DeadLetterRow | null> {
    const [row] = await this.rows('SELECT * FROM _sluice_dead_letters WHERE id = $1', [id]);
    return row === undefined ? null : toDeadLetter(row);
  }

  async deleteDeadLetters(filter: DeadLetterFilter): Promise<number> {
    const { clause, params } = deadLetterWhere(filter);
    return this.standalone(async () => (await this.session.query(`DELETE FROM _sluice_dead_letters ${clause}`, params)).rowCount ?? 0);
  }

  /** Lineage keeps keys as text; compared as text, `7` finds a BIGINT 7 and a TEXT '7' alike. */
  async targetRowsByKey(table: string, keyColumn: string, key: string): Promise<Fields[]> {
    const info = await this.standalone(() => this.target.info(table));
    const column = info?.byPhysical.get(physicalName(keyColumn));
    if (info === null || column === undefined) return [];
    const order = info.byPhysical.has(META.seq) ? ` ORDER BY ${META.runId}, ${META.seq}` : '';
    const list = info.columns.map((c) => quoteIdent(c.physical)).join(', ');
    const sql = `SELECT ${list} FROM ${quoteIdent(table)} WHERE CAST(${quoteIdent(column.physical)} AS TEXT) = $1${order}`;
    const rows = await this.standalone(() => this.session.queryRows(sql, [key]));
    return rows.map((values) => {
      const fields = emptyFields();
      info.columns.forEach((c, i) => (fields[c.name] = values[i]));
      return fields;
    });
  }
}
