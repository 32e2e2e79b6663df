import { neutralizeFormula } from './formula-guard.js';

/** RFC 4180: a field holding a quote, a comma or a line break is quoted. */
const NEEDS_QUOTES = /[",\r\n]/;

/** RFC 4180 line ending. */
export const CSV_EOL = '\r\n';

export interface CsvOptions {
  /** Neutralize cells a spreadsheet would run as formulas (default on). */
  formulaGuard: boolean;
}

/**
 * One value as CSV cell text: null/undefined → empty cell, nested objects and arrays → JSON
 * text, dates → ISO 8601, then RFC 4180 quoting. The guard applies to text only: numbers and
 * JSON text cannot start a formula.
 */
export function csvCell(value: unknown, options: CsvOptions): string {
  if (typeof value === 'string') return quoted(options.formulaGuard ? neutralizeFormula(value) : value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  return quoted(JSON.stringify(value));
}

function quoted(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A row's values as one CSV line; `undefined` (a field the record lacks) is an empty cell. */
export function csvLine(values: readonly unknown[], options: CsvOptions): string {
  let line = values.length > 0 ? csvCell(values[0], options) : '';
  for (let i = 1; i < values.length; i += 1) line += ',' + csvCell(values[i], options);
  // In a one-column file an empty cell would be a blank line, which readers skip as no record.
  return (line === '' ? '""' : line) + CSV_EOL;
}

/** The header line; column names are guarded too (a column may be called `=cmd()`). */
export function csvHeader(columns: readonly string[], options: CsvOptions): string {
  return columns.map((name) => csvCell(name, options)).join(',') + CSV_EOL;
}
