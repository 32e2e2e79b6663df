import { createHash } from 'node:crypto';
import { SluiceError } from '../core/errors.js';
import { displayValue, keyIdentity, type Fields, type Rejection } from '../core/record.js';
import type { Format } from '../core/settings.js';
import type { CursorValue } from '../ledger/ledger.js';
import type { DecodedRecord } from '../stages/decode/index.js';
import type { Normalizer } from '../stages/normalize/index.js';
import { applyTransform, type TransformFn } from '../stages/transform/index.js';
import { validateRecord, type ValidateRules } from '../stages/validate/index.js';
import { judgeCursor, type CursorSpec } from '../stages/watermark/index.js';
import type { Batch } from './batch.js';
import type { ColumnSet } from './columns.js';

/** Everything a record passes through between decode and merge, fixed for the run. */
export interface RecordFlow {
  normalizer: Normalizer;
  transform: TransformFn | null;
  rules: ValidateRules;
  key: string | null;
  /** Make the key its text before planning and storing it (target-columns.ts). */
  keyAsText: boolean;
  cursor: CursorSpec | null;
  startWatermark: CursorValue | null;
  rowHash: boolean;
  columns: ColumnSet;
}

export interface FileContext {
  path: string;
  fileId: number;
  ordinal: number;
  format: Format;
  /** Fields this file's records had, to report the target columns it lacks. */
  seen: Set<string>;
  /** The shape (DecodedRecord.shape) of the last record staged: its fields are in `seen` and the columns. */
  staged?: readonly string[];
}

const SEQ_FILE_STRIDE = 2 ** 32;

/** Decode → normalize → transform → validate → watermark → staged (or a dead letter). */
export function routeRecord(flow: RecordFlow, file: FileContext, record: DecodedRecord, batch: Batch): void {
  batch.inputRecords += 1;
  batch.count('input_records');
  if (record.fields === null || record.problem !== undefined) {
    const problem = record.problem ?? { reason: 'malformed_row' as const, field: null, message: 'record could not be decoded' };
    batch.reject({ fileId: file.fileId, file: file.path, line: record.line, raw: record.raw }, problem, null);
    return;
  }
  const normalized = flow.normalizer.normalize(record.fields, file.path, record.shape);
  // The hot path (no transform) allocates nothing per record beyond the staged row. The record
  // keeps its shape unless normalizing renamed a field (a new object then).
  if (flow.transform === null) return stageOne(flow, file, record, normalized, batch, normalized === record.fields ? record.shape : undefined);
  const context = { file: file.path, line: record.line, index: record.position - 1 };
  const result = applyTransform(flow.transform, normalized, context);
  if (!result.ok) return rejectRecord(file, record, batch, { reason: 'transform_error', field: null, message: result.message }, null);
  if (result.records.length === 0) return batch.drop(file.fileId, record.line);
  for (const fields of result.records) stageOne(flow, file, record, fields, batch);
}

/**
 * A CSV file without a column for the key or the cursor fails as a file (its other files load,
 * exit 3) instead of turning every record into a dead letter and counting as loaded: most often
 * the flag has a typo, and once fixed, the next run reads the file. Checked when the decoder has
 * read the header (a file may have no records), with the names normalized as records' fields
 * are. With a transform, which may make the field, records decide.
 */
export function checkHeader(flow: RecordFlow, file: FileContext, names: readonly string[]): void {
  if (flow.transform !== null) return;
  const header: Fields = Object.create(null) as Fields;
  for (const name of names) header[name] = '';
  const fields = flow.normalizer.normalize(header, file.path);
  for (const [flag, field] of [['--key', flow.key], ['--cursor', flow.cursor?.field ?? null]] as const) {
    if (field === null || field in fields) continue;
    const columns = Object.keys(fields);
    throw new SluiceError('DECODE_HEADER', `${file.path}: the header has no column ${field}, the ${flag} field (its columns: ${columns.join(', ')})`, {
      file: file.path,
      line: 1,
      hint: `check ${flag}${columns.length > 0 ? `, for example ${flag} ${columns[0] ?? ''}` : ''}; the file is read again by the next run`,
    });
  }
}

function rejectRecord(file: FileContext, record: DecodedRecord, batch: Batch, rejection: Rejection, key: string | null): void {
  batch.reject({ fileId: file.fileId, file: file.path, line: record.line, raw: rawText(record, file.format) }, rejection, key);
}

function stageOne(flow: RecordFlow, file: FileContext, record: DecodedRecord, fields: Fields, batch: Batch, shape?: readonly string[]): void {
  const rejection = validateRecord(fields, flow.rules);
  const keyValue = flow.key === null ? null : keyOf(flow, fields);
  const lineageKey = keyValue === null || keyValue === undefined || keyValue === '' ? null : displayKey(keyValue);
  if (rejection !== null) return rejectRecord(file, record, batch, rejection, lineageKey);
  if (flow.key !== null && lineageKey === null) {
    return rejectRecord(file, record, batch, { reason: 'missing_key', field: flow.key, message: `key field ${flow.key} is missing or empty` }, null);
  }
  let cursor: CursorValue | null = null;
  let boundary = false;
  if (flow.cursor !== null) {
    const verdict = judgeCursor(fields, flow.cursor, flow.startWatermark);
    if (verdict.kind === 'reject') return rejectRecord(file, record, batch, verdict.rejection, lineageKey);
    if (verdict.kind === 'skip') return batch.skipWatermark(file.fileId, record.line, lineageKey);
    cursor = verdict.cursor;
    boundary = verdict.boundary;
  }
  // Fields of the shape staged last are known already (a CSV file's records share one).
  if (shape === undefined || shape !== file.staged) {
    for (const name in fields) file.seen.add(name);
    flow.columns.observe(fields);
    file.staged = shape;
  }
  batch.stage({
    values: flow.columns.valuesOf(fields),
    key: keyValue,
    keyId: flow.key === null ? null : keyIdentity(keyValue),
    cursor: cursor?.sortable ?? null,
    cursorValue: cursor,
    boundary,
    rowHash: flow.rowHash ? hashFields(fields) : null,
    seq: file.ordinal * SEQ_FILE_STRIDE + record.position,
    file: file.path,
    fileId: file.fileId,
    line: record.line,
    lineageKey,
  });
}

/** The key as the table compares it; after validation, so a --schema still sees the value given. */
function keyOf(flow: RecordFlow, fields: Fields): unknown {
  const key = flow.key as string;
  const value = fields[key];
  if (!flow.keyAsText || typeof value === 'string' || value === null || value === undefined) return value;
  const text = typeof value === 'object' ? safeJson(value) : String(value);
  fields[key] = text;
  return text;
}

function displayKey(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'bigint' ? value.toString() : displayValue(value);
}

/**
 * What a dead letter keeps as the raw record: JSON sources keep their text; CSV rows and text
 * lines keep their decoded fields as JSON, since a CSV row means nothing without its header and
 * replay needs the field names.
 */
function rawText(record: DecodedRecord, format: Format): string {
  if (format === 'json' || format === 'ndjson' || record.fields === null) return record.raw;
  return safeJson(record.fields);
}

export function safeJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** Row identity for the unkeyed watermark boundary: the same fields and values, the same hash. */
function hashFields(fields: Fields): string {
  return createHash('sha1').update(safeJson(Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : 1)))).digest('base64');
}
