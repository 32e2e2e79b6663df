import { batchRows, type SourceBatch } from '../../core/row-batch.js';

/** How many failing records a --require message lists before it only counts. */
export const LISTED_PROBLEMS = 5;

export interface RequireProblem {
  /** 1-based number of the record in the source. */
  record: number;
  /** The required fields it lacks or has empty. */
  fields: string[];
}

/** Records counted, and those that fail --require: the first few, and how many. */
export interface RequireTally {
  count: number;
  /** The first few records that fail --require. */
  problems: RequireProblem[];
  problemCount: number;
}

export interface ScanResult extends RequireTally {
  /** Union of all field names in first-seen order (only when asked for). */
  columns: string[];
}

export interface ScanOptions {
  require: readonly string[];
  collectColumns: boolean;
  signal?: AbortSignal;
}

/** The required fields a row lacks, for rows with these columns. */
export type RequiredCheck = (values: readonly unknown[]) => string[];

/**
 * A required field is missing when absent, null, or text that is empty or only whitespace. Made
 * once per column list: the positions of the required fields are looked up once.
 */
export function requiredCheck(columns: readonly string[], required: readonly string[]): RequiredCheck {
  if (required.length === 0) return () => [];
  const at = required.map((name) => columns.indexOf(name));
  return (values) => required.filter((_name, i) => isBlank(at[i] === -1 ? undefined : values[at[i] as number]));
}

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/**
 * One read-only pass before writing: counts records, checks --require and gathers the CSV
 * header. It keeps only the first problems and the column names, never the rows, so it runs in
 * constant memory whatever the size of the source.
 */
export async function scanRecords(batches: AsyncIterable<SourceBatch>, options: ScanOptions): Promise<ScanResult> {
  const columns = new Set<string>();
  const result: ScanResult = { count: 0, columns: [], problems: [], problemCount: 0 };
  for await (const batch of batches) {
    options.signal?.throwIfAborted();
    if (options.collectColumns) for (const name of batch.columns) columns.add(name);
    const check = requiredCheck(batch.columns, options.require);
    for (const values of await batchRows(batch)) {
      result.count += 1;
      const missing = check(values);
      if (missing.length === 0) continue;
      result.problemCount += 1;
      if (result.problems.length < LISTED_PROBLEMS) result.problems.push({ record: result.count, fields: missing });
    }
  }
  result.columns = [...columns];
  return result;
}

/** `nothing exported to out.csv: 3 of 40 records lack required fields: record 2 (email); …` */
export function requireFailureMessage(display: string, scan: RequireTally): string {
  const listed = scan.problems.map((p) => `record ${p.record} (${p.fields.join(', ')})`).join('; ');
  const more = scan.problemCount > scan.problems.length ? `; and ${scan.problemCount - scan.problems.length} more` : '';
  const noun = scan.count === 1 ? 'record' : 'records';
  const verb = scan.problemCount === 1 ? 'lacks' : 'lack';
  return `nothing exported to ${display}: ${scan.problemCount} of ${scan.count} ${noun} ${verb} required fields: ${listed}${more}`;
}
