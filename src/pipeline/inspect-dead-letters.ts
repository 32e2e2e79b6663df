import { redact } from '../backends/open-backend.js';
import type { Backend } from '../backends/backend.js';
import { SluiceError } from '../core/errors.js';
import type { ReasonCode } from '../core/record.js';
import { canonicalTimestamp } from '../core/timestamp.js';
import type { DeadLetterRow } from '../ledger/ledger.js';
import type { DeadLetterFilter } from '../ledger/queries.js';
import { checkReason, isReplayRun, onePipeline, reading, requireRun, writing, type InspectOptions } from './inspect-common.js';
import { acquirePipelineLock } from './lock.js';

export interface DeadLetterEntry {
  id: number;
  run_id: number;
  pipeline: string;
  file: string;
  line: number;
  reason: ReasonCode;
  field: string | null;
  message: string;
  /** The record as read (JSON sources: their text; CSV and text lines: the decoded fields as JSON). */
  raw: string;
  created_at: string;
  /** The run that replayed it (`sluice dead-letters replay`); null otherwise. */
  replayed_by: number | null;
  /**
   * The run that read its file again and did not find this failing record at its line (changed,
   * removed, or passing now): the letter no longer stands for what the file says, and is never
   * replayed. Null otherwise.
   */
  superseded_by: number | null;
}

export interface DeadLetterListOptions extends InspectOptions {
  runId?: number;
  reason?: string;
  /** The newest N that match (default 50), listed oldest first. */
  limit?: number;
  /** Include the resolved ones, replayed or superseded (hidden by default: they are dealt with). */
  all?: boolean;
}

export interface DeadLetterList {
  dead_letters: DeadLetterEntry[];
  /** How many match in all (the list stops at the limit). */
  matching: number;
  /** Resolved ones (replayed or superseded) that match but were left out (see `all`). */
  resolved_hidden: number;
}

/** The runs that resolved the letters, and which of them were replays (the others superseded). */
async function replayRuns(backend: Backend, letters: readonly DeadLetterRow[]): Promise<Set<number>> {
  const replays = new Set<number>();
  for (const id of new Set(letters.map((d) => d.replayedBy))) {
    if (id === null) continue;
    const run = await backend.ledger.getRun(id);
    if (run !== null && isReplayRun(run)) replays.add(id);
  }
  return replays;
}

function entry(d: DeadLetterRow, replays: ReadonlySet<number>): DeadLetterEntry {
  const replayed = d.replayedBy !== null && replays.has(d.replayedBy);
  return {
    id: d.id,
    run_id: d.runId,
    pipeline: d.pipeline,
    file: d.file,
    line: d.line,
    reason: d.reason,
    field: d.field,
    message: d.message,
    raw: d.raw,
    created_at: d.createdAt,
    replayed_by: replayed ? d.replayedBy : null,
    superseded_by: replayed ? null : d.replayedBy,
  };
}

/** `sluice dead-letters list`. */
export async function listDeadLetters(options: DeadLetterListOptions): Promise<DeadLetterList> {
  const reason = checkReason(options.reason);
  return reading<DeadLetterList>(options.db, { dead_letters: [], matching: 0, resolved_hidden: 0 }, async (backend) => {
    if (options.runId !== undefined) await requireRun(backend, options.runId, options.pipeline);
    const filter: DeadLetterFilter = { pipeline: options.pipeline, runId: options.runId, reason, waitingOnly: options.all !== true };
    const rows = await backend.queries.listDeadLetters(filter, options.limit ?? 50);
    const matching = await backend.queries.countDeadLetters(filter);
    const everything = options.all === true ? matching : await backend.queries.countDeadLetters({ ...filter, waitingOnly: false });
    const replays = await replayRuns(backend, rows);
    return { dead_letters: rows.reverse().map((d) => entry(d, replays)), matching, resolved_hidden: everything - matching };
  });
}

export interface DeadLetterDetail extends DeadLetterEntry {
  /** `raw` parsed, when it is JSON; null otherwise. Numbers beyond 2^53 round here: `raw` is exact. */
  raw_json: unknown;
}

/** `sluice dead-letters show ID`. */
export async function showDeadLetter(options: { db: string; id: number }): Promise<DeadLetterDetail> {
  const notFound = (): SluiceError =>
    new SluiceError('DEAD_LETTER_NOT_FOUND', `dead letter ${options.id} not found in ${redact(options.db)}`, {
      hint: `list them with: sluice dead-letters list --db ${redact(options.db)}`,
    });
  const found = await reading<DeadLetterDetail | null>(options.db, null, async (backend) => {
    const letter = await backend.queries.getDeadLetter(options.id);
    return letter === null ? null : { ...entry(letter, await replayRuns(backend, [letter])), raw_json: parseJson(letter.raw) };
  });
  if (found === null) throw notFound();
  return found;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

export interface PurgeOptions extends InspectOptions {
  runId?: number;
  /** A date or timestamp (ISO-8601; without an offset: UTC): dead letters created before it. */
  before?: string;
  /** Without it nothing is deleted: the result says how many would be. */
  confirm: boolean;
}

export interface PurgeResult {
  /** The pipeline purged, or null for a whole run (`run_id`). */
  pipeline: string | null;
  run_id: number | null;
  before: string | null;
  matched: number;
  deleted: number;
}

/** `sluice dead-letters purge --before DATE | --run ID [--yes]`. */
export async function purgeDeadLetters(options: PurgeOptions): Promise<PurgeResult> {
  if ((options.runId === undefined) === (options.before === undefined)) {
    throw new SluiceError('CONFIG_INVALID', 'sluice dead-letters purge needs exactly one of --before DATE or --run ID', {
      hint: `for example: sluice dead-letters purge --db ${redact(options.db)} --before 2025-01-31 --yes`,
    });
  }
  const before = options.before === undefined ? undefined : instant(options.before);
  return writing(options.db, async (backend) => {
    const filter: DeadLetterFilter = { before };
    let pipeline: string | null = null;
    let owner: string;
    if (options.runId !== undefined) {
      const run = await requireRun(backend, options.runId, options.pipeline);
      filter.runId = run.id;
      owner = run.pipeline;
    } else {
      pipeline = await onePipeline(backend, options.pipeline);
      filter.pipeline = pipeline;
      owner = pipeline;
    }
    // Under the pipeline's lock, as the other repairs: never beside a run that is storing letters.
    const release = await acquirePipelineLock(backend, owner);
    try {
      await refuseUnfinished(backend, owner);
      const matched = await backend.queries.countDeadLetters(filter);
      const deleted = options.confirm && matched > 0 ? await backend.queries.deleteDeadLetters(filter) : 0;
      return { pipeline, run_id: options.runId ?? null, before: before ?? null, matched, deleted };
    } finally {
      await release();
    }
  });
}

/**
 * An unfinished run counts the letters it stored; deleting some would leave its counters and its
 * lineage's rejects pointing at letters that are gone once it completes.
 */
async function refuseUnfinished(backend: Backend, pipeline: string): Promise<void> {
  const unfinished = await backend.ledger.findUnfinishedRun(pipeline);
  if (unfinished === null) return;
  throw new SluiceError('CONFIG_INVALID', `run ${unfinished.id} of pipeline ${pipeline} is unfinished; purge dead letters once it has completed`, {
    hint: `finish it first: sluice status --db ${redact(backend.location)} --pipeline ${pipeline} shows the command that resumes it`,
  });
}

/** A user's date as the ledger stores instants: `2025-01-31` → `2025-01-31T00:00:00.000Z`. */
function instant(text: string): string {
  const canonical = canonicalTimestamp(text);
  if (canonical === null) {
    throw new SluiceError('CONFIG_INVALID', `--before expects a date or timestamp like 2025-01-31 or 2025-01-31T12:00:00Z; found "${text}"`);
  }
  // Canonical form has nanoseconds; created_at has milliseconds, as Date.toISOString writes it.
  return `${canonical.slice(0, 23)}Z`;
}
