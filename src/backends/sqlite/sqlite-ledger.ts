import type Database from 'better-sqlite3';
import type { LineageEntry } from '../../backends/backend.js';
import {
  COUNTER_NAMES,
  type CheckpointInput,
  type ClaimHolder,
  type ClaimOptions,
  type CursorValue,
  type DeadLetterInput,
  type DeadLetterRow,
  type Ledger,
  type LedgerTx,
  type LetterReason,
  type LetterFilter,
  type LetterPage,
  type LineageCount,
  type LoadedFile,
  type LockedRun,
  type LockHolder,
  type RereadMark,
  type RunCounters,
  type RunFileRow,
  type RunRow,
  type RunStatus,
  type LineSpan,
  type WaitingRepeats,
  type WatermarkRow,
} from '../../ledger/ledger.js';
import { letterFileIds, repeatedLetters, withAliases, toDeadLetter, toLoadedFile, toLockHolder, toRereadMark, toRun, toRunFile, toWatermark, type Row } from '../../ledger/rows.js';
import { LINEAGE_STEPS_SQL, markRereadSql, partlyFailedFilesSql, RELATIVE_PATHS_SQL } from '../../ledger/schema.js';
import { placeholders } from '../sql.js';
import { insertChunked } from './chunked.js';
import type { Db } from './connection.js';

const now = (): string => new Date().toISOString();

/** The ledger on SQLite. Reads and stand-alone writes; batch writes go through `SqliteLedgerTx`. */
export class SqliteLedger implements Ledger {
  constructor(private readonly db: Db) {}

  async getWatermark(pipeline: string): Promise<WatermarkRow | null> {
    const row = this.db.prepare('SELECT * FROM _sluice_watermarks WHERE pipeline = ?').get(pipeline) as Row | undefined;
    return row ? toWatermark(pipeline, row) : null;
  }

  async getRun(id: number): Promise<RunRow | null> {
    const row = this.db.prepare('SELECT * FROM _sluice_runs WHERE id = ?').get(id) as Row | undefined;
    return row ? toRun(row) : null;
  }

  async findUnfinishedRun(pipeline: string): Promise<RunRow | null> {
    const sql = 'SELECT * FROM _sluice_runs WHERE pipeline = ? ORDER BY id DESC LIMIT 1';
    const row = this.db.prepare(sql).get(pipeline) as Row | undefined;
    return row && (row.status === 'running' || row.status === 'interrupted') ? toRun(row) : null;
  }

  async listRuns(options: { pipeline?: string; status?: RunStatus; limit?: number }): Promise<RunRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (options.pipeline !== undefined) {
      where.push('pipeline = ?');
      params.push(options.pipeline);
    }
    if (options.status !== undefined) {
      where.push('status = ?');
      params.push(options.status);
    }
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const sql = `SELECT * FROM _sluice_runs ${clause} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...params, options.limit ?? -1) as Row[]).map(toRun);
  }

  async runFiles(runId: number): Promise<RunFileRow[]> {
    const rows = this.db.prepare('SELECT * FROM _sluice_checkpoints WHERE run_id = ? ORDER BY ordinal').all(runId) as Row[];
    return rows.map(toRunFile);
  }

  async partlyFailedFiles(pipeline: string): Promise<Map<string, RunFileRow>> {
    const rows = this.db.prepare(partlyFailedFilesSql('?')).all(pipeline) as Row[];
    return new Map(rows.map((row) => [String(row.path), toRunFile(row)]));
  }

  async relativePaths(): Promise<{ id: number; path: string }[]> {
    const rows = this.db.prepare(RELATIVE_PATHS_SQL).all() as Row[];
    return rows.map((row) => ({ id: Number(row.id), path: String(row.path) }));
  }

  async loadedFiles(pipeline: string): Promise<Map<string, LoadedFile>> {
    const rows = this.db.prepare('SELECT path, size, hash, run_id FROM _sluice_files WHERE pipeline = ?').all(pipeline) as Row[];
    return new Map(rows.map((row) => [String(row.path), toLoadedFile(row)]));
  }

  async rereadMark(pipeline: string): Promise<RereadMark | null> {
    const row = this.db.prepare('SELECT * FROM _sluice_rereads WHERE pipeline = ?').get(pipeline) as Row | undefined;
    return row === undefined ? null : toRereadMark(row);
  }

  async lineageByStep(runId: number): Promise<LineageCount[]> {
    const sql = `SELECT l.step AS step, p.path AS file, COUNT(*) AS count FROM (${LINEAGE_STEPS_SQL}) l
      JOIN _sluice_paths p ON p.id = l.file_id WHERE l.run_id = ? GROUP BY l.step, p.path ORDER BY p.path, l.step`;
    return (this.db.prepare(sql).all(runId) as Row[]).map((row) => ({
      step: row.step as LineageCount['step'],
      file: String(row.file),
      count: Number(row.count),
    }));
  }

  async pendingDeadLetters(pipeline: string, filter: LetterFilter & LetterPage): Promise<DeadLetterRow[]> {
    // By id (`+pipeline` keeps SQLite off the pipeline index, which would sort all the pipeline's
    // letters for every page): the pages together read the table once.
    const sql = `SELECT * FROM _sluice_dead_letters WHERE +pipeline = ? AND (replayed_by IS NULL OR replayed_by = ?)
      AND (? IS NULL OR run_id = ?) AND (? IS NULL OR reason = ?) AND id > ? ORDER BY id LIMIT ? OFFSET ?`;
    const run = filter.runId ?? null;
    const reason = filter.reason ?? null;
    const params = [pipeline, filter.alsoReplayedBy ?? null, run, run, reason, reason, filter.afterId, filter.limit, filter.offset ?? 0];
    return (this.db.prepare(sql).all(...params) as Row[]).map(toDeadLetter);
  }

  async acquireLock(holder: LockHolder, isStale: (holder: LockHolder) => boolean): Promise<LockHolder | null> {
    const take = this.db.transaction((): LockHolder | null => {
      const row = this.db.prepare('SELECT * FROM _sluice_locks WHERE pipeline = ?').get(holder.pipeline) as Row | undefined;
      if (row) {
        const current = toLockHolder(holder.pipeline, row);
        if (!isStale(current)) return current;
      }
      this.db
        .prepare('INSERT OR REPLACE INTO _sluice_locks (pipeline, run_id, pid, host, since, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(holder.pipeline, holder.runId, holder.pid, holder.host, holder.since, holder.heartbeatAt);
      return null;
    });
    return take.immediate();
  }

  async heartbeat(pipeline: string, pid: number, runId: number | null): Promise<void> {
    this.db.prepare('UPDATE _sluice_locks SET heartbeat_at = ?, run_id = ? WHERE pipeline = ? AND pid = ?').run(now(), runId, pipeline, pid);
  }

  /**
   * Never throws, like PostgreSQL's: it runs in `finally` blocks, where a failure (a full disk)
   * would hide the error that ended the run. A row left behind names a process that has ended,
   * which the next run finds stale and takes over.
   */
  async releaseLock(pipeline: string, pid: number): Promise<void> {
    try {
      this.db.prepare('DELETE FROM _sluice_locks WHERE pipeline = ? AND pid = ?').run(pipeline, pid);
    } catch {
      // see above
    }
  }

  // Parallel workers. The `_sluice_locks` row names the run and one live worker of it; every
  // worker of the run has a participant row in `_sluice_claims` (ordinal = -pid), which is what
  // tells a shared lock from a plain run's. File claims are rows with the file's ordinal.

  async shareLock(holder: LockHolder & { runId: number }): Promise<void> {
    const share = this.db.transaction(() => {
      this.db.prepare('UPDATE _sluice_locks SET run_id = ? WHERE pipeline = ? AND pid = ? AND host = ?').run(holder.runId, holder.pipeline, holder.pid, holder.host);
      this.putClaim(holder.runId, -holder.pid, holder);
    });
    share.immediate();
  }

  async joinLock(holder: LockHolder & { runId: number }, isStale: (holder: LockHolder) => boolean): Promise<LockHolder | null> {
    const join = this.db.transaction((): LockHolder | null => {
      const current = this.lockHolder(holder.pipeline);
      if (current !== null && !isStale(current)) {
        const shared = current.runId === holder.runId && this.db.prepare('SELECT 1 FROM _sluice_claims WHERE run_id = ? AND ordinal = ? AND host = ?').get(holder.runId, -current.pid, current.host) !== undefined;
        if (!shared) return current;
      } else {
        // Nobody alive holds it: this worker does, if its run is the pipeline's current one.
        const run = this.db.prepare('SELECT * FROM _sluice_runs WHERE pipeline = ? ORDER BY id DESC LIMIT 1').get(holder.pipeline) as Row | undefined;
        if (run === undefined || Number(run.id) !== holder.runId || (run.status !== 'running' && run.status !== 'interrupted')) return current ?? runHolder(holder.pipeline, run);
        this.db
          .prepare('INSERT OR REPLACE INTO _sluice_locks (pipeline, run_id, pid, host, since, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)')
          .run(holder.pipeline, holder.runId, holder.pid, holder.host, holder.since, holder.heartbeatAt);
      }
      this.putClaim(holder.runId, -holder.pid, { ...holder, heartbeatAt: now() });
      return null;
    });
    return join.immediate();
  }

  async leaveLock(holder: LockHolder & { runId: number }, isStale: (holder: LockHolder) => boolean): Promise<void> {
    const leave = this.db.transaction(() => {
      this.db.prepare('DELETE FROM _sluice_claims WHERE run_id = ? AND ordinal = ? AND host = ?').run(holder.runId, -holder.pid, holder.host);
      const current = this.lockHolder(holder.pipeline);
      if (current === null || current.pid !== holder.pid || current.host !== holder.host) return;
      // The lock stays with the run while any of its workers lives: hand it over.
      const rows = this.db.prepare('SELECT * FROM _sluice_claims WHERE run_id = ? AND ordinal < 0 ORDER BY since').all(holder.runId) as Row[];
      const heir = rows.map((row) => ({ ...toClaim(row), pipeline: holder.pipeline, runId: holder.runId })).find((worker) => !isStale(worker));
      if (heir === undefined) {
        this.db.prepare('DELETE FROM _sluice_locks WHERE pipeline = ?').run(holder.pipeline);
      } else {
        this.db.prepare('UPDATE _sluice_locks SET pid = ?, host = ?, since = ?, heartbeat_at = ? WHERE pipeline = ?').run(heir.pid, heir.host, heir.since, heir.heartbeatAt, holder.pipeline);
      }
    });
    leave.immediate();
  }

  async claimFile(runId: number, claimer: ClaimHolder, options: ClaimOptions): Promise<RunFileRow | null> {
    const claim = this.db.transaction((): RunFileRow | null => {
      const run = this.db.prepare('SELECT status FROM _sluice_runs WHERE id = ?').get(runId) as Row | undefined;
      if (run === undefined || run.status === 'succeeded' || run.status === 'failed') return null;
      const failed = options.stopAfterFailure && this.db.prepare("SELECT 1 FROM _sluice_checkpoints WHERE run_id = ? AND status = 'failed' LIMIT 1").get(runId) !== undefined;
      const statuses = failed ? ['loading'] : ['pending', 'loading'];
      const from = `FROM _sluice_checkpoints c LEFT JOIN _sluice_claims k ON k.run_id = c.run_id AND k.ordinal = c.ordinal
        WHERE c.run_id = ? AND c.status IN (SELECT value FROM json_each(?))`;
      // The first unclaimed file, and the (few) claimed ones whose owner died.
      const free = this.db.prepare(`SELECT c.* ${from} AND k.pid IS NULL ORDER BY c.ordinal LIMIT 1`).get(runId, JSON.stringify(statuses)) as Row | undefined;
      const claimed = this.db.prepare(`SELECT c.*, k.pid AS k_pid, k.host AS k_host, k.since AS k_since, k.heartbeat_at AS k_heartbeat ${from} AND k.pid IS NOT NULL ORDER BY c.ordinal`).all(runId, JSON.stringify(statuses)) as Row[];
      const dead = claimed.find((row) => options.isStale({ pid: Number(row.k_pid), host: String(row.k_host), since: String(row.k_since), heartbeatAt: String(row.k_heartbeat) }));
      const row = free === undefined || (dead !== undefined && Number(dead.ordinal) < Number(free.ordinal)) ? dead : free;
      if (row === undefined) return null;
      this.putClaim(runId, Number(row.ordinal), claimer);
      this.db.prepare("UPDATE _sluice_checkpoints SET status = 'loading', updated_at = ? WHERE run_id = ? AND ordinal = ? AND status = 'pending'").run(now(), runId, row.ordinal);
      return toRunFile({ ...row, status: 'loading' });
    });
    return claim.immediate();
  }

  async releaseFile(runId: number, ordinal: number, claimer: ClaimHolder): Promise<void> {
    this.db.prepare('DELETE FROM _sluice_claims WHERE run_id = ? AND ordinal = ? AND pid = ? AND host = ?').run(runId, ordinal, claimer.pid, claimer.host);
  }

  async heartbeatClaims(runId: number, claimer: ClaimHolder): Promise<void> {
    this.db.prepare('UPDATE _sluice_claims SET heartbeat_at = ? WHERE run_id = ? AND pid = ? AND host = ?').run(now(), runId, claimer.pid, claimer.host);
  }

  private lockHolder(pipeline: string): LockHolder | null {
    const row = this.db.prepare('SELECT * FROM _sluice_locks WHERE pipeline = ?').get(pipeline) as Row | undefined;
    if (row === undefined) return null;
    return { ...toClaim(row), pipeline, runId: row.run_id === null ? null : Number(row.run_id) };
  }

  private putClaim(runId: number, ordinal: number, holder: ClaimHolder): void {
    this.db
      .prepare('INSERT OR REPLACE INTO _sluice_claims (run_id, ordinal, pid, host, since, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(runId, ordinal, holder.pid, holder.host, holder.since, holder.heartbeatAt);
  }
}

/** The process of a pipeline's newest run, as the holder a worker of another run is refused by. */
function runHolder(pipeline: string, run: Row | undefined): LockHolder {
  if (run === undefined) return { pipeline, runId: null, pid: 0, host: 'no run', since: now(), heartbeatAt: now() };
  const since = String(run.started_at);
  return { pipeline, runId: Number(run.id), pid: Number(run.pid), host: String(run.host), since, heartbeatAt: String(run.heartbeat_at ?? since) };
}

function toClaim(row: Row): ClaimHolder {
  return { pid: Number(row.pid), host: String(row.host), since: String(row.since), heartbeatAt: String(row.heartbeat_at) };
}

/** Ledger writes inside the caller's transaction. */
export class SqliteLedgerTx implements LedgerTx {
  private readonly pathIds = new Map<string, number>();

  constructor(private readonly db: Db) {}

  /** After a rollback, path ids inserted in it are gone again. */
  forgetAll(): void {
    this.pathIds.clear();
  }

  async createRun(run: Parameters<LedgerTx['createRun']>[0]): Promise<number> {
    const sql = `INSERT INTO _sluice_runs (pipeline, status, started_at, heartbeat_at, pid, host, settings, watermark_before)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;
    const result = this.db.prepare(sql).run(run.pipeline, run.status, run.startedAt, run.startedAt, run.pid, run.host, run.settings, run.watermarkBefore);
    return Number(result.lastInsertRowid);
  }

  async reopenRun(runId: number, pid: number, host: string): Promise<void> {
    const sql = "UPDATE _sluice_runs SET status = 'running', pid = ?, host = ?, heartbeat_at = ?, finished_at = NULL, error = NULL WHERE id = ?";
    this.db.prepare(sql).run(pid, host, now(), runId);
  }

  async addRunFiles(runId: number, files: readonly { ordinal: number; path: string; size: number }[]): Promise<void> {
    const insert = this.db.prepare(
      "INSERT INTO _sluice_checkpoints (run_id, ordinal, path, file_id, size, status, updated_at) VALUES (?, ?, ?, ?, ?, 'pending', ?)",
    );
    for (const file of files) insert.run(runId, file.ordinal, file.path, await this.fileId(file.path), file.size, now());
  }

  async fileId(path: string): Promise<number> {
    const cached = this.pathIds.get(path);
    if (cached !== undefined) return cached;
    this.db.prepare('INSERT OR IGNORE INTO _sluice_paths (path) VALUES (?)').run(path);
    const row = this.db.prepare('SELECT id FROM _sluice_paths WHERE path = ?').get(path) as Row;
    const id = Number(row.id);
    this.pathIds.set(path, id);
    return id;
  }

  async addCounters(runId: number, delta: Partial<RunCounters>, maxCursor: CursorValue | null): Promise<void> {
    const names = COUNTER_NAMES.filter((name) => (delta[name] ?? 0) !== 0);
    const sets = names.map((name) => `${name} = ${name} + ?`);
    const params: unknown[] = names.map((name) => delta[name]);
    sets.push('heartbeat_at = ?');
    params.push(now());
    if (maxCursor !== null) {
      // Kept only when larger: parallel workers commit their batches in any order.
      const larger = "max_cursor_sortable IS NULL OR json_extract(?, '$') > json_extract(max_cursor_sortable, '$')";
      sets.push(`max_cursor = CASE WHEN ${larger} THEN ? ELSE max_cursor END`, `max_cursor_sortable = CASE WHEN ${larger} THEN ? ELSE max_cursor_sortable END`);
      const sortable = JSON.stringify(maxCursor.sortable);
      params.push(sortable, maxCursor.value, sortable, sortable);
    }
    // Once per slice of every batch: prepared once per set of counters, not per call.
    this.prepared(`UPDATE _sluice_runs SET ${sets.join(', ')} WHERE id = ?`).run(...params, runId);
  }

  async setCheckpoint(runId: number, c: CheckpointInput): Promise<void> {
    const sql = `UPDATE _sluice_checkpoints SET position = ?, line = ?, byte_offset = ?, status = ?, error = ?,
      size = COALESCE(?, size), hash = COALESCE(?, hash), updated_at = ? WHERE run_id = ? AND ordinal = ?`;
    this.db.prepare(sql).run(c.position, c.line, c.byteOffset, c.status, c.error ?? null, c.size ?? null, c.hash ?? null, now(), runId, c.ordinal);
  }

  async setFileStatus(runId: number, ordinal: number, status: RunFileRow['status'], error: string | null): Promise<void> {
    const sql = 'UPDATE _sluice_checkpoints SET status = ?, error = ?, updated_at = ? WHERE run_id = ? AND ordinal = ?';
    this.db.prepare(sql).run(status, error, now(), runId, ordinal);
  }

  async markFileLoaded(pipeline: string, path: string, size: number, hash: string, runId: number): Promise<void> {
    const sql = 'INSERT OR REPLACE INTO _sluice_files (pipeline, path, size, hash, run_id, loaded_at) VALUES (?, ?, ?, ?, ?, ?)';
    this.db.prepare(sql).run(pipeline, path, size, hash, runId, now());
  }

  async insertLineage(runId: number, entries: readonly LineageEntry[]): Promise<void> {
    const into = '_sluice_lineage (run_id, file_id, line, key, step)';
    insertChunked(entries, 5, (rows) => this.statement(into, rows, 5), (e, params) => {
      params.add(runId);
      params.add(e.fileId);
      params.add(e.line);
      params.add(e.key);
      params.add(e.step);
    });
  }

  async discardLoads(runId: number): Promise<void> {
    this.db.prepare("UPDATE _sluice_lineage SET step = 'discard' WHERE run_id = ? AND step = 'load'").run(runId);
  }

  async insertDeadLetters(runId: number, pipeline: string, letters: readonly DeadLetterInput[]): Promise<void> {
    const createdAt = now();
    const columns = '_sluice_dead_letters (run_id, pipeline, file_id, file, line, raw, reason, field, message, created_at)';
    insertChunked(
      letters,
      10,
      (rows) => this.statement(columns, rows, 10),
      (d, params) => params.addAll([runId, pipeline, d.fileId, d.file, d.line, d.raw, d.reason, d.field, d.message, createdAt]),
    );
  }

  async waitingRepeats(pipeline: string, letters: readonly DeadLetterInput[], exceptRun: number, aliases: ReadonlyMap<number, number> = new Map()): Promise<WaitingRepeats> {
    if (letters.length === 0) return { positions: [], outdated: [], found: [] };
    const sql = `SELECT id, file_id, line, raw, reason, field, message FROM _sluice_dead_letters WHERE pipeline = ? AND replayed_by IS NULL
      AND file_id IN (SELECT value FROM json_each(?)) AND line IN (SELECT value FROM json_each(?)) AND run_id <> ?`;
    const fileIds = JSON.stringify(letterFileIds(letters, aliases));
    const stored = this.prepared(sql).all(pipeline, fileIds, JSON.stringify(letters.map((letter) => letter.line)), exceptRun) as Row[];
    return repeatedLetters(letters, stored, aliases);
  }

  async updateLetterReasons(letters: readonly LetterReason[]): Promise<void> {
    const update = this.prepared('UPDATE _sluice_dead_letters SET reason = ?, field = ?, message = ? WHERE id = ?');
    for (const letter of letters) update.run(letter.reason, letter.field, letter.message, letter.id);
  }

  async hasWaitingLetters(pipeline: string, fileId: number, exceptRun: number, aliases: ReadonlyMap<number, number> = new Map()): Promise<boolean> {
    const sql = `SELECT 1 FROM _sluice_dead_letters WHERE pipeline = ? AND file_id IN (SELECT value FROM json_each(?)) AND replayed_by IS NULL AND run_id <> ? LIMIT 1`;
    return this.prepared(sql).get(pipeline, JSON.stringify(withAliases([fileId], aliases)), exceptRun) !== undefined;
  }

  async supersedeLetters(pipeline: string, span: LineSpan, keep: readonly number[], runId: number, aliases: ReadonlyMap<number, number> = new Map()): Promise<number> {
    const sql = `UPDATE _sluice_dead_letters SET replayed_by = ? WHERE pipeline = ? AND replayed_by IS NULL AND run_id <> ?
      AND file_id IN (SELECT value FROM json_each(?)) AND line BETWEEN ? AND ? AND id NOT IN (SELECT value FROM json_each(?))`;
    const fileIds = JSON.stringify(withAliases([span.fileId], aliases));
    return this.prepared(sql).run(runId, pipeline, runId, fileIds, span.from, span.to ?? Number.MAX_SAFE_INTEGER, JSON.stringify(keep)).changes;
  }

  async markReplayed(ids: readonly number[], runId: number): Promise<void> {
    const statement = this.db.prepare('UPDATE _sluice_dead_letters SET replayed_by = ? WHERE id = ?');
    for (const id of ids) statement.run(runId, id);
  }

  async finishRun(runId: number, status: RunStatus, watermarkAfter: string | null, error: string | null): Promise<void> {
    const sql = 'UPDATE _sluice_runs SET status = ?, finished_at = ?, watermark_after = ?, error = ? WHERE id = ?';
    this.db.prepare(sql).run(status, now(), watermarkAfter, error, runId);
  }

  async setWatermark(row: Omit<WatermarkRow, 'updatedAt'>): Promise<void> {
    const sql = 'INSERT OR REPLACE INTO _sluice_watermarks (pipeline, cursor, type, value, updated_at, run_id) VALUES (?, ?, ?, ?, ?, ?)';
    this.db.prepare(sql).run(row.pipeline, row.cursor, row.type, row.value, now(), row.runId);
  }

  async deleteWatermark(pipeline: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM _sluice_watermarks WHERE pipeline = ?').run(pipeline).changes > 0;
  }

  async markReread(pipeline: string, reason: string): Promise<void> {
    this.db.prepare(markRereadSql(['?', '?', '?'])).run(pipeline, reason, now());
  }

  /** The transaction is BEGIN IMMEDIATE: it holds the database's write lock already. */
  async lockRun(runId: number): Promise<LockedRun | null> {
    const row = this.db.prepare('SELECT * FROM _sluice_runs WHERE id = ?').get(runId) as Row | undefined;
    if (row === undefined) return null;
    const files = this.db.prepare('SELECT * FROM _sluice_checkpoints WHERE run_id = ? ORDER BY ordinal').all(runId) as Row[];
    return { run: toRun(row), files: files.map(toRunFile) };
  }

  /** better-sqlite3 caches nothing itself: the statements of the hot path, by their SQL. */
  private readonly statements = new Map<string, Database.Statement<unknown[]>>();

  private prepared(sql: string): Database.Statement<unknown[]> {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** A multi-row INSERT: one statement per (table, row count). */
  private statement(into: string, rows: number, perRow: number): Database.Statement<unknown[]> {
    return this.prepared(`INSERT INTO ${into} VALUES ${placeholders(rows, perRow)}`);
  }
}
