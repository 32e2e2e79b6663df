import { hostname } from 'node:os';
import type { Backend } from '../backends/backend.js';
import { openBackend } from '../backends/open-backend.js';
import { isMetaColumn } from '../backends/sql.js';
import { SluiceError } from '../core/errors.js';
import { toFields } from '../core/record.js';
import type { FieldType, RunSettings, Strategy } from '../core/settings.js';
import type { DeadLetterRow, RunRow } from '../ledger/ledger.js';
import type { DecodedRecord } from '../stages/decode/index.js';
import { Batch } from './batch.js';
import { commitBatch, type CommitContext } from './commit-batch.js';
import { onePipeline, requireRun } from './inspect-common.js';
import { acquirePipelineLock } from './lock.js';
import { prepareRules } from './prepare.js';
import { routeRecord, type FileContext, type RecordFlow } from './record-flow.js';
import { targetColumnSet } from './target-columns.js';

export interface ReplayOptions {
  db: string;
  pipeline?: string;
  /** Only the dead letters of this run. */
  runId?: number;
  /** Only the dead letters with this reason code. */
  reason?: string;
}

export interface ReplaySummary {
  run_id: number | null;
  pipeline: string;
  table: string;
  /** Dead letters taken up. */
  replayed: number;
  /** Loaded now (their letters are marked replayed, never replayed again). */
  loaded: number;
  /** Failing again: their letters stay, waiting for the next fix. */
  still_rejected: number;
  skipped_stale: number;
  skipped_duplicate: number;
  dropped: number;
  target_rows: number;
}

/**
 * `sluice dead-letters replay`: runs stored dead letters through the pipeline's current rules
 * (its last run's settings, with the schema file or transform module as they are now) in a new
 * run. Records that pass are loaded with lineage pointing at their original file and line; the
 * watermark is not applied to them (they were admitted once already) and not moved by them.
 */
export async function replayDeadLetters(options: ReplayOptions): Promise<ReplaySummary> {
  const backend = await openBackend(options.db, { mustExist: true });
  try {
    const pipeline = await onePipeline(backend, options.pipeline);
    const release = await acquirePipelineLock(backend, pipeline);
    try {
      return await replay(backend, pipeline, options);
    } finally {
      await release();
    }
  } finally {
    await backend.close();
  }
}

async function replay(backend: Backend, pipeline: string, options: ReplayOptions): Promise<ReplaySummary> {
  const last = (await backend.ledger.listRuns({ pipeline, limit: 1 }))[0];
  if (last === undefined) {
    throw new SluiceError('RUN_NOT_FOUND', `pipeline ${pipeline} has no runs in ${backend.location}, so there is nothing to replay`, {
      hint: 'check --db and --pipeline (sluice runs lists the runs)',
    });
  }
  if (last.status === 'running' || last.status === 'interrupted') {
    throw new SluiceError('CONFIG_INVALID', `run ${last.id} of pipeline ${pipeline} is unfinished; finish it before replaying dead letters`, {
      hint: 'run the same sluice run command again to resume it, or start over with --restart',
    });
  }
  // --run N names a run of this pipeline, as for dead-letters list: an unknown one is exit 2.
  if (options.runId !== undefined) await requireRun(backend, options.runId, pipeline);
  const settings = replaySettings(last);
  const letters = await backend.ledger.pendingDeadLetters(pipeline, { runId: options.runId, reason: options.reason });
  const empty: ReplaySummary = { run_id: null, pipeline, table: settings.table, replayed: 0, loaded: 0, still_rejected: 0, skipped_stale: 0, skipped_duplicate: 0, dropped: 0, target_rows: await backend.countRows(settings.table) };
  if (letters.length === 0) return empty;
  const flow = await replayFlow(backend, settings);
  const runId = await createReplayRun(backend, settings, last);
  const commit = commitContext(backend, settings, runId, flow);
  const totals = new Batch(false);
  for (let start = 0; start < letters.length; start += settings.batchSize) {
    const batch = new Batch(false);
    letters.slice(start, start + settings.batchSize).forEach((letter, i) => replayLetter(flow, letter, start + i + 1, batch));
    await commitBatch(commit, [batch], null);
    for (const [name, value] of Object.entries(batch.counters)) totals.count(name as keyof typeof batch.counters, value);
  }
  await backend.transaction(async (tx) => tx.ledger.finishRun(runId, 'succeeded', last.watermarkAfter ?? last.watermarkBefore, null));
  const c = totals.counters;
  return { ...empty, run_id: runId, replayed: letters.length, loaded: c.loaded ?? 0, still_rejected: c.rejected ?? 0, skipped_stale: c.skipped_stale ?? 0, skipped_duplicate: c.skipped_duplicate ?? 0, dropped: c.dropped ?? 0, target_rows: await backend.countRows(settings.table) };
}

/** The last run's settings; `replace` replays into the live table (keyed: as update). */
function replaySettings(last: RunRow): RunSettings {
  const stored = JSON.parse(last.settings) as RunSettings;
  const strategy: Strategy = stored.strategy === 'replace' ? (stored.key === null ? 'append' : 'update') : stored.strategy;
  return { ...stored, strategy, dryRun: false, restart: false, simulateCrash: null, output: null };
}

async function replayFlow(backend: Backend, settings: RunSettings): Promise<RecordFlow> {
  const rules = await prepareRules(settings, () => {});
  const existing = (await backend.tableColumns(settings.table)).filter((c) => !isMetaColumn(c.name));
  const tableKey = settings.strategy === 'append' ? null : rules.key;
  const { columns, keyAsText } = targetColumnSet(rules.rules.types as Record<string, FieldType>, existing, tableKey);
  return { ...rules, startWatermark: null, rowHash: rules.cursor !== null && tableKey === null, columns, keyAsText };
}

async function createReplayRun(backend: Backend, settings: RunSettings, last: RunRow): Promise<number> {
  return backend.transaction(async (tx) =>
    tx.ledger.createRun({
      pipeline: settings.pipeline,
      status: 'running',
      startedAt: new Date().toISOString(),
      pid: process.pid,
      host: hostname(),
      settings: JSON.stringify({ ...settings, replay: true }),
      watermarkBefore: last.watermarkAfter ?? last.watermarkBefore,
    }),
  );
}

function commitContext(backend: Backend, settings: RunSettings, runId: number, flow: RecordFlow): CommitContext {
  const key = settings.strategy === 'append' ? null : flow.key;
  return {
    backend,
    runId,
    pipeline: settings.pipeline,
    table: settings.table,
    strategy: settings.strategy,
    key,
    cursorField: flow.cursor?.field ?? null,
    cursorType: flow.cursor === null ? null : flow.cursor.type === 'timestamp' ? 'text' : 'real',
    rowHash: flow.rowHash,
    columns: flow.columns,
    maxCursor: null,
    ensuredVersion: -1,
    lastHeartbeat: 0,
    // A replayed letter keeps the file id it was stored with.
    fileAliases: new Map(),
  };
}

/** A letter's raw record back through the rules; it is marked replayed unless it fails again. */
function replayLetter(flow: RecordFlow, letter: DeadLetterRow, position: number, batch: Batch): void {
  const file: FileContext = { path: letter.file, fileId: letter.fileId, ordinal: 0, format: 'json', seen: new Set() };
  const rejectedBefore = batch.counters.rejected ?? 0;
  routeRecord(flow, file, decodedFrom(letter, position), batch);
  if ((batch.counters.rejected ?? 0) === rejectedBefore) batch.replayed.push(letter.id);
}

function decodedFrom(letter: DeadLetterRow, position: number): DecodedRecord {
  const base = { line: letter.line, endLine: letter.line + 1, position, endOffset: null, raw: letter.raw };
  try {
    const value: unknown = JSON.parse(letter.raw);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { ...base, fields: toFields(value) };
  } catch {
    // Not JSON: a row that could not be decoded in the first place; it stays a dead letter.
  }
  return { ...base, fields: null, problem: { reason: 'malformed_row', field: null, message: `${letter.file}:${letter.line}: the stored record is not a JSON object and cannot be replayed` } };
}
