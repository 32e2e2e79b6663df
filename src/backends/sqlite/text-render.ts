import type { ColumnSpec } from '../backend.js';
import { quoteIdent } from '../sql.js';

/** Rows per text batch: about 80 KB of text for the bench's seven columns. */
export const TEXT_BATCH_ROWS = 1000;

/** The statements a text stream runs, all inside one read transaction (one snapshot). */
export interface TextRenderSql {
  /** The first rowid. */
  first: string;
  /** The rowid TEXT_BATCH_ROWS - 1 rows after the given one, or none when fewer are left. */
  last: string;
  /** The first rowid after the given one. */
  next: string;
  /**
   * The rows between two rowids rendered: their count, whether they must go as values instead
   * (a BLOB, or a blank cell in a required column), the text's bytes.
   */
  range: string;
  /** The rows from a rowid to the end, rendered. */
  tail: string;
  /** The same rows as values, for batches the text cannot carry. */
  rangeRows: string;
  tailRows: string;
}

/**
 * The SQL that has SQLite write rows out as text: each cell as SQLite renders its value, cells
 * joined by two unit separators and rows by a record separator (the TextBatch layout). Scans
 * go `NOT INDEXED` so rows come in rowid order, the order streamRowBatches reads them in.
 */
export function textRenderSql(table: string, columns: readonly ColumnSpec[], required: readonly string[] = []): TextRenderSql {
  const from = `FROM ${quoteIdent(table)} NOT INDEXED`;
  const row = inGroups(columns.map(renderedCell), (cells) => `concat(${cells.join(', char(31, 31), ')})`);
  const blobs = columns.map((c) => `typeof(max(${quoteIdent(c.name)})) = 'blob'`);
  const anyOf = (tests: readonly string[]): string => inGroups(tests, (group) => `(${group.join(' OR ')})`);
  const blank = required.length > 0 ? [`max(${anyOf(required.map((name) => blankTest(quoteIdent(name))))})`] : [];
  const asValues = anyOf([...blobs, ...blank]);
  // As a BLOB: the text's UTF-8 as SQLite holds it, never decoded into a JavaScript string.
  const rendered = `SELECT count(*), ${asValues}, CAST(group_concat(${row}, char(30)) AS BLOB) ${from}`;
  const values = `SELECT ${columns.map((c) => quoteIdent(c.name)).join(', ')} ${from}`;
  return {
    first: `SELECT min(rowid) ${from}`,
    last: `SELECT rowid ${from} WHERE rowid >= ? ORDER BY rowid LIMIT 1 OFFSET ${TEXT_BATCH_ROWS - 1}`,
    next: `SELECT min(rowid) ${from} WHERE rowid > ?`,
    range: `${rendered} WHERE rowid BETWEEN ? AND ?`,
    tail: `${rendered} WHERE rowid >= ?`,
    rangeRows: `${values} WHERE rowid BETWEEN ? AND ? ORDER BY rowid`,
    tailRows: `${values} WHERE rowid >= ? ORDER BY rowid`,
  };
}

/**
 * The characters JavaScript's String.prototype.trim() removes: white space (Zs and the ASCII
 * ones, U+FEFF) and line terminators. As an SQL literal: trim() takes it as a set of characters.
 */
const JS_TRIMMED = `'${String.fromCodePoint(9, 10, 11, 12, 13, 32, 0xa0, 0x1680, ...range(0x2000, 0x200a), 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff)}'`;

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/**
 * A cell the export's --require check calls blank (scan.ts: null, or text that is only white
 * space), in SQL. Only text that is empty or starts with a character below '!' or from U+00A0 on
 * may be blank, and only that is trimmed: comparisons with constants are cheap, trim() is not
 * (+1.2 s over the bench's 786,529 rows, against +0.2 s). A CASE, since SQLite evaluates both
 * sides of an AND. A number sorts before any text, a BLOB after it (and goes as values anyway).
 */
function blankTest(cell: string): string {
  const mayBeBlank = `${cell} >= '\u00a0' OR (${cell} < '!' AND ${cell} >= '')`;
  return `CASE WHEN ${cell} IS NULL THEN 1 WHEN ${mayBeBlank} THEN trim(${cell}, ${JS_TRIMMED}) = '' ELSE 0 END`;
}

/** Columns per nested concat() or OR group: SQLite allows 1,000 arguments and a depth of 1,000. */
const GROUP = 100;

/**
 * `join` over the items, nested in groups of GROUP for a wide table (a group of groups is joined
 * the same way), so no call or chain meets SQLite's limits.
 */
function inGroups(items: readonly string[], join: (items: readonly string[]) => string): string {
  if (items.length <= GROUP) return join(items);
  const groups: string[] = [];
  for (let i = 0; i < items.length; i += GROUP) groups.push(join(items.slice(i, i + GROUP)));
  return inGroups(groups, join);
}

/**
 * SQLite writes a whole REAL as `5.0` where JavaScript writes `5`: a REAL column's whole values
 * (below 1e15, where both write every digit) are rendered as integers. Other columns may hold a
 * REAL too; those are caught by RENDERED_DIFFERENTLY.
 */
function renderedCell(column: ColumnSpec): string {
  const name = quoteIdent(column.name);
  if (column.type !== 'real') return name;
  return `iif(${name} = CAST(${name} AS INTEGER) AND abs(${name}) < 1e15, CAST(${name} AS INTEGER), ${name})`;
}

/**
 * Where SQLite's text of a REAL may differ from JavaScript's String(): `5.0`, an exponent
 * (`1.0e+20`, `1.0e-05`), 16 or 17 significant digits (`0.33333333333333332`, where JavaScript
 * writes the shortest that reads back, `0.3333333333333333`), `Inf`. Up to 15 significant digits
 * both write the same shortest text. Every such REAL has a point: found at the point, with 8 or
 * more digits on one side standing for "maybe 16". Text that looks so (`1.0`, a long decimal)
 * only costs the batch the slower path.
 */
// eslint-disable-next-line no-control-regex -- the TextBatch separators end a cell
export const RENDERED_DIFFERENTLY = /\.(?:0(?:[\u001e\u001f]|$)|\d{8}|\d*e[+-]|(?<=\d{8}\.))|Inf/;
