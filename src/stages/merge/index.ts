export { planMerge } from './merge.js';
export type { MergeCandidate, ExistingState, MergeOutcome, MergePlan, MergeContext } from './merge.js';
