import type { SourceBatch } from '../../core/row-batch.js';

export type ExportFormat = 'json' | 'csv' | 'ndjson';

export const EXPORT_FORMATS: readonly ExportFormat[] = ['json', 'csv', 'ndjson'];

/**
 * A re-iterable source of records, in batches of rows (an await or an object per record would
 * cost more than its encoding), as values or as text the database wrote: every call starts a
 * fresh pass from the first record. Passes (require check, CSV header) are made by calling it
 * again instead of holding rows in memory.
 */
export type RowSource = () => AsyncIterable<SourceBatch>;

export interface ExportResult {
  status: 'exported' | 'dry-run';
  /** Records written (or, for a dry run, that would be written). */
  exported: number;
  format: ExportFormat;
  /** The output path as given. */
  path: string;
  /** Where the previous file was kept, when `backup` was asked for and there was one. */
  backup: string | null;
}
