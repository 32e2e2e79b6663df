import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Strategy } from '../../core/settings.js';
import { planMerge, type ExistingState, type MergeCandidate, type MergeOutcome } from './merge.js';

const c = (keyId: string | null, cursor: number | null, seq: number, boundary = false): MergeCandidate => ({ keyId, cursor, seq, boundary });
const context = (strategy: Strategy, existing: [string, ExistingState][] = [], runId = 2) => ({
  strategy,
  keyed: strategy !== 'append',
  runId,
  existing: new Map(existing),
  boundaryDuplicates: new Set<number>(),
});

describe('planMerge', () => {
  it('deduplicate: the first seen of a key wins, across runs too', () => {
    const plan = planMerge([c('a', null, 1), c('b', null, 2), c('a', null, 3)], context('deduplicate', [['b', { cursor: null, runId: 1, seq: 9 }]]));
    expect(plan.outcomes).toEqual(['load', 'skip-duplicate', 'skip-duplicate']);
    expect(plan.writes).toEqual([0]);
  });

  it('update: every record loads, the last of a key is written', () => {
    const plan = planMerge([c('a', null, 1), c('a', null, 2), c('b', null, 3)], context('update'));
    expect(plan.outcomes).toEqual(['load', 'load', 'load']);
    expect(plan.writes).toEqual([1, 2]);
  });

  it('upsert-newer: older is stale, equal is a duplicate, newer loads', () => {
    const existing: [string, ExistingState][] = [['a', { cursor: 10, runId: 1, seq: 1 }]];
    const plan = planMerge([c('a', 5, 1), c('a', 10, 2), c('a', 11, 3), c('a', 11, 4), c('a', 12, 5)], context('upsert-newer', existing));
    expect(plan.outcomes).toEqual(['skip-stale', 'skip-duplicate', 'load', 'skip-duplicate', 'load']);
    expect(plan.writes).toEqual([4]);
  });

  it('a boundary record an earlier run loaded is a duplicate, for update too', () => {
    const existing: [string, ExistingState][] = [['a', { cursor: 10, runId: 1, seq: 1 }]];
    const plan = planMerge([c('a', 10, 1, true), c('b', 10, 2, true)], context('update', existing));
    expect(plan.outcomes).toEqual(['skip-duplicate', 'load']);
  });

  it('deduplicate displaces a later record of the same run (parallel workers)', () => {
    const existing: [string, ExistingState][] = [['a', { cursor: null, runId: 2, seq: 50 }]];
    expect(planMerge([c('a', null, 10)], context('deduplicate', existing)).outcomes).toEqual(['load']);
  });

  /** One record at a time, the way the strategies are defined. */
  function sequential(strategy: Strategy, records: MergeCandidate[]): MergeOutcome[] {
    const state = new Map<string, number | string | null>();
    return records.map((r) => {
      const key = r.keyId as string;
      const has = state.has(key);
      const current = state.get(key) ?? null;
      let outcome: MergeOutcome = 'load';
      if (strategy === 'deduplicate' && has) outcome = 'skip-duplicate';
      if (strategy === 'upsert-newer' && has && current !== null && r.cursor !== null) {
        outcome = r.cursor > current ? 'load' : r.cursor === current ? 'skip-duplicate' : 'skip-stale';
      }
      if (outcome === 'load') state.set(key, r.cursor);
      return outcome;
    });
  }

  it('gives the same outcomes whatever the batch boundaries', () => {
    const record = fc.record({ key: fc.constantFrom('a', 'b', 'c'), cursor: fc.integer({ min: 0, max: 4 }) });
    fc.assert(
      fc.property(fc.array(record, { maxLength: 40 }), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1 }), fc.constantFrom<Strategy>('deduplicate', 'update', 'upsert-newer'), (input, cuts, strategy) => {
        const records = input.map((r, i) => c(r.key, r.cursor, i + 1));
        const expected = sequential(strategy, records);
        const existing = new Map<string, ExistingState>();
        const outcomes: MergeOutcome[] = [];
        let start = 0;
        for (let i = 0; start < records.length; i += 1) {
          const batch = records.slice(start, start + (cuts[i % cuts.length] as number));
          const plan = planMerge(batch, { strategy, keyed: true, runId: 1, existing, boundaryDuplicates: new Set() });
          outcomes.push(...plan.outcomes);
          for (const w of plan.writes) existing.set(batch[w]?.keyId as string, { cursor: batch[w]?.cursor ?? null, runId: 1, seq: batch[w]?.seq ?? 0 });
          start += batch.length;
        }
        expect(outcomes).toEqual(expected);
      }),
    );
  });
});
