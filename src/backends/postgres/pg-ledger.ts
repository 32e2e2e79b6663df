import type { DeadLetterRow, Ledger, LineageCount, LockHolder, RunFileRow, RunRow, RunStatus, WatermarkRow } from '../../ledger/ledger.js';
import { lockKey } from './identifiers.js';
import { toDeadLetter, toLockHolder, toRun, toRunFile, toWatermark, type Row } from './ledger-rows.js';
import type { PgSession } from './session.js';

/** Runs a statement that stands alone, retried after a dropped connection (see pg-backend.ts). */
export type Standalone = <T>(work: () => Promise<T>) => Promise<T>;

const now = (): string => new Date().toISOString();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The ledger on PostgreSQL: the same tables and semantics as SQLite's. Reads and the lock. */
export class PgLedger implements Ledger {
  constructor(
    private readonly session: PgSession,
    private readonly standalone: Standalone,
  ) {}

  private rows(sql: string, params: unknown[] = []): Promise<Row[]> {
    return this.standalone(async () => (await this.session.query<Row>(sql, params)).rows);
  }

  async getWatermark(pipeline: string): Promise<WatermarkRow | null> {
    const [row] = await this.rows('SELECT * FROM _sluice_watermarks WHERE pipeline = $1', [pipeline]);
    return row === undefined ? null : toWatermark(pipeline, row);
  }

  async getRun(id: number): Promise<RunRow | null> {
    const [row] = await this.rows('SELECT * FROM _sluice_runs WHERE id = $1', [id]);
    return row === undefined ? null : toRun(row);
  }

  async findUnfinishedRun(pipeline: string): Promise<RunRow | null> {
    const [row] = await this.rows('SELECT * FROM _sluice_runs WHERE pipeline = $1 ORDER BY id DESC LIMIT 1', [pipeline]);
    return row !== undefined && (row.status === 'running' || row.status === 'interrupted') ? toRun(row) : null;
  }

  async listRuns(options: { pipeline?: string; status?: RunStatus; limit?: number }): Promise<RunRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (options.pipeline !== undefined) where.push(`pipeline = $${params.push(options.pipeline)}`);
    if (options.status !== undefined) where.push(`status = $${params.push(options.status)}`);
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const limit = options.limit === undefined || options.limit < 0 ? 'ALL' : `$${params.push(options.limit)}`;
    return (await this.rows(`SELECT * FROM _sluice_runs ${clause} ORDER BY id DESC LIMIT ${limit}`, params)).map(toRun);
  }

  async runFiles(runId: number): Promise<RunFileRow[]> {
    return (await this.rows('SELECT * FROM _sluice_checkpoints WHERE run_id = $1 ORDER BY ordinal', [runId])).map(toRunFile);
  }

  async loadedFiles(pipeline: string): Promise<Map<string, { size: number; hash: string }>> {
    const rows = await this.rows('SELECT path, size, hash FROM _sluice_files WHERE pipeline = $1', [pipeline]);
    return new Map(rows.map((row) => [String(row.path), { size: Number(row.size), hash: String(row.hash) }]));
  }

  async lineageByStep(runId: number): Promise<LineageCount[]> {
    const sql = `SELECT l.step AS step, p.path AS file, count(*) AS count FROM _sluice_lineage l
      JOIN _sluice_paths p ON p.id = l.file_id WHERE l.run_id = $1 GROUP BY l.step, p.path ORDER BY p.path COLLATE "C", l.step COLLATE "C"`;
    return (await this.rows(sql, [runId])).map((row) => ({ step: row.step as LineageCount['step'], file: String(row.file), count: Number(row.count) }));
  }

  async pendingDeadLetters(pipeline: string, filter: { runId?: number; reason?: string }): Promise<DeadLetterRow[]> {
    const sql = `SELECT * FROM _sluice_dead_letters WHERE pipeline = $1 AND replayed_by IS NULL
      AND ($2::bigint IS NULL OR run_id = $2) AND ($3::text IS NULL OR reason = $3) ORDER BY id`;
    return (await this.rows(sql, [pipeline, filter.runId ?? null, filter.reason ?? null])).map(toDeadLetter);
  }

  /**
   * One writer per pipeline. Liveness is the session advisory lock, not a pid check: the server
   * releases it the moment the holder's session ends, however the process died, on whatever
   * host. The `_sluice_locks` row only describes the holder for the refusal message.
   * `isStale` is not needed here.
   */
  async acquireLock(holder: LockHolder): Promise<LockHolder | null> {
    const key = lockKey(this.session.target.schema, holder.pipeline);
    return this.standalone(async () => {
      if (!(await this.session.lock(key))) return this.holderOf(holder.pipeline, key);
      const sql = `INSERT INTO _sluice_locks (pipeline, run_id, pid, host, since, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (pipeline) DO UPDATE SET run_id = EXCLUDED.run_id, pid = EXCLUDED.pid, host = EXCLUDED.host,
        since = EXCLUDED.since, heartbeat_at = EXCLUDED.heartbeat_at`;
      await this.session.query(sql, [holder.pipeline, holder.runId, holder.pid, holder.host, holder.since, holder.heartbeatAt]);
      return null;
    });
  }

  /** Who holds the lock: its row, written right after the lock was taken (so wait a little). */
  private async holderOf(pipeline: string, key: bigint): Promise<LockHolder> {
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const [row] = (await this.session.query<Row>('SELECT * FROM _sluice_locks WHERE pipeline = $1', [pipeline])).rows;
      if (row !== undefined) return toLockHolder(pipeline, row);
      await sleep(50);
    }
    // No row (deleted by hand?): describe the server session holding the advisory lock.
    const sql = `SELECT a.pid, coalesce(host(a.client_addr), 'local socket') AS host, a.backend_start::text AS since FROM pg_locks l
      JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted
      AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid AND l.objsubid = 1 LIMIT 1`;
    const params = [((key >> 32n) & 0xffffffffn).toString(), (key & 0xffffffffn).toString()];
    const [row] = (await this.session.query<Row>(sql, params)).rows;
    const since = row === undefined ? now() : String(row.since);
    return { pipeline, runId: null, pid: Number(row?.pid ?? 0), host: `${String(row?.host ?? 'unknown host')} (server session)`, since, heartbeatAt: since };
  }

  async heartbeat(pipeline: string, pid: number, runId: number | null): Promise<void> {
    await this.rows('UPDATE _sluice_locks SET heartbeat_at = $1, run_id = $2 WHERE pipeline = $3 AND pid = $4', [now(), runId, pipeline, pid]);
  }

  /** Never throws: it runs in `finally` blocks, and a dead session has released the lock anyway. */
  async releaseLock(pipeline: string, pid: number): Promise<void> {
    const key = lockKey(this.session.target.schema, pipeline);
    if (this.session.isLost) return;
    try {
      await this.session.query('DELETE FROM _sluice_locks WHERE pipeline = $1 AND pid = $2', [pipeline, pid]);
    } catch {
      // The row only describes a holder; the advisory lock below is what counts.
    }
    await this.session.unlock(key);
  }
}
