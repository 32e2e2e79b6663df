/** A record-level problem: the record becomes a dead letter, the file goes on. */
import type { DecodedRecord } from './types.js';

export type RecordProblem = NonNullable<DecodedRecord['problem']>;

/**
 * What a record decoder returns instead of fields. A class so that `instanceof` tells it from a
 * fields object (which has a null prototype) without allocating a wrapper for every good record.
 */
export class Problem implements RecordProblem {
  constructor(
    readonly reason: RecordProblem['reason'],
    readonly field: string | null,
    readonly message: string,
  ) {}

  /** A plain object for the record, so it compares and serialises like any other data. */
  toJSON(): RecordProblem {
    return { reason: this.reason, field: this.field, message: this.message };
  }
}
