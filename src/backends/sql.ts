import type { ColumnSpec, TargetSpec } from './backend.js';

/**
 * Identifier quoting shared by the SQL backends. Any text is a valid column name once quoted:
 * a CSV header like `x"); DROP TABLE t; --` is just a (strange) column name.
 */
export function quoteIdent(name: string): string {
  if (name.includes('\u0000')) throw new Error(`identifier contains a NUL byte: ${JSON.stringify(name)}`);
  return `"${name.replaceAll('"', '""')}"`;
}

/** Bookkeeping columns every target row carries. */
export const META = {
  runId: '_sluice_run_id',
  source: '_sluice_source',
  seq: '_sluice_seq',
  cursor: '_sluice_cursor',
  hash: '_sluice_hash',
} as const;

export function isMetaColumn(name: string): boolean {
  return name.startsWith('_sluice_');
}

/** Rows per multi-row statement: few round trips, within the bound-parameter limit. */
export function rowsPerStatement(paramsPerRow: number, maxParams: number, cap = 500): number {
  return Math.max(1, Math.min(cap, Math.floor(maxParams / Math.max(1, paramsPerRow))));
}

export function placeholders(rows: number, perRow: number): string {
  return repeatRow(rows, `(${new Array<string>(perRow).fill('?').join(',')})`);
}

/** A multi-row VALUES list: `row` (one row's parenthesized expressions) `rows` times. */
export function repeatRow(rows: number, row: string): string {
  return new Array<string>(rows).fill(row).join(',');
}

/** The bookkeeping columns a target table carries, in the order every backend creates them. */
export function metaColumns(spec: TargetSpec): ColumnSpec[] {
  const meta: ColumnSpec[] = [
    { name: META.runId, type: 'integer' },
    { name: META.source, type: 'text' },
    { name: META.seq, type: 'integer' },
  ];
  if (spec.cursor !== null) meta.push({ name: META.cursor, type: spec.cursor });
  if (spec.rowHash) meta.push({ name: META.hash, type: 'text' });
  return meta;
}
