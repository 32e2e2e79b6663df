import { RowsRefused, type Backend, type BackendTx, type ExistingRow, type LineageEntry, type TargetSpec, type WriteMode } from '../backends/backend.js';
import { keyIdentity } from '../core/record.js';
import type { Strategy } from '../core/settings.js';
import type { CursorValue, DeadLetterInput, RunCounters, WaitingRepeats } from '../ledger/ledger.js';
import { planMerge, type ExistingState, type MergeContext, type MergeOutcome } from '../stages/merge/index.js';
import { addWaiting, noLettersWaiting, type Batch, type BatchCheckpoint, type LettersWaiting, type Staged } from './batch.js';
import { crashPoint } from './crash-points.js';
import { safeJson } from './record-flow.js';
import type { ColumnSet } from './columns.js';

const WRITE_MODES: Record<Strategy, WriteMode> = {
  append: 'insert',
  deduplicate: 'first-wins',
  update: 'last-wins',
  'upsert-newer': 'newer-wins',
  replace: 'last-wins',
};

const OUTCOME_COUNTER: Record<MergeOutcome, keyof RunCounters> = {
  load: 'loaded',
  'skip-stale': 'skipped_stale',
  'skip-duplicate': 'skipped_duplicate',
};
const MERGE_OUTCOMES = Object.keys(OUTCOME_COUNTER) as MergeOutcome[];

type FoundLetter = WaitingRepeats['found'][number];

/** The parts of a run that every batch commit needs. */
export interface CommitContext {
  backend: Backend;
  runId: number;
  pipeline: string;
  /** The table written to: the target, or the run's shadow table for `replace`. */
  table: string;
  strategy: Strategy;
  /** The unique key of the table: set for the keyed strategies (and keyed replace) only. */
  key: string | null;
  cursorField: string | null;
  cursorType: 'real' | 'text' | null;
  rowHash: boolean;
  columns: ColumnSet;
  /** Largest cursor loaded so far in the run. */
  maxCursor: CursorValue | null;
  ensuredVersion: number;
  lastHeartbeat: number;
  /** Ids of the run's files under paths an earlier version stored relative (rereads.ts). */
  fileAliases: ReadonlyMap<number, number>;
}

export function writeMode(strategy: Strategy, keyed: boolean): WriteMode {
  return keyed ? WRITE_MODES[strategy] : 'insert';
}

export function targetSpec(context: CommitContext): TargetSpec {
  return { table: context.table, columns: context.columns.list(), key: context.key, cursor: context.cursorType, rowHash: context.rowHash };
}

export interface FileFingerprint {
  path: string;
  size: number;
  hash: string;
}

/** What a committed batch did that its file's report tells. */
export interface BatchCommitted {
  lettersWaiting: LettersWaiting;
}

/** The file a batch comes from; null for replayed dead letters. */
export interface BatchSource {
  fingerprint: FileFingerprint;
  /** Whether the batch ends its file, asked once all its slices are written. */
  endsFile(): boolean;
}

/**
 * Commits one batch in ONE transaction: merged rows, lineage, dead letters, counters and the
 * checkpoint (and the file's ledger entry when the batch ends a file). A crash anywhere before
 * COMMIT leaves none of it; after COMMIT, all of it. The batch comes in slices, each written as
 * it arrives (a later slice's merge sees the earlier slices' rows), so the records of a slice
 * are garbage by the time the next one is read.
 */
export async function commitBatch(context: CommitContext, slices: Iterable<Batch> | AsyncIterable<Batch>, source: BatchSource | null): Promise<BatchCommitted> {
  // Until COMMIT, what the batch did to the run's state is tentative: a rollback (a file that
  // fails to decode mid-batch) must leave it as it was.
  const ensuredBefore = context.ensuredVersion;
  let maxCursor = context.maxCursor;
  const committed: BatchCommitted = { lettersWaiting: noLettersWaiting() };
  try {
    await context.backend.transaction(async (tx) => {
      let checkpoint: BatchCheckpoint | null = null;
      committed.lettersWaiting = noLettersWaiting();
      for await (const slice of slices) {
        maxCursor = await writeSlice(context, tx, slice, maxCursor);
        addWaiting(committed.lettersWaiting, slice.lettersWaiting);
        checkpoint = slice.checkpoint ?? checkpoint;
      }
      await finishBatch(context, tx, checkpoint, source);
      crashPoint('before-commit');
    });
  } catch (error) {
    context.ensuredVersion = ensuredBefore;
    throw error;
  }
  context.maxCursor = maxCursor;
  crashPoint('after-commit');
  return committed;
}

/** Writes one slice inside its batch's transaction; returns the run's largest cursor loaded since. */
async function writeSlice(context: CommitContext, tx: BackendTx, slice: Batch, maxBefore: CursorValue | null): Promise<CursorValue | null> {
  const spec = targetSpec(context);
  // The table is created, or altered for new columns, only when rows are about to be written.
  if (slice.staged.length > 0 && context.ensuredVersion !== context.columns.version) {
    await tx.ensureTarget(spec);
    context.ensuredVersion = context.columns.version;
  }
  const maxCursor = await mergeStaged(context, tx, spec, slice, maxBefore);
  await tx.ledger.insertLineage(context.runId, slice.lineage);
  const letters = await newDeadLetters(context, tx, slice);
  // Before the new letters go in: they are this run's, never superseded by it.
  await supersedeLetters(context, tx, slice, letters.foundAgain);
  await tx.ledger.insertDeadLetters(context.runId, context.pipeline, letters.stored);
  if (slice.replayed.length > 0) await tx.ledger.markReplayed(slice.replayed.map((letter) => letter.id), context.runId);
  // Counted as read: a staged record has two entries (stage, then its outcome), one stored.
  slice.count('lineage_entries', slice.lineage.length + slice.staged.length);
  await tx.ledger.addCounters(context.runId, slice.counters, maxCursor === maxBefore ? null : maxCursor);
  return maxCursor;
}

/**
 * The slice's dead letters less those already waiting from an earlier read of the same file
 * (same line and text): a file read again stores each invalid record once, so replaying the
 * letters loads it once. The records still count as rejected, in this run's lineage too.
 */
async function newDeadLetters(context: CommitContext, tx: BackendTx, slice: Batch): Promise<{ stored: readonly DeadLetterInput[]; foundAgain: readonly FoundLetter[] }> {
  const found = await tx.ledger.waitingRepeats(context.pipeline, slice.deadLetters, context.runId, context.fileAliases);
  if (found.positions.length === 0) return { stored: slice.deadLetters, foundAgain: [] };
  // A waiting letter says why its record fails today, should the rules have changed.
  if (found.outdated.length > 0) await tx.ledger.updateLetterReasons(found.outdated);
  const repeats = new Set(found.positions);
  slice.count('dead_letters', -repeats.size);
  slice.lettersWaiting = { ...slice.lettersWaiting, waiting: repeats.size, refreshed: found.outdated.length };
  return { stored: slice.deadLetters.filter((_letter, i) => !repeats.has(i)), foundAgain: found.found };
}

/**
 * A file read again that holds another record (or none) at the line of a letter waiting from an
 * earlier read, or the same record passing now: the letter is superseded, so a replay never loads
 * what the file no longer says (under update, over the corrected row). Letters whose record the
 * read rejected again stay (found again, same line and text), whichever slice found them.
 */
async function supersedeLetters(context: CommitContext, tx: BackendTx, slice: Batch, foundAgain: readonly FoundLetter[]): Promise<void> {
  const lines = slice.lines;
  if (lines === null) return;
  // Most reads have no letter of an earlier run to settle: asked once, not per slice. (None can
  // appear meanwhile: the run holds the pipeline's lock.)
  lines.read.waiting ??= await tx.ledger.hasWaitingLetters(context.pipeline, lines.span.fileId, context.runId, context.fileAliases);
  if (!lines.read.waiting) return;
  for (const letter of foundAgain) lines.foundAgain.set(letter.id, letter.line);
  const { from, to } = lines.span;
  if (to !== null && to < from) return;
  const keep: number[] = [];
  for (const [id, line] of lines.foundAgain) {
    if (line < from) lines.foundAgain.delete(id); // settled by an earlier slice
    else if (to === null || line <= to) keep.push(id);
  }
  const superseded = await tx.ledger.supersedeLetters(context.pipeline, lines.span, keep, context.runId, context.fileAliases);
  slice.lettersWaiting = { ...slice.lettersWaiting, superseded };
}

/** The checkpoint the batch reached, and the file's ledger entry when the batch ends it. */
async function finishBatch(context: CommitContext, tx: BackendTx, checkpoint: BatchCheckpoint | null, source: BatchSource | null): Promise<void> {
  if (source !== null) {
    const { path, size, hash } = source.fingerprint;
    const done = source.endsFile();
    if (done) await tx.ledger.addCounters(context.runId, { files_loaded: 1 }, null);
    if (checkpoint !== null) await tx.ledger.setCheckpoint(context.runId, { ...checkpoint, status: done ? 'loaded' : 'loading', size, hash });
    if (done) await tx.ledger.markFileLoaded(context.pipeline, path, size, hash, context.runId);
  }
  await heartbeat(context);
}

const HEARTBEAT_MS = 10_000;

/** Keeps the writer lock visibly alive for holders on other hosts (they judge it by age). */
async function heartbeat(context: CommitContext): Promise<void> {
  const now = Date.now();
  if (now - context.lastHeartbeat < HEARTBEAT_MS) return;
  context.lastHeartbeat = now;
  await context.backend.ledger.heartbeat(context.pipeline, process.pid, context.runId);
}

/**
 * Plans the merge against what the table holds, writes the winners, records each outcome.
 * Returns the run's largest cursor loaded: `maxBefore`, or a newer one this slice loaded.
 */
async function mergeStaged(context: CommitContext, tx: BackendTx, spec: TargetSpec, batch: Batch, maxBefore: CursorValue | null): Promise<CursorValue | null> {
  const staged = batch.staged;
  if (staged.length === 0) return maxBefore;
  const keyed = context.key !== null;
  const existing = keyed ? await lookupExisting(context, tx, staged) : new Map<string, ExistingState>();
  const boundaryDuplicates = context.rowHash ? await lookupBoundaryHashes(context, tx, staged) : new Set<number>();
  const merge: MergeContext = { strategy: context.strategy, keyed, runId: context.runId, existing, boundaryDuplicates };
  const outcomes = await writeMerged(context, tx, spec, batch, merge);
  let maxCursor = maxBefore;
  // upsert-newer skips a record only when the table holds its key at that cursor or a newer
  // one, so its cursor is covered too: a re-read after a watermark reset that finds every
  // record already there still sets the watermark back. A deduplicated key's row may be older.
  const skipsCovered = context.strategy === 'upsert-newer';
  const tally: Record<MergeOutcome, number> = { load: 0, 'skip-stale': 0, 'skip-duplicate': 0 };
  outcomes.forEach((outcome, index) => {
    if (outcome === null) return; // refused by the table: a dead letter now
    const s = staged[index] as Staged;
    tally[outcome] += 1;
    batch.lineage.push(lineage(s, outcome));
    if (s.cursorValue !== null && (outcome === 'load' || skipsCovered)) maxCursor = newer(maxCursor, s.cursorValue);
  });
  for (const outcome of MERGE_OUTCOMES) if (tally[outcome] > 0) batch.count(OUTCOME_COUNTER[outcome], tally[outcome]);
  return maxCursor;
}

/**
 * Plans the merge and writes the rows it keeps. A row the table refuses becomes a dead letter and
 * the merge is planned again without it: a record set aside for that one (an earlier version of
 * the key under update, a later duplicate, an older cursor) may be the key's row now. Rows already
 * written stay: taking a refused record out changes the plan of its own key only. Returns each
 * staged record's outcome, null for those refused.
 */
async function writeMerged(context: CommitContext, tx: BackendTx, spec: TargetSpec, batch: Batch, merge: MergeContext): Promise<(MergeOutcome | null)[]> {
  const staged = batch.staged;
  const mode = writeMode(context.strategy, merge.keyed);
  const refusedAt = new Set<number>();
  const written = new Set<number>();
  let plan = planWithout(staged, merge, refusedAt);
  let pending = plan.writes;
  for (;;) {
    const refused = await writeIsolatingRefusals(context, tx, spec, mode, pending.map((index) => staged[index] as Staged));
    if (refused.size === 0) return plan.outcomes;
    for (const [row, message] of refused) {
      const index = pending[row] as number;
      refusedAt.add(index);
      refuse(batch, spec, staged[index] as Staged, message);
    }
    for (const index of pending) if (!refusedAt.has(index)) written.add(index);
    plan = planWithout(staged, merge, refusedAt);
    pending = plan.writes.filter((index) => !written.has(index));
  }
}

/** The merge's plan for the staged records less the refused ones (whose outcome is null). */
function planWithout(staged: readonly Staged[], merge: MergeContext, refused: ReadonlySet<number>): { outcomes: (MergeOutcome | null)[]; writes: number[] } {
  if (refused.size === 0) return planMerge(staged, merge);
  const kept = staged.flatMap((_s, index) => (refused.has(index) ? [] : [index]));
  const boundaryDuplicates = new Set(kept.flatMap((index, at) => (merge.boundaryDuplicates.has(index) ? [at] : [])));
  const plan = planMerge(kept.map((index) => staged[index] as Staged), { ...merge, boundaryDuplicates });
  const outcomes: (MergeOutcome | null)[] = staged.map(() => null);
  plan.outcomes.forEach((outcome, at) => {
    outcomes[kept[at] as number] = outcome;
  });
  return { outcomes, writes: plan.writes.map((at) => kept[at] as number) };
}

/**
 * Writes the rows. A row the table refuses (a constraint of the table, a value its column cannot
 * hold) stops the write there, the rows before it in: the rest is halved until the refused rows
 * stand alone, so a few bad rows cost a few dozen statements, not one per row. Returns the
 * refused rows' positions in `rows`, with the database's reason.
 */
async function writeIsolatingRefusals(context: CommitContext, tx: BackendTx, spec: TargetSpec, mode: WriteMode, rows: readonly Staged[]): Promise<Map<number, string>> {
  const refused = new Map<number, string>();
  const write = async (from: number, to: number): Promise<void> => {
    try {
      await tx.writeRows(context.table, spec, context.runId, mode, from === 0 && to === rows.length ? rows : rows.slice(from, to));
    } catch (error) {
      if (!(error instanceof RowsRefused)) throw error;
      const failed = from + error.written;
      if (to - failed === 1) {
        refused.set(failed, error.message);
        return;
      }
      const middle = failed + Math.ceil((to - failed) / 2);
      await write(failed, middle);
      await write(middle, to);
    }
  };
  if (rows.length > 0) await write(0, rows.length);
  return refused;
}

/**
 * A staged record the table refused becomes a dead letter like any rejected record (its fields
 * as they were to be stored, as a CSV row's letter keeps them), so a replay after the table is
 * fixed loads it. It no longer counts as staged (writeMerged plans the merge again without it).
 */
function refuse(batch: Batch, spec: TargetSpec, s: Staged, message: string): void {
  const raw = safeJson(Object.fromEntries(spec.columns.map((column, i) => [column.name, s.values[i] ?? null])));
  batch.count('staged', -1);
  batch.count('lineage_entries', -1); // its implied `stage` (see writeSlice)
  // A replayed letter whose record the table refuses stays waiting.
  const replayed = batch.replayed.findIndex((letter) => letter.fileId === s.fileId && letter.line === s.line);
  if (replayed >= 0) batch.replayed.splice(replayed, 1);
  batch.reject({ fileId: s.fileId, file: s.file, line: s.line, raw }, { reason: 'refused_by_table', field: null, message }, s.lineageKey);
}

function lineage(s: Staged, step: LineageEntry['step']): LineageEntry {
  return { fileId: s.fileId, line: s.line, key: s.lineageKey, step };
}

function newer(current: CursorValue | null, candidate: CursorValue): CursorValue {
  // One comparison per loaded record: a run's cursors are all numbers or all canonical text.
  return current === null || (candidate.sortable as string) > (current.sortable as string) ? candidate : current;
}

/** The keys' current state; `update` needs it only for records on the watermark boundary. */
async function lookupExisting(context: CommitContext, tx: BackendTx, staged: readonly Staged[]): Promise<Map<string, ExistingState>> {
  const needAll = context.strategy === 'deduplicate' || context.strategy === 'upsert-newer';
  // A key repeated in the slice is looked up as often: cheaper than deduplicating the list.
  const keys: unknown[] = [];
  for (const s of staged) {
    if (s.keyId !== null && (needAll || s.boundary)) keys.push(s.key);
  }
  const rows: ExistingRow[] = await tx.lookupExisting(context.table, context.key as string, keys);
  return new Map(rows.map((row) => [keyIdentity(row.key), { cursor: row.cursor, runId: row.runId, seq: row.seq }]));
}

async function lookupBoundaryHashes(context: CommitContext, tx: BackendTx, staged: readonly Staged[]): Promise<Set<number>> {
  const hashes = staged.filter((s) => s.boundary && s.rowHash !== null).map((s) => s.rowHash as string);
  const found = await tx.lookupHashes(context.table, hashes, context.runId);
  const indexes = new Set<number>();
  staged.forEach((s, index) => {
    if (s.boundary && s.rowHash !== null && found.has(s.rowHash)) indexes.add(index);
  });
  return indexes;
}
