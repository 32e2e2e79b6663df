import type { Backend } from '../backends/backend.js';
import { isMetaColumn } from '../backends/sql.js';
import type { FieldType, RunSettings } from '../core/settings.js';
import type { LoadedFile, RunFileRow } from '../ledger/ledger.js';
import { hashFile } from '../stages/discover/index.js';
import type { CommitContext } from './commit-batch.js';
import type { LoadFileInput } from './load-file.js';
import type { PreparedRun } from './prepare.js';
import type { RecordFlow } from './record-flow.js';
import { earlierLoads, legacyFileIds } from './rereads.js';
import { shadowTable, type RunStart } from './run-state.js';
import { targetColumnSet } from './target-columns.js';

/** What every process loading a run's files needs: the commit context and the record flow. */
export interface RunContext {
  commit: CommitContext;
  flow: RecordFlow & PreparedRun;
  /** Columns the target had before the files of this process: their differences are reported. */
  knownColumns: Set<string>;
}

export async function runContext(backend: Backend, settings: RunSettings, prepared: PreparedRun, start: RunStart): Promise<RunContext> {
  const runId = start.run.id;
  const replace = settings.strategy === 'replace';
  // append takes --key for lineage only: its rows are not unique by key.
  const tableKey = settings.strategy === 'append' ? null : prepared.key;
  const targetColumns = (await backend.tableColumns(settings.table)).filter((c) => !isMetaColumn(c.name));
  const writeTable = replace ? shadowTable(runId) : settings.table;
  const writeColumns = replace ? (await backend.tableColumns(writeTable)).filter((c) => !isMetaColumn(c.name)) : targetColumns;
  const { columns, keyAsText } = targetColumnSet(prepared.rules.types as Record<string, FieldType>, writeColumns, tableKey, prepared.warn);
  const cursorType = prepared.cursor === null ? null : prepared.cursor.type === 'timestamp' ? 'text' : 'real';
  const commit: CommitContext = {
    backend,
    runId,
    pipeline: settings.pipeline,
    table: writeTable,
    strategy: settings.strategy,
    key: tableKey,
    cursorField: prepared.cursor?.field ?? null,
    cursorType,
    rowHash: prepared.cursor !== null && tableKey === null,
    columns,
    maxCursor: start.run.maxCursor,
    ensuredVersion: -1,
    lastHeartbeat: 0,
    fileAliases: await legacyFileIds(backend, runId),
  };
  const flow: RecordFlow & PreparedRun = { ...prepared, startWatermark: start.startWatermark, rowHash: commit.rowHash, columns, keyAsText };
  return { commit, flow, knownColumns: new Set(targetColumns.map((c) => c.name)) };
}

/** Which files are read, and how: fingerprints of earlier loads, and replace's all-or-nothing. */
export interface ReadPlan {
  files: RunFileRow[];
  /** Fingerprints of files loaded before, by path: a file loaded with the same content is skipped. */
  previous: Map<string, LoadedFile>;
  /** replace rebuilds the table from all files: either none changed (nothing to do) or all are read. */
  forceRead: boolean;
  /** Where earlier runs failed files after committing part of them, by path (not for replace). */
  partlyFailed: Map<string, RunFileRow>;
}

export async function readPlan(backend: Backend, settings: RunSettings, runId: number): Promise<ReadPlan> {
  // Fingerprints first, then the run's files: a file this run loaded in between shows as loaded.
  // replace rebuilds a fresh table: what an earlier run committed of a file is not in it.
  const earlier = await earlierLoads(backend, settings.pipeline, runId, settings.strategy !== 'replace');
  const previous = earlier.loaded;
  const files = await backend.ledger.runFiles(runId);
  // A file this run already read (its fingerprint now this run's own) means every file is read.
  const started = files.some((f) => f.status === 'loaded' || f.position > 0);
  const forceRead = settings.strategy === 'replace' && (started || !(await allUnchanged(files, previous)));
  return { files, previous, forceRead, partlyFailed: earlier.partlyFailed };
}

export function fileInput(context: RunContext, settings: RunSettings, plan: ReadPlan, file: RunFileRow): LoadFileInput {
  const { flow, knownColumns } = context;
  const previous = plan.forceRead ? undefined : plan.previous.get(file.path);
  const failedBefore = plan.partlyFailed.get(file.path);
  return { file, formatOf: flow.formatOf, batchSize: settings.batchSize, sliceSize: settings.sliceSize ?? context.commit.backend.sliceSize, limits: settings.limits, previous, failedBefore, knownColumns };
}

async function allUnchanged(files: RunFileRow[], previous: Map<string, LoadedFile>): Promise<boolean> {
  for (const file of files) {
    const before = previous.get(file.path);
    if (before === undefined || before.size !== file.size) return false;
    if ((await hashFile(file.path).catch(() => null)) !== before.hash) return false;
  }
  return true;
}
