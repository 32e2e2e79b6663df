import { SluiceError } from '../../core/errors.js';
import type { ClaimHolder, ClaimOptions, DeadLetterRow, Ledger, LetterFilter, LetterPage, LineageCount, LoadedFile, LockHolder, RereadMark, RunFileRow, RunRow, RunStatus, WatermarkRow } from '../../ledger/ledger.js';
import { lockKey } from './identifiers.js';
import { toDeadLetter, toLoadedFile, toLockHolder, toRereadMark, toRun, toRunFile, toWatermark, type Row } from '../../ledger/rows.js';
import type { PgSession } from './session.js';
import { LINEAGE_STEPS_SQL, partlyFailedFilesSql, RELATIVE_PATHS_SQL } from '../../ledger/schema.js';

/** Runs a statement that stands alone, retried after a dropped connection (see pg-backend.ts). */
export type Standalone = <T>(work: () => Promise<T>) => Promise<T>;

const now = (): string => new Date().toISOString();

/** The process of a pipeline's newest run, as the holder a worker of another run is refused by. */
export function runHolder(pipeline: string, run: Row | undefined): LockHolder {
  if (run === undefined) return { pipeline, runId: null, pid: 0, host: 'no run', since: now(), heartbeatAt: now() };
  const since = String(run.started_at);
  return { pipeline, runId: Number(run.id), pid: Number(run.pid), host: String(run.host), since, heartbeatAt: String(run.heartbeat_at ?? since) };
}

/** The advisory-lock key of one file of a run: held by the worker that owns the file. */
function fileKey(schema: string, runId: number, ordinal: number): bigint {
  return lockKey(schema, `\u0000file\u0000${runId}\u0000${ordinal}`);
}
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

  async partlyFailedFiles(pipeline: string): Promise<Map<string, RunFileRow>> {
    const rows = await this.rows(partlyFailedFilesSql('$1'), [pipeline]);
    return new Map(rows.map((row) => [String(row.path), toRunFile(row)]));
  }

  async relativePaths(): Promise<{ id: number; path: string }[]> {
    const rows = await this.rows(RELATIVE_PATHS_SQL, []);
    return rows.map((row) => ({ id: Number(row.id), path: String(row.path) }));
  }

  async loadedFiles(pipeline: string): Promise<Map<string, LoadedFile>> {
    const rows = await this.rows('SELECT path, size, hash, run_id FROM _sluice_files WHERE pipeline = $1', [pipeline]);
    return new Map(rows.map((row) => [String(row.path), toLoadedFile(row)]));
  }

  async rereadMark(pipeline: string): Promise<RereadMark | null> {
    const [row] = await this.rows('SELECT * FROM _sluice_rereads WHERE pipeline = $1', [pipeline]);
    return row === undefined ? null : toRereadMark(row);
  }

  async lineageByStep(runId: number): Promise<LineageCount[]> {
    const sql = `SELECT l.step AS step, p.path AS file, count(*) AS count FROM (${LINEAGE_STEPS_SQL}) l
      JOIN _sluice_paths p ON p.id = l.file_id WHERE l.run_id = $1 GROUP BY l.step, p.path ORDER BY p.path COLLATE "C", l.step COLLATE "C"`;
    return (await this.rows(sql, [runId])).map((row) => ({ step: row.step as LineageCount['step'], file: String(row.file), count: Number(row.count) }));
  }

  async pendingDeadLetters(pipeline: string, filter: LetterFilter & LetterPage): Promise<DeadLetterRow[]> {
    const sql = `SELECT * FROM _sluice_dead_letters WHERE pipeline = $1 AND (replayed_by IS NULL OR replayed_by = $4)
      AND ($2::bigint IS NULL OR run_id = $2) AND ($3::text IS NULL OR reason = $3) AND id > $5 ORDER BY id LIMIT $6 OFFSET $7`;
    const params = [pipeline, filter.runId ?? null, filter.reason ?? null, filter.alsoReplayedBy ?? null, filter.afterId, filter.limit, filter.offset ?? 0];
    return (await this.rows(sql, params)).map(toDeadLetter);
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

  // Parallel workers. The pipeline's advisory lock is taken in shared mode by every worker of the
  // run (a plain run takes it exclusively, so the two exclude each other), and each file a worker
  // owns is one more advisory lock: a dead worker's session ends, and its claims with it.

  async shareLock(holder: LockHolder & { runId: number }): Promise<void> {
    const key = lockKey(this.session.target.schema, holder.pipeline);
    await this.standalone(async () => {
      // This session holds the lock exclusively, so the shared one is granted at once.
      if (!(await this.session.lockShared(key))) throw new SluiceError('BACKEND_LOCKED', `could not share the lock of pipeline ${holder.pipeline}`);
      await this.session.unlock(key);
      await this.session.query('UPDATE _sluice_locks SET run_id = $1 WHERE pipeline = $2 AND pid = $3 AND host = $4', [holder.runId, holder.pipeline, holder.pid, holder.host]);
    });
  }

  async joinLock(holder: LockHolder & { runId: number }): Promise<LockHolder | null> {
    const key = lockKey(this.session.target.schema, holder.pipeline);
    return this.standalone(async () => {
      if (!(await this.session.lockShared(key))) return this.holderOf(holder.pipeline, key);
      // Under the shared lock no run can be created: the run joined must be the pipeline's current one.
      const [run] = (await this.session.query<Row>('SELECT * FROM _sluice_runs WHERE pipeline = $1 ORDER BY id DESC LIMIT 1', [holder.pipeline])).rows;
      if (run === undefined || Number(run.id) !== holder.runId || (run.status !== 'running' && run.status !== 'interrupted')) {
        await this.session.unlockShared(key);
        return runHolder(holder.pipeline, run);
      }
      const sql = `INSERT INTO _sluice_locks (pipeline, run_id, pid, host, since, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (pipeline) DO NOTHING`;
      await this.session.query(sql, [holder.pipeline, holder.runId, holder.pid, holder.host, holder.since, holder.heartbeatAt]);
      return null;
    });
  }

  /** Never throws, like releaseLock. The server frees the lock once no worker holds it. */
  async leaveLock(holder: LockHolder & { runId: number }): Promise<void> {
    const key = lockKey(this.session.target.schema, holder.pipeline);
    if (!this.session.isLost) {
      await this.session.query('DELETE FROM _sluice_locks WHERE pipeline = $1 AND pid = $2 AND host = $3', [holder.pipeline, holder.pid, holder.host]).catch(() => undefined);
    }
    await this.session.unlockShared(key);
  }

  /**
   * One short transaction: the run's row FOR SHARE (so the claim sees every committed batch and
   * a finishing worker sees the claim), then the files in order, each row FOR UPDATE SKIP LOCKED,
   * until one whose advisory lock is free. That lock, not the row, is the claim: it outlives the
   * transaction and ends with the session.
   */
  async claimFile(runId: number, _claimer: ClaimHolder, options: ClaimOptions): Promise<RunFileRow | null> {
    return this.standalone(async () => {
      let taken: bigint | null = null;
      await this.session.query('BEGIN');
      try {
        const file = await this.claimNext(runId, options, (key) => (taken = key));
        await this.session.query('COMMIT');
        return file;
      } catch (error) {
        if (!this.session.isLost) await this.session.query('ROLLBACK').catch(() => undefined);
        if (taken !== null) await this.session.unlock(taken);
        throw error;
      }
    });
  }

  private async claimNext(runId: number, options: ClaimOptions, took: (key: bigint) => void): Promise<RunFileRow | null> {
    const [run] = (await this.session.query<Row>('SELECT status FROM _sluice_runs WHERE id = $1 FOR SHARE', [runId])).rows;
    if (run === undefined || run.status === 'succeeded' || run.status === 'failed') return null;
    const failed = options.stopAfterFailure && (await this.session.query("SELECT 1 FROM _sluice_checkpoints WHERE run_id = $1 AND status = 'failed' LIMIT 1", [runId])).rows.length > 0;
    const statuses = failed ? ['loading'] : ['pending', 'loading'];
    const sql = `SELECT * FROM _sluice_checkpoints WHERE run_id = $1 AND status = ANY($2::text[]) AND ordinal > $3
      ORDER BY ordinal LIMIT 1 FOR UPDATE SKIP LOCKED`;
    for (let after = -1; ; ) {
      const [row] = (await this.session.query<Row>(sql, [runId, statuses, after])).rows;
      if (row === undefined) return null;
      const key = fileKey(this.session.target.schema, runId, Number(row.ordinal));
      // A file this session already works on is not handed to it a second time.
      if (!this.session.holds(key) && (await this.session.lock(key))) {
        took(key);
        const mark = "UPDATE _sluice_checkpoints SET status = 'loading', updated_at = $1 WHERE run_id = $2 AND ordinal = $3 AND status = 'pending'";
        await this.session.query(mark, [now(), runId, row.ordinal]);
        return toRunFile({ ...row, status: 'loading' });
      }
      after = Number(row.ordinal);
    }
  }

  async releaseFile(runId: number, ordinal: number): Promise<void> {
    await this.session.unlock(fileKey(this.session.target.schema, runId, ordinal));
  }

  /** Nothing to do: a claim lives exactly as long as its session. */
  async heartbeatClaims(): Promise<void> {}
}
