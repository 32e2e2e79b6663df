import { displayValue, type Fields, type Rejection } from '../../core/record.js';
import type { CursorValue } from '../../ledger/ledger.js';
import { canonicalTimestamp } from '../../core/timestamp.js';

export type CursorType = 'timestamp' | 'number' | 'integer';

export interface CursorSpec {
  field: string;
  type: CursorType;
}

/** Parses a cursor value; null when it is not a valid value of the cursor's type. */
export function parseCursor(value: unknown, type: CursorType): CursorValue | null {
  if (type === 'timestamp') {
    if (typeof value !== 'string') return null;
    const sortable = canonicalTimestamp(value);
    return sortable === null ? null : { value: value.trim(), sortable };
  }
  const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(number)) return null;
  if (type === 'integer' && !Number.isSafeInteger(number)) return null;
  return { value: String(value).trim(), sortable: number };
}

export function compareSortable(a: number | string, b: number | string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export type WatermarkVerdict =
  | { kind: 'admit'; cursor: CursorValue; boundary: boolean }
  | { kind: 'skip' }
  | { kind: 'reject'; rejection: Rejection };

/**
 * The boundary rule: records strictly older than the run's starting watermark are skipped;
 * records equal to it are admitted and flagged, so merge can drop the ones already loaded
 * (the boundary neither loses nor duplicates records).
 */
export function judgeCursor(fields: Fields, spec: CursorSpec, start: CursorValue | null): WatermarkVerdict {
  const raw = fields[spec.field];
  if (raw === undefined || raw === null || raw === '') {
    return rejected({ reason: 'missing_cursor', field: spec.field, message: `cursor field ${spec.field} is missing or empty` });
  }
  const cursor = parseCursor(raw, spec.type);
  if (cursor === null) {
    const expected = spec.type === 'timestamp' ? 'an ISO-8601 timestamp' : spec.type === 'integer' ? 'an integer' : 'a number';
    // A cursor is a timestamp unless declared: a plain number most likely means a numeric cursor.
    const numeric = spec.type === 'timestamp' && (typeof raw === 'number' || (typeof raw === 'string' && /^[+-]?\d+(\.\d+)?$/.test(raw.trim())));
    const advice = numeric ? ` (a numeric cursor must be declared: --type ${spec.field}=integer or =number)` : '';
    const message = `cursor field ${spec.field}: expected ${expected}, found ${displayValue(raw)}${advice}`;
    return rejected({ reason: 'invalid_cursor', field: spec.field, message });
  }
  if (start === null) return { kind: 'admit', cursor, boundary: false };
  const order = compareSortable(cursor.sortable, start.sortable);
  if (order < 0) return { kind: 'skip' };
  return { kind: 'admit', cursor, boundary: order === 0 };
}

function rejected(rejection: Rejection): WatermarkVerdict {
  return { kind: 'reject', rejection };
}
