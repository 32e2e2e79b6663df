import type { LineageStep, ReasonCode } from '../core/record.js';
import type { KeyLineageRow } from './queries.js';
import {
  COUNTER_NAMES,
  type CursorValue,
  type DeadLetterInput,
  type DeadLetterRow,
  type LetterReason,
  type LoadedFile,
  type LockHolder,
  type RunCounters,
  type RunFileRow,
  type RunRow,
  type RereadMark,
  type RunStatus,
  type WaitingRepeats,
  type WatermarkRow,
} from './ledger.js';

/** A ledger row as a driver returns it (node-pg gives BIGINT as numbers: see postgres/values.ts). Shared by the backends. */
export type Row = Record<string, unknown>;

const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

export function toRun(row: Row): RunRow {
  const counters = {} as RunCounters;
  for (const name of COUNTER_NAMES) counters[name] = Number(row[name] ?? 0);
  return {
    id: Number(row.id),
    pipeline: String(row.pipeline),
    status: row.status as RunStatus,
    startedAt: String(row.started_at),
    finishedAt: text(row.finished_at),
    heartbeatAt: text(row.heartbeat_at),
    pid: Number(row.pid),
    host: String(row.host),
    settings: String(row.settings ?? '{}'),
    watermarkBefore: text(row.watermark_before),
    watermarkAfter: text(row.watermark_after),
    maxCursor: row.max_cursor === null || row.max_cursor === undefined ? null : parseSortable(row),
    counters,
    error: text(row.error),
  };
}

/** The sortable cursor is stored as JSON so a number stays a number and text stays text. */
function parseSortable(row: Row): CursorValue {
  return { value: String(row.max_cursor), sortable: JSON.parse(String(row.max_cursor_sortable)) as number | string };
}

export function toRunFile(row: Row): RunFileRow {
  return {
    runId: Number(row.run_id),
    ordinal: Number(row.ordinal),
    path: String(row.path),
    fileId: Number(row.file_id),
    size: Number(row.size),
    hash: text(row.hash),
    status: row.status as RunFileRow['status'],
    error: text(row.error),
    position: Number(row.position),
    line: Number(row.line),
    byteOffset: row.byte_offset === null ? null : Number(row.byte_offset),
  };
}

export function toWatermark(pipeline: string, row: Row): WatermarkRow {
  return {
    pipeline,
    cursor: String(row.cursor),
    type: String(row.type),
    value: String(row.value),
    updatedAt: String(row.updated_at),
    runId: row.run_id === null ? null : Number(row.run_id),
  };
}

export function toLoadedFile(row: Row): LoadedFile {
  return { size: Number(row.size), hash: String(row.hash), runId: Number(row.run_id) };
}

export function toRereadMark(row: Row): RereadMark {
  return { pipeline: String(row.pipeline), afterRun: Number(row.after_run), reason: String(row.reason), createdAt: String(row.created_at) };
}

export function toLockHolder(pipeline: string, row: Row): LockHolder {
  return {
    pipeline,
    runId: row.run_id === null ? null : Number(row.run_id),
    pid: Number(row.pid),
    host: String(row.host),
    since: String(row.since),
    heartbeatAt: String(row.heartbeat_at),
  };
}

export function toDeadLetter(row: Row): DeadLetterRow {
  return {
    id: Number(row.id),
    runId: Number(row.run_id),
    pipeline: String(row.pipeline),
    fileId: Number(row.file_id),
    file: String(row.file),
    line: Number(row.line),
    raw: String(row.raw),
    reason: row.reason as DeadLetterRow['reason'],
    field: text(row.field),
    message: String(row.message),
    createdAt: String(row.created_at),
    replayedBy: row.replayed_by === null || row.replayed_by === undefined ? null : Number(row.replayed_by),
  };
}

/** One row of `sluice lineage --key`: a lineage entry, with its rejection where it was one. */
export function toKeyLineage(row: Row): KeyLineageRow {
  return {
    runId: Number(row.run_id),
    pipeline: String(row.pipeline),
    file: String(row.path),
    line: Number(row.line),
    key: String(row.key),
    step: row.step as LineageStep,
    deadLetterId: row.dead_letter_id === null || row.dead_letter_id === undefined ? null : Number(row.dead_letter_id),
    reason: text(row.reason) as ReasonCode | null,
    field: text(row.field),
    message: text(row.message),
  };
}

/** The file ids whose waiting letters a slice's letters may repeat: theirs, and their aliases'. */
export function letterFileIds(letters: readonly DeadLetterInput[], aliases: ReadonlyMap<number, number>): number[] {
  return withAliases(letters.map((letter) => letter.fileId), aliases);
}

/** The file ids and the ids an earlier version stored the same files under. */
export function withAliases(fileIds: Iterable<number>, aliases: ReadonlyMap<number, number>): number[] {
  const ids = new Set(fileIds);
  for (const [legacy, current] of aliases) if (ids.has(current)) ids.add(legacy);
  return [...ids];
}

/**
 * The positions of the letters that a stored letter repeats (same file, line and raw text), and
 * the stored letters whose reason, field or message differ from today's. `stored` are rows (id,
 * file_id, line, raw, reason, field, message) as the backend reads them back; `stores` is how it
 * writes a text; `aliases` maps a stored letter's file id to the id its file has now (rereads.ts).
 * One to one: two identical records on one line (a JSON array on one line, a transform that
 * splits a record) repeat two stored letters, oldest first, never one twice.
 */
export function repeatedLetters(
  letters: readonly DeadLetterInput[],
  stored: readonly Row[],
  aliases: ReadonlyMap<number, number>,
  stores: (text: string) => string = (value) => value,
): WaitingRepeats {
  const byRecord = new Map<string, number[]>();
  letters.forEach((letter, i) => {
    const record = `${letter.fileId}:${letter.line}:${stores(letter.raw)}`;
    byRecord.set(record, [...(byRecord.get(record) ?? []), i]);
  });
  const positions: number[] = [];
  const outdated: LetterReason[] = [];
  const found: { id: number; line: number }[] = [];
  for (const row of [...stored].sort((a, b) => Number(a.id) - Number(b.id))) {
    const fileId = Number(row.file_id);
    const i = byRecord.get(`${aliases.get(fileId) ?? fileId}:${Number(row.line)}:${String(row.raw)}`)?.shift();
    if (i === undefined) continue;
    positions.push(i);
    found.push({ id: Number(row.id), line: Number(row.line) });
    const { reason, field, message } = letters[i] as DeadLetterInput;
    const same = row.reason === reason && text(row.field) === (field === null ? null : stores(field)) && text(row.message) === stores(message);
    if (!same) outdated.push({ id: Number(row.id), reason, field, message });
  }
  return { positions, outdated, found };
}
