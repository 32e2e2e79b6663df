import type { Strategy } from '../../core/settings.js';

/** One staged record of a batch, as merge needs to see it. */
export interface MergeCandidate {
  /** Identity of the key (type and value), or null when the strategy has no key. */
  keyId: string | null;
  cursor: number | string | null;
  /** Cursor equals the run's starting watermark: it may have been loaded already. */
  boundary: boolean;
  /** Order in the run: later files and later lines have larger seq. */
  seq: number;
}

/** What the target holds for a key before this batch. */
export interface ExistingState {
  cursor: number | string | null;
  runId: number;
  seq: number;
}

export type MergeOutcome = 'load' | 'skip-stale' | 'skip-duplicate';

export interface MergePlan {
  /** One outcome per candidate, in candidate order. */
  outcomes: MergeOutcome[];
  /** Indexes of the candidates to write, at most one per key for the keyed strategies. */
  writes: number[];
}

export interface MergeContext {
  strategy: Strategy;
  /** Whether the target is keyed (`replace` may or may not be). */
  keyed: boolean;
  runId: number;
  existing: ReadonlyMap<string, ExistingState>;
  /** Candidate indexes whose row an earlier run already loaded (boundary duplicates by row hash). */
  boundaryDuplicates: ReadonlySet<number>;
}

/**
 * Decides each record's outcome exactly as if the records were applied one at a time in
 * (file, line) order, so results and counters do not depend on batch size or crashes:
 * - append: every record loads.
 * - deduplicate: the first seen of a key loads; later ones are duplicates.
 * - update (and keyed replace): every record loads; the last seen stands.
 * - upsert-newer: a record loads only when its cursor is newer than the key's current one;
 *   an older one is stale, an equal one a duplicate (of the first seen with that cursor).
 * A record on the watermark boundary that is already in the target is a duplicate.
 * The writes are what the target must end up with; the backend applies them with guards.
 */
export function planMerge(candidates: readonly MergeCandidate[], context: MergeContext): MergePlan {
  // A key's state within the batch is its last loaded candidate (this run's): no object per load.
  const lastWrite = new Map<string, number>();
  const outcomes: MergeOutcome[] = [];
  const writes: number[] = [];
  candidates.forEach((candidate, index) => {
    const key = candidate.keyId;
    if (!context.keyed || key === null) {
      const outcome: MergeOutcome = context.boundaryDuplicates.has(index) ? 'skip-duplicate' : 'load';
      outcomes.push(outcome);
      if (outcome === 'load') writes.push(index);
      return;
    }
    const outcome = judgeKey(candidate, key, candidates, lastWrite, context);
    outcomes.push(outcome);
    if (outcome === 'load') lastWrite.set(key, index);
  });
  if (context.keyed) writes.push(...[...lastWrite.values()].sort((a, b) => a - b));
  return { outcomes, writes };
}

/** A candidate against its key's last load in the batch, else against what the table holds. */
function judgeKey(candidate: MergeCandidate, key: string, candidates: readonly MergeCandidate[], lastWrite: ReadonlyMap<string, number>, context: MergeContext): MergeOutcome {
  const last = lastWrite.get(key);
  if (last !== undefined) {
    const loaded = candidates[last] as MergeCandidate;
    return judge(candidate, loaded.cursor, context.runId, loaded.seq, context);
  }
  const stored = context.existing.get(key);
  return stored === undefined ? 'load' : judge(candidate, stored.cursor, stored.runId, stored.seq, context);
}

/** A candidate against the key's current state: its cursor, the run that wrote it, its seq. */
function judge(candidate: MergeCandidate, cursor: number | string | null, runId: number, seq: number, context: MergeContext): MergeOutcome {
  // Loaded by an earlier run whose watermark this record sits on: already there.
  const loadedBefore = runId !== context.runId && cursor !== null && cursor === candidate.cursor;
  if (candidate.boundary && loadedBefore) return 'skip-duplicate';
  switch (context.strategy) {
    case 'deduplicate':
      // An earlier record of the same run that landed later (parallel workers) is displaced.
      return runId === context.runId && seq > candidate.seq ? 'load' : 'skip-duplicate';
    case 'upsert-newer':
      if (candidate.cursor === null || cursor === null) return 'load';
      if (candidate.cursor !== cursor) return candidate.cursor > cursor ? 'load' : 'skip-stale';
      // Equal cursors: the first seen wins, as for deduplicate (parallel workers land in any order).
      return runId === context.runId && seq > candidate.seq ? 'load' : 'skip-duplicate';
    case 'append':
    case 'update':
    case 'replace':
      return 'load';
  }
}
