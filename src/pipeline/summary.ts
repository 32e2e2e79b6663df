import type { RunCounters, RunStatus } from '../ledger/ledger.js';
import type { ExportResult } from '../stages/export/index.js';

/** What `sluice run` reports: the counters reconcile (see `reconciles`). */
export interface RunSummary extends RunCounters {
  run_id: number;
  pipeline: string;
  status: RunStatus;
  resumed: boolean;
  dry_run: boolean;
  table: string;
  db: string;
  watermark: string | null;
  watermark_before: string | null;
  target_rows: number;
  duration_ms: number;
  /** Per file: what happened, and how its columns differ from the target's. */
  files: FileReport[];
  warnings: string[];
  /**
   * replace: true when a file failed, so the table was left as it was and the records this run
   * loaded went to a new table that was dropped (lineage step `discard`). Absent otherwise.
   */
  table_kept?: true;
  /** With --output: the export of the target table after the run. */
  export?: ExportResult;
}

export interface FileReport {
  path: string;
  status: 'loaded' | 'unchanged' | 'failed' | 'changed-since-checkpoint' | 'skipped';
  records: number;
  error: string | null;
  new_columns: string[];
  missing_columns: string[];
}

/**
 * Nothing silently dropped: every input record is staged, rejected, skipped by the watermark
 * or dropped by a transform, and every staged record is loaded or skipped as stale/duplicate.
 * A transform that returns several records makes `staged + ...` exceed `input_records`, so
 * reconciliation counts records after transform (`records_out`).
 */
export function reconciles(c: RunCounters): boolean {
  return c.staged === c.loaded + c.skipped_stale + c.skipped_duplicate;
}
