import type { Backend } from '../backends/backend.js';
import { openBackend } from '../backends/open-backend.js';
import { SluiceError } from '../core/errors.js';
import type { ReasonCode } from '../core/record.js';
import type { RunSettings } from '../core/settings.js';
import type { LetterFilter, RunRow } from '../ledger/ledger.js';

/** What every inspection call takes: the database, and optionally one pipeline. */
export interface InspectOptions {
  /** SQLite file or postgres:// URL. It must exist: inspecting never creates a database. */
  db: string;
  /** One pipeline; absent means every pipeline for reads, the only pipeline for writes. */
  pipeline?: string;
}

/**
 * Opens an existing database read-only and runs `work`; `empty` when it holds no ledger yet
 * (a read-only open creates no tables, and an empty ledger is not an error).
 */
export async function reading<T>(db: string, empty: T, work: (backend: Backend) => Promise<T>): Promise<T> {
  const backend = await openBackend(db, { mustExist: true, readonly: true });
  try {
    if (!(await backend.queries.hasLedger())) return empty;
    return await work(backend);
  } finally {
    await backend.close();
  }
}

/** Opens an existing database for a repair (watermark set/reset, dead-letter purge). */
export async function writing<T>(db: string, work: (backend: Backend) => Promise<T>): Promise<T> {
  const backend = await openBackend(db, { mustExist: true });
  try {
    return await work(backend);
  } finally {
    await backend.close();
  }
}

/** The run with this id, of this pipeline when one is named; else RUN_NOT_FOUND (exit 2). */
export async function requireRun(backend: Backend, id: number, pipeline?: string): Promise<RunRow> {
  const run = await backend.ledger.getRun(id);
  if (run === null) {
    const latest = (await backend.ledger.listRuns({ pipeline, limit: 1 }))[0];
    const known = latest === undefined ? 'the ledger has no runs yet' : `the latest run${pipeline === undefined ? '' : ` of pipeline ${pipeline}`} is ${latest.id}`;
    throw new SluiceError('RUN_NOT_FOUND', `run ${id} not found in ${backend.location}: ${known}`, {
      hint: `list the runs with: sluice runs --db ${backend.location}`,
    });
  }
  if (pipeline !== undefined && run.pipeline !== pipeline) {
    throw new SluiceError('RUN_NOT_FOUND', `run ${id} belongs to pipeline ${run.pipeline}, not ${pipeline}`, {
      hint: `drop --pipeline, or use --pipeline ${run.pipeline}`,
    });
  }
  return run;
}

/**
 * The one pipeline a repair applies to: the named one, else the ledger's only pipeline.
 * Several pipelines and none named is ambiguous: refused, listing them.
 */
export async function onePipeline(backend: Backend, given: string | undefined): Promise<string> {
  if (given !== undefined) return given;
  const pipelines = await backend.queries.pipelines();
  if (pipelines.length === 0) return 'default';
  if (pipelines.length === 1) return pipelines[0] as string;
  throw new SluiceError('CONFIG_INVALID', `the ledger in ${backend.location} has ${pipelines.length} pipelines (${pipelines.join(', ')}): say which one`, {
    hint: `add --pipeline ${pipelines[0] as string}`,
  });
}

/** A run's stored settings; fields an older sluice did not store are absent. */
export function settingsOf(run: RunRow): Partial<RunSettings> {
  try {
    const parsed = JSON.parse(run.settings) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Partial<RunSettings>) : {};
  } catch {
    return {};
  }
}

/** What a `dead-letters replay` run stores beside its settings: it is a replay, of these letters. */
export interface ReplayMarks {
  replay?: boolean;
  replayFilter?: LetterFilter;
}

export function replayMarksOf(run: RunRow): ReplayMarks {
  return settingsOf(run) as ReplayMarks;
}

/** A run of `dead-letters replay`, not of files. */
export function isReplayRun(run: RunRow): boolean {
  return replayMarksOf(run).replay === true;
}

/** Field names as the run stored them in the table: trimmed and lower-cased unless --no-normalize. */
export function storedName(settings: Partial<RunSettings>, field: string): string {
  return settings.normalize === false ? field : field.trim().toLowerCase();
}

/** Every reason code a dead letter can carry; the compiler keeps the list complete. */
const REASONS = {
  malformed_row: true,
  missing_required: true,
  invalid_type: true,
  schema_violation: true,
  transform_error: true,
  missing_cursor: true,
  invalid_cursor: true,
  missing_key: true,
  unsupported_value: true,
  refused_by_table: true,
} satisfies Record<ReasonCode, true>;

export const REASON_CODES = Object.keys(REASONS) as ReasonCode[];

export function checkReason(reason: string | undefined): ReasonCode | undefined {
  if (reason === undefined) return undefined;
  if ((REASON_CODES as string[]).includes(reason)) return reason as ReasonCode;
  throw new SluiceError('CONFIG_INVALID', `--reason must be one of ${REASON_CODES.join(', ')}; found "${reason}"`);
}

/** Values safe for JSON.stringify and for people: big integers as text, bytes as hex. */
export function plainValue(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Buffer.isBuffer(value)) return `x'${value.toString('hex')}'`;
  return value;
}

export function durationMs(run: RunRow): number | null {
  if (run.finishedAt === null) return null;
  const ms = Date.parse(run.finishedAt) - Date.parse(run.startedAt);
  return Number.isFinite(ms) ? Math.max(0, ms) : null;
}
