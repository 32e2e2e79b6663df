import type { LineageEntry } from '../backend.js';
import {
  COUNTER_NAMES,
  type CheckpointInput,
  type CursorValue,
  type DeadLetterInput,
  type LedgerTx,
  type LetterReason,
  type LockedRun,
  type RunCounters,
  type RunFileRow,
  type RunRow,
  type RunStatus,
  type LineSpan,
  type WaitingRepeats,
  type WatermarkRow,
} from '../../ledger/ledger.js';
import { letterFileIds, repeatedLetters, withAliases, toRun, toRunFile, type Row } from '../../ledger/rows.js';
import { markRereadSql } from '../../ledger/schema.js';
import type { PgSession } from './session.js';
import { copyChunks, ledgerText } from './values.js';

const now = (): string => new Date().toISOString();

/**
 * Ledger writes inside the caller's transaction. Lineage and dead letters, the per-record
 * tables, go by COPY; the rest are a handful of single statements per batch.
 */
export class PgLedgerTx implements LedgerTx {
  private readonly pathIds = new Map<string, number>();

  constructor(private readonly session: PgSession) {}

  /** Path ids come from a sequence: a rolled-back insert must not leave a cached id behind. */
  forget(): void {
    this.pathIds.clear();
  }

  async createRun(run: Omit<RunRow, 'id' | 'finishedAt' | 'heartbeatAt' | 'counters' | 'maxCursor' | 'error' | 'watermarkAfter'>): Promise<number> {
    const sql = `INSERT INTO _sluice_runs (pipeline, status, started_at, heartbeat_at, pid, host, settings, watermark_before)
      VALUES ($1, $2, $3, $3, $4, $5, $6, $7) RETURNING id`;
    const result = await this.session.query<{ id: number }>(sql, [run.pipeline, run.status, run.startedAt, run.pid, run.host, ledgerText(run.settings), run.watermarkBefore]);
    return Number(result.rows[0]?.id);
  }

  async reopenRun(runId: number, pid: number, host: string): Promise<void> {
    const sql = "UPDATE _sluice_runs SET status = 'running', pid = $1, host = $2, heartbeat_at = $3, finished_at = NULL, error = NULL WHERE id = $4";
    await this.session.query(sql, [pid, host, now(), runId]);
  }

  async addRunFiles(runId: number, files: readonly { ordinal: number; path: string; size: number }[]): Promise<void> {
    if (files.length === 0) return;
    const ids = await this.fileIds(files.map((f) => f.path));
    const sql = `INSERT INTO _sluice_checkpoints (run_id, ordinal, path, file_id, size, status, updated_at)
      SELECT $1, o, p, f, s, 'pending', $2 FROM unnest($3::bigint[], $4::text[], $5::bigint[], $6::bigint[]) AS u(o, p, f, s)`;
    const params = [runId, now(), files.map((f) => f.ordinal), files.map((f) => ledgerText(f.path)), files.map((f) => ids.get(f.path)), files.map((f) => f.size)];
    await this.session.query(sql, params);
  }

  async fileId(path: string): Promise<number> {
    return (await this.fileIds([path])).get(path) as number;
  }

  private async fileIds(paths: readonly string[]): Promise<Map<string, number>> {
    const missing = [...new Set(paths.filter((p) => !this.pathIds.has(p)))];
    if (missing.length > 0) {
      const stored = missing.map((p) => ledgerText(p) as string);
      await this.session.query('INSERT INTO _sluice_paths (path) SELECT unnest($1::text[]) ON CONFLICT (path) DO NOTHING', [stored]);
      const result = await this.session.query<{ id: number; path: string }>('SELECT id, path FROM _sluice_paths WHERE path = ANY($1::text[])', [stored]);
      const byStored = new Map(result.rows.map((row) => [row.path, Number(row.id)]));
      missing.forEach((path, i) => this.pathIds.set(path, byStored.get(stored[i] as string) as number));
    }
    return new Map(paths.map((p) => [p, this.pathIds.get(p) as number]));
  }

  async addCounters(runId: number, delta: Partial<RunCounters>, maxCursor: CursorValue | null): Promise<void> {
    const params: unknown[] = [];
    const sets = COUNTER_NAMES.filter((name) => (delta[name] ?? 0) !== 0).map((name) => `${name} = ${name} + $${params.push(delta[name])}`);
    sets.push(`heartbeat_at = $${params.push(now())}`);
    if (maxCursor !== null) {
      // Kept only when larger: parallel workers commit their batches in any order. Numbers
      // compare as numbers, timestamps (canonical UTC text) byte by byte.
      const sortable = `$${params.push(JSON.stringify(maxCursor.sortable))}::text`;
      const larger =
        typeof maxCursor.sortable === 'number'
          ? `${sortable}::numeric > max_cursor_sortable::numeric`
          : `(${sortable}::jsonb #>> '{}') COLLATE "C" > (max_cursor_sortable::jsonb #>> '{}') COLLATE "C"`;
      const when = `max_cursor_sortable IS NULL OR ${larger}`;
      sets.push(`max_cursor = CASE WHEN ${when} THEN $${params.push(maxCursor.value)} ELSE max_cursor END`);
      sets.push(`max_cursor_sortable = CASE WHEN ${when} THEN ${sortable} ELSE max_cursor_sortable END`);
    }
    await this.session.query(`UPDATE _sluice_runs SET ${sets.join(', ')} WHERE id = $${params.push(runId)}`, params);
  }

  async setCheckpoint(runId: number, c: CheckpointInput): Promise<void> {
    const sql = `UPDATE _sluice_checkpoints SET position = $1, line = $2, byte_offset = $3, status = $4, error = $5,
      size = COALESCE($6, size), hash = COALESCE($7, hash), updated_at = $8 WHERE run_id = $9 AND ordinal = $10`;
    await this.session.query(sql, [c.position, c.line, c.byteOffset, c.status, ledgerText(c.error ?? null), c.size ?? null, c.hash ?? null, now(), runId, c.ordinal]);
  }

  async setFileStatus(runId: number, ordinal: number, status: RunFileRow['status'], error: string | null): Promise<void> {
    const sql = 'UPDATE _sluice_checkpoints SET status = $1, error = $2, updated_at = $3 WHERE run_id = $4 AND ordinal = $5';
    await this.session.query(sql, [status, ledgerText(error), now(), runId, ordinal]);
  }

  async markFileLoaded(pipeline: string, path: string, size: number, hash: string, runId: number): Promise<void> {
    const sql = `INSERT INTO _sluice_files (pipeline, path, size, hash, run_id, loaded_at) VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (pipeline, path) DO UPDATE SET size = EXCLUDED.size, hash = EXCLUDED.hash, run_id = EXCLUDED.run_id, loaded_at = EXCLUDED.loaded_at`;
    await this.session.query(sql, [pipeline, ledgerText(path), size, hash, runId, now()]);
  }

  async insertLineage(runId: number, entries: readonly LineageEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const chunks = copyChunks(entries, (e) => [runId, e.fileId, e.line, ledgerText(e.key), e.step]);
    await this.session.copyIn('COPY _sluice_lineage (run_id, file_id, line, key, step) FROM STDIN', chunks, 'writing lineage');
  }

  async discardLoads(runId: number): Promise<void> {
    await this.session.query("UPDATE _sluice_lineage SET step = 'discard' WHERE run_id = $1 AND step = 'load'", [runId]);
  }

  async insertDeadLetters(runId: number, pipeline: string, letters: readonly DeadLetterInput[]): Promise<void> {
    if (letters.length === 0) return;
    const createdAt = now();
    const chunks = copyChunks(letters, (d) => [runId, pipeline, d.fileId, ledgerText(d.file), d.line, ledgerText(d.raw), d.reason, ledgerText(d.field), ledgerText(d.message), createdAt]);
    const columns = 'run_id, pipeline, file_id, file, line, raw, reason, field, message, created_at';
    await this.session.copyIn(`COPY _sluice_dead_letters (${columns}) FROM STDIN`, chunks, 'writing dead letters');
  }

  async waitingRepeats(pipeline: string, letters: readonly DeadLetterInput[], exceptRun: number, aliases: ReadonlyMap<number, number> = new Map()): Promise<WaitingRepeats> {
    if (letters.length === 0) return { positions: [], outdated: [], found: [] };
    const sql = `SELECT id, file_id, line, raw, reason, field, message FROM _sluice_dead_letters WHERE pipeline = $1 AND replayed_by IS NULL
      AND file_id = ANY($2::bigint[]) AND line = ANY($3::bigint[]) AND run_id <> $4`;
    const fileIds = letterFileIds(letters, aliases);
    const stored = await this.session.query<Row>(sql, [pipeline, fileIds, letters.map((letter) => letter.line), exceptRun]);
    return repeatedLetters(letters, stored.rows, aliases, (value) => ledgerText(value) ?? value);
  }

  async updateLetterReasons(letters: readonly LetterReason[]): Promise<void> {
    const update = 'UPDATE _sluice_dead_letters SET reason = $1, field = $2, message = $3 WHERE id = $4';
    for (const letter of letters) await this.session.query(update, [letter.reason, ledgerText(letter.field), ledgerText(letter.message), letter.id]);
  }

  async hasWaitingLetters(pipeline: string, fileId: number, exceptRun: number, aliases: ReadonlyMap<number, number> = new Map()): Promise<boolean> {
    const sql = `SELECT 1 FROM _sluice_dead_letters WHERE pipeline = $1 AND file_id = ANY($2::bigint[]) AND replayed_by IS NULL AND run_id <> $3 LIMIT 1`;
    return (await this.session.query(sql, [pipeline, withAliases([fileId], aliases), exceptRun])).rows.length > 0;
  }

  async supersedeLetters(pipeline: string, span: LineSpan, keep: readonly number[], runId: number, aliases: ReadonlyMap<number, number> = new Map()): Promise<number> {
    const sql = `UPDATE _sluice_dead_letters SET replayed_by = $1 WHERE pipeline = $2 AND replayed_by IS NULL AND run_id <> $1
      AND file_id = ANY($3::bigint[]) AND line BETWEEN $4 AND $5 AND NOT (id = ANY($6::bigint[]))`;
    const fileIds = withAliases([span.fileId], aliases);
    const result = await this.session.query(sql, [runId, pipeline, fileIds, span.from, span.to ?? Number.MAX_SAFE_INTEGER, keep]);
    return result.rowCount ?? 0;
  }

  async markReplayed(ids: readonly number[], runId: number): Promise<void> {
    if (ids.length === 0) return;
    await this.session.query('UPDATE _sluice_dead_letters SET replayed_by = $1 WHERE id = ANY($2::bigint[])', [runId, ids]);
  }

  async finishRun(runId: number, status: RunStatus, watermarkAfter: string | null, error: string | null): Promise<void> {
    const sql = 'UPDATE _sluice_runs SET status = $1, finished_at = $2, watermark_after = $3, error = $4 WHERE id = $5';
    await this.session.query(sql, [status, now(), watermarkAfter, ledgerText(error), runId]);
  }

  async lockRun(runId: number): Promise<LockedRun | null> {
    const [row] = (await this.session.query<Row>('SELECT * FROM _sluice_runs WHERE id = $1 FOR UPDATE', [runId])).rows;
    if (row === undefined) return null;
    const files = (await this.session.query<Row>('SELECT * FROM _sluice_checkpoints WHERE run_id = $1 ORDER BY ordinal', [runId])).rows;
    return { run: toRun(row), files: files.map(toRunFile) };
  }

  async setWatermark(row: Omit<WatermarkRow, 'updatedAt'>): Promise<void> {
    const sql = `INSERT INTO _sluice_watermarks (pipeline, cursor, type, value, updated_at, run_id) VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (pipeline) DO UPDATE SET cursor = EXCLUDED.cursor, type = EXCLUDED.type, value = EXCLUDED.value,
      updated_at = EXCLUDED.updated_at, run_id = EXCLUDED.run_id`;
    await this.session.query(sql, [row.pipeline, row.cursor, row.type, row.value, now(), row.runId]);
  }

  async deleteWatermark(pipeline: string): Promise<boolean> {
    return ((await this.session.query('DELETE FROM _sluice_watermarks WHERE pipeline = $1', [pipeline])).rowCount ?? 0) > 0;
  }

  async markReread(pipeline: string, reason: string): Promise<void> {
    await this.session.query(markRereadSql(['$1', '$2', '$3']), [pipeline, reason, now()]);
  }
}
