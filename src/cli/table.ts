/**
 * Aligned text tables for people, readable at 80 columns. A table that would be wider truncates
 * the columns that allow it (with …), widest first, down to their minimum; only when that is not
 * enough does it tighten the gap between columns from two spaces to one.
 * `--json` is where full values go; a table is for reading.
 */
export interface Column {
  header: string;
  /** Numbers right, text left (default). */
  align?: 'left' | 'right';
  /** Never wider than this: longer cells are truncated with …. */
  max?: number;
  /** May shrink down to this width when the table is too wide; absent: never shrinks. */
  min?: number;
  /** The end of a truncated cell to keep: the start (default) or the end (paths, where the file name is). */
  keep?: 'start' | 'end';
}

export const SCREEN_WIDTH = 80;
const ELLIPSIS = '…';

/** Code points, so an accented name counts one per character. */
const widthOf = (text: string): number => [...text].length;

/** One line of text: control characters and line breaks become spaces. */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
}

/** Fits `text` into `width` columns, cutting the end (or the start) with …. */
export function truncate(text: string, width: number, keep: 'start' | 'end' = 'start'): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  if (width <= 1) return ELLIPSIS.slice(0, width);
  return keep === 'start' ? chars.slice(0, width - 1).join('') + ELLIPSIS : ELLIPSIS + chars.slice(chars.length - width + 1).join('');
}

function pad(text: string, width: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, width - widthOf(text)));
  return align === 'right' ? fill + text : text + fill;
}

export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[], width = SCREEN_WIDTH): string {
  const cells = rows.map((row) => columns.map((_, i) => oneLine(row[i] ?? '')));
  const widths = columns.map((column, i) => {
    const natural = Math.max(widthOf(column.header), ...cells.map((row) => widthOf(row[i] as string)));
    return Math.min(natural, column.max ?? Infinity);
  });
  const total = (gap: number): number => widths.reduce((sum, w) => sum + w, 0) + gap * (columns.length - 1);
  // Two spaces apart while truncating can make it fit; one only when it cannot.
  const room = columns.reduce((sum, column, i) => sum + Math.max(0, (widths[i] as number) - (column.min ?? Infinity)), 0);
  const gap = total(2) - width <= room ? 2 : 1;
  shrink(columns, widths, total(gap) - width);
  const line = (values: readonly string[]): string =>
    columns
      .map((column, i) => pad(truncate(values[i] ?? '', widths[i] as number, column.keep), widths[i] as number, column.align ?? 'left'))
      .join(' '.repeat(gap))
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

/** Takes `excess` columns off the shrinkable columns, always from the widest one. */
function shrink(columns: readonly Column[], widths: number[], excess: number): void {
  for (let left = excess; left > 0; left -= 1) {
    let widest = -1;
    columns.forEach((column, i) => {
      const room = (widths[i] as number) - (column.min ?? (widths[i] as number));
      if (room > 0 && (widest < 0 || (widths[i] as number) > (widths[widest] as number))) widest = i;
    });
    if (widest < 0) return;
    widths[widest] = (widths[widest] as number) - 1;
  }
}

/** `label  value` lines with the values aligned; a multi-line value continues under itself. */
export function renderPairs(pairs: readonly (readonly [string, string])[]): string {
  const labelWidth = Math.max(0, ...pairs.map(([label]) => widthOf(label) + 1));
  const indent = ' '.repeat(labelWidth + 1);
  return pairs
    .map(([label, value]) => `${pad(`${label}:`, labelWidth, 'left')} ${value.split('\n').join(`\n${indent}`)}`.trimEnd())
    .join('\n');
}

/** 950ms, 12.3s, 4.5min, 2.1h. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)}min`;
  return `${(ms / 3_600_000).toFixed(1)}h`;
}

/** `2025-01-15T08:00:05.123Z` → `2025-01-15 08:00` (UTC, as the ledger stores it). */
export function formatInstant(iso: string | null): string {
  if (iso === null) return '-';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return m === null ? iso : `${m[1] as string} ${m[2] as string}`;
}

export const plural = (n: number, word: string, many = `${word}s`): string => `${n} ${n === 1 ? word : many}`;
