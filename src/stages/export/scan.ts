import type { Fields } from '../../core/record.js';

/** How many failing records a --require message lists before it only counts. */
export const LISTED_PROBLEMS = 5;

export interface RequireProblem {
  /** 1-based number of the record in the source. */
  record: number;
  /** The required fields it lacks or has empty. */
  fields: string[];
}

export interface ScanResult {
  count: number;
  /** Union of all field names in first-seen order (only when asked for). */
  columns: string[];
  /** The first few records that fail --require. */
  problems: RequireProblem[];
  problemCount: number;
}

export interface ScanOptions {
  require: readonly string[];
  collectColumns: boolean;
  signal?: AbortSignal;
}

/** A required field is missing when absent, null, or text that is empty or only whitespace. */
export function missingRequired(fields: Fields, required: readonly string[]): string[] {
  return required.filter((name) => {
    const value = fields[name];
    return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
  });
}

/**
 * One read-only pass before writing: counts records, checks --require and gathers the CSV
 * header. It keeps only the first problems and the column names, never the rows, so it runs in
 * constant memory whatever the size of the source.
 */
export async function scanRecords(rows: AsyncIterable<Fields>, options: ScanOptions): Promise<ScanResult> {
  const columns = new Set<string>();
  const result: ScanResult = { count: 0, columns: [], problems: [], problemCount: 0 };
  for await (const fields of rows) {
    options.signal?.throwIfAborted();
    result.count += 1;
    if (options.collectColumns) for (const key in fields) columns.add(key);
    if (options.require.length === 0) continue;
    const missing = missingRequired(fields, options.require);
    if (missing.length === 0) continue;
    result.problemCount += 1;
    if (result.problems.length < LISTED_PROBLEMS) result.problems.push({ record: result.count, fields: missing });
  }
  result.columns = [...columns];
  return result;
}

/** `nothing exported to out.csv: 3 of 40 records lack required fields: record 2 (email); …` */
export function requireFailureMessage(display: string, scan: ScanResult): string {
  const listed = scan.problems.map((p) => `record ${p.record} (${p.fields.join(', ')})`).join('; ');
  const more = scan.problemCount > scan.problems.length ? `; and ${scan.problemCount - scan.problems.length} more` : '';
  const noun = scan.problemCount === 1 ? 'record lacks' : 'records lack';
  return `nothing exported to ${display}: ${scan.problemCount} of ${scan.count} ${noun} required fields: ${listed}${more}`;
}
