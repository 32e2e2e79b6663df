import type Database from 'better-sqlite3';
import { SluiceError } from '../../core/errors.js';
import type { RowBatch } from '../../core/row-batch.js';
import { RowsRefused, type ColumnSpec, type ColumnType, type ExistingRow, type TargetRow, type TargetSpec, type WriteMode } from '../backend.js';
import { META, isMetaColumn, metaColumns, quoteIdent, repeatRow } from '../sql.js';
import { insertChunked } from './chunked.js';
import type { Db } from './connection.js';

const SQL_TYPES: Record<ColumnType, string> = { any: '', text: 'TEXT', real: 'REAL', integer: 'INTEGER', boolean: 'BOOLEAN' };

type Statement = Database.Statement<unknown[]>;

/**
 * SQLite stores no booleans or objects: booleans become INTEGER 1/0, nested values JSON text. A whole
 * JS number is bound as BigInt, since better-sqlite3 binds every number as REAL and an
 * untyped column would keep `2` as `2.0`.
 */
function toSqlValue(value: unknown): unknown {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1n : 0n; // INTEGER, as a declared boolean stores it
  if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value)) return JSON.stringify(value);
  return value;
}

/**
 * A row the table's own rules refuse (CHECK, NOT NULL, another UNIQUE column, a STRICT column's
 * type, a trigger's RAISE), as BACKEND_REFUSED: the pipeline then sets that record aside as a
 * dead letter. Anything else (I/O, a full disk) stays what it is and stops the batch.
 */
function refusal(error: unknown, written: number, table: string): RowsRefused | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !(code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH')) return null;
  return new RowsRefused(`table ${table} refused the row: ${(error as Error).message}`, written, error);
}

/**
 * A declared type as SQLite's affinity rules read it (INT, then CHAR/CLOB/TEXT, then BLOB or
 * none, then REAL/FLOA/DOUB), plus BOOL. The rest (NUMERIC, DECIMAL, DATE...) has numeric
 * affinity, which stores numeric text as a number and other text as text: `any` here, since
 * neither a text nor a number type fits such a column (a DATE column holds ISO text).
 */
function typeOf(declared: string): ColumnType {
  const upper = declared.toUpperCase();
  if (upper.includes('INT')) return 'integer';
  if (upper.includes('CHAR') || upper.includes('CLOB') || upper.includes('TEXT')) return 'text';
  if (upper === '' || upper.includes('BLOB')) return 'any';
  if (upper.includes('BOOL')) return 'boolean';
  if (upper.includes('REAL') || upper.includes('FLOA') || upper.includes('DOUB')) return 'real';
  return 'any';
}

/** Target-table operations on SQLite: DDL, lookups and guarded multi-row upserts. */
export class SqliteTarget {
  private readonly statements = new Map<string, Statement>();
  private readonly knownColumns = new Map<string, Set<string>>();

  constructor(private readonly db: Db) {}

  tableExists(table: string): boolean {
    return this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
  }

  columns(table: string): ColumnSpec[] {
    const rows = this.db.prepare('SELECT name, type FROM pragma_table_info(?) ORDER BY cid').all(table) as { name: string; type: string }[];
    return rows.map((row) => ({ name: row.name, type: typeOf(row.type) }));
  }

  countRows(table: string): number {
    if (!this.tableExists(table)) return 0;
    return Number((this.db.prepare(`SELECT COUNT(*) AS n FROM ${quoteIdent(table)}`).get() as { n: number }).n);
  }

  ensureTarget(spec: TargetSpec): string[] {
    // Read afresh, not from the cache: a parallel worker may have added columns since. Cheap:
    // this runs only when the run's column set changed, inside the batch's write lock.
    const known = new Set(this.columns(spec.table).map((c) => c.name));
    if (known.size === 0) {
      this.create(spec);
      this.knownColumns.set(spec.table, new Set(this.columns(spec.table).map((c) => c.name)));
      return spec.columns.map((c) => c.name);
    }
    const added: string[] = [];
    for (const column of spec.columns) {
      if (known.has(column.name)) continue;
      this.db.exec(`ALTER TABLE ${quoteIdent(spec.table)} ADD COLUMN ${quoteIdent(column.name)} ${SQL_TYPES[column.type]}`);
      known.add(column.name);
      added.push(column.name);
    }
    for (const meta of metaColumns(spec)) {
      if (!known.has(meta.name)) {
        this.db.exec(`ALTER TABLE ${quoteIdent(spec.table)} ADD COLUMN ${quoteIdent(meta.name)} ${SQL_TYPES[meta.type]}`);
        known.add(meta.name);
      }
    }
    this.knownColumns.set(spec.table, known);
    if (added.length > 0) this.statements.clear();
    if (spec.key !== null) this.ensureKeyIndex(spec.table, spec.key);
    return added;
  }

  private create(spec: TargetSpec): void {
    const columns = [...spec.columns, ...metaColumns(spec)].map((c) => `${quoteIdent(c.name)} ${SQL_TYPES[c.type]}`.trim());
    this.db.exec(`CREATE TABLE ${quoteIdent(spec.table)} (${columns.join(', ')})`);
    if (spec.rowHash) this.db.exec(`CREATE INDEX ${quoteIdent(`${spec.table}__sluice_hash`)} ON ${quoteIdent(spec.table)} (${META.hash})`);
    if (spec.key !== null) this.ensureKeyIndex(spec.table, spec.key);
  }

  private ensureKeyIndex(table: string, key: string): void {
    try {
      this.db.exec(`CREATE UNIQUE INDEX IF NOT EXISTS ${quoteIdent(`${table}__sluice_key`)} ON ${quoteIdent(table)} (${quoteIdent(key)})`);
    } catch (error) {
      throw new SluiceError('BACKEND_SCHEMA', `table ${table} has duplicate values in ${key}, so it cannot be merged by key ${key}`, {
        hint: `load into a new table with --table, or remove the duplicates first`,
        cause: error,
      });
    }
  }

  /** Columns of the table's unique `…__sluice_key` indexes (a replaced table keeps its shadow's name). */
  keyColumns(table: string): string[] {
    const sql = `SELECT DISTINCT i.name AS c FROM pragma_index_list(?) AS l, pragma_index_info(l.name) AS i
      WHERE l."unique" = 1 AND l.name LIKE '%\\_\\_sluice\\_key' ESCAPE '\\'`;
    return (this.db.prepare(sql).all(table) as { c: string }[]).map((row) => row.c);
  }

  duplicateValue(table: string, column: string): unknown {
    if (!this.tableExists(table) || !this.columnNames(table).has(column)) return undefined;
    const c = quoteIdent(column);
    const row = this.db.prepare(`SELECT ${c} AS v FROM ${quoteIdent(table)} WHERE ${c} IS NOT NULL GROUP BY ${c} HAVING COUNT(*) > 1 LIMIT 1`).get() as { v: unknown } | undefined;
    return row?.v;
  }

  lookupExisting(table: string, keyColumn: string, keys: readonly unknown[]): ExistingRow[] {
    if (keys.length === 0) return [];
    // Each row comes back with the position of the key that found it, and the key as requested is
    // returned, not as stored: a NUMERIC column stores the text '1' as 1, and merge must find the
    // row under the key it planned with.
    const sql = `SELECT j.key AS i, t.${META.cursor} AS c, t.${META.runId} AS r, t.${META.seq} AS s
      FROM json_each(?) j JOIN ${quoteIdent(table)} t ON t.${quoteIdent(keyColumn)} = j.value`;
    const hasCursor = this.columnNames(table).has(META.cursor);
    const statement = this.cached(`lookup/${table}/${hasCursor}`, hasCursor ? sql : sql.replace(`t.${META.cursor} AS c`, 'NULL AS c'));
    statement.raw(true).safeIntegers(true);
    const rows = statement.all(jsonArray(keys)) as [bigint, unknown, bigint, bigint][];
    return rows.map(([i, c, r, s]) => ({ key: keys[Number(i)], cursor: fromSortable(c), runId: Number(r), seq: Number(s) }));
  }

  /** The table's column names, as ensureTarget last saw or made them (read once otherwise). */
  private columnNames(table: string): Set<string> {
    let names = this.knownColumns.get(table);
    if (names === undefined) {
      names = new Set(this.columns(table).map((c) => c.name));
      this.knownColumns.set(table, names);
    }
    return names;
  }

  lookupHashes(table: string, hashes: readonly string[], currentRunId: number): Set<string> {
    if (hashes.length === 0) return new Set();
    const sql = `SELECT ${META.hash} AS h FROM ${quoteIdent(table)}
      WHERE ${META.hash} IN (SELECT value FROM json_each(?)) AND ${META.runId} <> ?`;
    const rows = this.cached(`hashes/${table}`, sql).all(JSON.stringify(hashes), currentRunId) as { h: string }[];
    return new Set(rows.map((row) => row.h));
  }

  writeRows(table: string, spec: TargetSpec, runId: number, mode: WriteMode, rows: readonly TargetRow[]): void {
    const progress = { written: 0 };
    try {
      this.insertRows(table, spec, runId, mode, rows, progress);
    } catch (error) {
      throw refusal(error, progress.written, table) ?? error;
    }
  }

  private insertRows(table: string, spec: TargetSpec, runId: number, mode: WriteMode, rows: readonly TargetRow[], progress: { written: number }): void {
    const names = spec.columns.map((c) => c.name);
    const meta = metaColumns(spec).map((c) => c.name);
    const columns = [...names, ...meta];
    // A REAL column stores a whole number as REAL whichever way it is bound: no BigInt needed.
    const real = spec.columns.map((c) => c.type === 'real');
    insertChunked(
      rows,
      columns.length + 1, // the source takes two: file and line
      (count) => this.upsertStatement(table, spec, mode, columns, count),
      (row, params) => {
        for (let i = 0; i < names.length; i += 1) {
          const value = row.values[i];
          params.add(real[i] === true && typeof value === 'number' ? value : toSqlValue(value));
        }
        params.add(runId);
        params.add(row.file);
        params.add(row.line);
        params.add(row.seq);
        if (spec.cursor !== null) params.add(row.cursor);
        if (spec.rowHash) params.add(row.rowHash);
      },
      progress,
    );
  }

  private upsertStatement(table: string, spec: TargetSpec, mode: WriteMode, columns: string[], rows: number): Statement {
    const id = `upsert/${table}/${mode}/${columns.length}/${rows}`;
    const cached = this.statements.get(id);
    if (cached) return cached;
    // SQLite joins the source's file and line (a number binds as REAL: cast, or line 7 reads 7.0):
    // one string per row less for JavaScript to build.
    const row = `(${columns.map((c) => (c === META.source ? "? || ':' || CAST(? AS INTEGER)" : '?')).join(', ')})`;
    const insert = `INSERT INTO ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) VALUES ${repeatRow(rows, row)}`;
    return this.cached(id, insert + conflictClause(spec, mode, columns));
  }

  private cached(id: string, sql: string): Statement {
    let statement = this.statements.get(id);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(id, statement);
    }
    return statement;
  }

  swapTable(shadow: string, table: string): void {
    this.db.exec(`DROP TABLE IF EXISTS ${quoteIdent(table)}`);
    this.db.exec(`ALTER TABLE ${quoteIdent(shadow)} RENAME TO ${quoteIdent(table)}`);
    this.forget(shadow);
    this.forget(table);
  }

  dropTable(table: string): void {
    this.db.exec(`DROP TABLE IF EXISTS ${quoteIdent(table)}`);
    this.forget(table);
  }

  /** After a rollback nothing cached about the schema can be trusted. */
  forgetAll(): void {
    this.knownColumns.clear();
    this.statements.clear();
  }

  private forget(table: string): void {
    this.knownColumns.delete(table);
    this.statements.clear();
  }

  /** The columns an export reads: the table's, without the ledger's unless asked for. */
  exportColumns(table: string, withMeta: boolean): ColumnSpec[] {
    return this.columns(table).filter((c) => withMeta || !isMetaColumn(c.name));
  }

  /**
   * Whether SQLite can write the table's rows out as text in rowid order: a rowid table (not
   * WITHOUT ROWID) with no column named like the rowid, which would stand in for it.
   */
  hasPlainRowid(table: string, columns: readonly ColumnSpec[]): boolean {
    if (columns.some((c) => ROWID_NAMES.has(c.name.toLowerCase()))) return false;
    try {
      this.db.prepare(`SELECT rowid FROM ${quoteIdent(table)} LIMIT 0`);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Rows in insertion order, `batchRows` at a time, from one statement (one snapshot); BigInt
   * only where a number would lose precision.
   */
  *iterate(table: string, withMeta: boolean, batchRows: number): Generator<RowBatch> {
    const columns = this.exportColumns(table, withMeta);
    if (columns.length === 0) return;
    const names = columns.map((c) => c.name);
    const integral = integralColumns(columns);
    // A WITHOUT ROWID table, or one whose column takes the rowid's name, streams in its own order.
    const order = this.hasPlainRowid(table, columns) ? ' ORDER BY rowid' : '';
    const statement = this.db.prepare(`SELECT ${names.map(quoteIdent).join(', ')} FROM ${quoteIdent(table)}${order}`);
    statement.raw(true).safeIntegers(integral.includes(true));
    let rows: unknown[][] = [];
    for (const values of statement.iterate() as Iterable<unknown[]>) {
      if (rows.push(readIntegers(values, integral)) === batchRows) {
        yield { columns: names, rows };
        rows = [];
      }
    }
    if (rows.length > 0) yield { columns: names, rows };
  }
}

const ROWID_NAMES = new Set(['rowid', 'oid', '_rowid_']);

/** TEXT and REAL columns never hold integers: only the others need BigInt-safe reading. */
export function integralColumns(columns: readonly ColumnSpec[]): boolean[] {
  return columns.map((c) => c.type !== 'text' && c.type !== 'real');
}

/** A row read with BigInt integers: numbers where they are exact (in place). */
export function readIntegers(values: unknown[], integral: readonly boolean[]): unknown[] {
  for (let i = 0; i < integral.length; i += 1) if (integral[i]) values[i] = fromSqlValue(values[i]);
  return values;
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function fromSqlValue(value: unknown): unknown {
  if (typeof value === 'bigint' && value >= MIN_SAFE && value <= MAX_SAFE) return Number(value);
  return value;
}

function fromSortable(value: unknown): number | string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'bigint' ? Number(value) : (value as number | string);
}

/** JSON array text for json_each, keeping BigInt keys exact. */
function jsonArray(values: readonly unknown[]): string {
  // Text keys (the usual case) need no conversion: JSON.stringify is native and fast.
  if (values.every((value) => typeof value === 'string')) return JSON.stringify(values);
  return `[${values.map((v) => { const sql = toSqlValue(v); return typeof sql === 'bigint' ? sql.toString() : JSON.stringify(sql); }).join(',')}]`;
}

/**
 * The guard of each write mode, evaluated by the database per row, so concurrent writers of
 * one run (parallel workers) cannot put an older record over a newer one.
 */
function conflictClause(spec: TargetSpec, mode: WriteMode, columns: string[]): string {
  if (mode === 'insert' || spec.key === null) return '';
  const key = quoteIdent(spec.key);
  // The key is equal by definition of the conflict: setting it would rewrite its index entry.
  const set = columns
    .filter((c) => c !== spec.key)
    .map((c) => `${quoteIdent(c)} = excluded.${quoteIdent(c)}`)
    .join(', ');
  const run = META.runId;
  const seq = META.seq;
  const guards: Record<Exclude<WriteMode, 'insert'>, string> = {
    'first-wins': `excluded.${run} = ${run} AND excluded.${seq} < ${seq}`,
    'last-wins': `excluded.${run} > ${run} OR (excluded.${run} = ${run} AND excluded.${seq} >= ${seq})`,
    'newer-wins': `${META.cursor} IS NULL OR excluded.${META.cursor} > ${META.cursor} OR (excluded.${META.cursor} = ${META.cursor} AND excluded.${run} = ${run} AND excluded.${seq} < ${seq})`,
  };
  return ` ON CONFLICT (${key}) DO UPDATE SET ${set} WHERE ${guards[mode]}`;
}
