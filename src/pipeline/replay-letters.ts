/* How a dead letter's record goes through the pipeline's rules again (`dead-letters replay`). */
import type { Backend } from '../backends/backend.js';
import { isMetaColumn } from '../backends/sql.js';
import { toFields } from '../core/record.js';
import type { FieldType, RunSettings } from '../core/settings.js';
import type { DeadLetterRow } from '../ledger/ledger.js';
import type { DecodedRecord } from '../stages/decode/index.js';
import type { Batch } from './batch.js';
import type { CommitContext } from './commit-batch.js';
import { prepareRules } from './prepare.js';
import { routeRecord, type FileContext, type RecordFlow } from './record-flow.js';
import { targetColumnSet } from './target-columns.js';

/** The record flow of a replay: the rules as they are now, the table's columns, no watermark. */
export async function replayFlow(backend: Backend, settings: RunSettings): Promise<RecordFlow> {
  const rules = await prepareRules(settings, () => {});
  const existing = (await backend.tableColumns(settings.table)).filter((c) => !isMetaColumn(c.name));
  const tableKey = settings.strategy === 'append' ? null : rules.key;
  const { columns, keyAsText } = targetColumnSet(rules.rules.types as Record<string, FieldType>, existing, tableKey);
  return { ...rules, startWatermark: null, rowHash: rules.cursor !== null && tableKey === null, columns, keyAsText };
}

export function commitContext(backend: Backend, settings: RunSettings, runId: number, flow: RecordFlow): CommitContext {
  const key = settings.strategy === 'append' ? null : flow.key;
  return {
    backend,
    runId,
    pipeline: settings.pipeline,
    table: settings.table,
    strategy: settings.strategy,
    key,
    cursorField: flow.cursor?.field ?? null,
    cursorType: flow.cursor === null ? null : flow.cursor.type === 'timestamp' ? 'text' : 'real',
    rowHash: flow.rowHash,
    columns: flow.columns,
    maxCursor: null,
    ensuredVersion: -1,
    lastHeartbeat: 0,
    // A replayed letter keeps the file id it was stored with.
    fileAliases: new Map(),
  };
}

/** A letter's raw record back through the rules; it is marked replayed unless it fails again. */
export function replayLetter(flow: RecordFlow, letter: DeadLetterRow, position: number, batch: Batch): void {
  const file: FileContext = { path: letter.file, fileId: letter.fileId, ordinal: 0, format: 'json', seen: new Set() };
  const rejectedBefore = batch.counters.rejected ?? 0;
  routeRecord(flow, file, decodedFrom(letter, position), batch);
  if ((batch.counters.rejected ?? 0) === rejectedBefore) batch.replayed.push({ id: letter.id, fileId: letter.fileId, line: letter.line });
}

function decodedFrom(letter: DeadLetterRow, position: number): DecodedRecord {
  const base = { line: letter.line, endLine: letter.line + 1, position, endOffset: null, raw: letter.raw };
  try {
    const value: unknown = JSON.parse(letter.raw);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { ...base, fields: toFields(value) };
  } catch {
    // Not JSON: a row that could not be decoded in the first place; it stays a dead letter.
  }
  return { ...base, fields: null, problem: { reason: 'malformed_row', field: null, message: `${letter.file}:${letter.line}: the stored record is not a JSON object and cannot be replayed` } };
}
