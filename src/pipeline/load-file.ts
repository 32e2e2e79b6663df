import { stat } from 'node:fs/promises';
import { describeErrno, isFileError, isSluiceError, SluiceError } from '../core/errors.js';
import type { Limits } from '../core/settings.js';
import type { RunFileRow } from '../ledger/ledger.js';
import { decodeFile, resumeAfter, type DecodedRecord, type DecodeResume } from '../stages/decode/index.js';
import { hashFile } from '../stages/discover/index.js';
import { Batch } from './batch.js';
import { commitBatch, type CommitContext, type FileFingerprint } from './commit-batch.js';
import type { FileReport } from './summary.js';
import { routeRecord, type FileContext, type RecordFlow } from './record-flow.js';
import type { UnchangedFiles } from './unchanged-files.js';

/** Per-run hooks the file loop calls: progress, crash simulation, stop requests. */
export interface LoadObserver {
  /** Called after each record is read; may end the process (--simulate-crash). */
  onRecordRead(): void;
  onBytes(count: number): void;
  onCheckpoint(): void;
  /** True once a signal asked the run to stop after the batch in flight. */
  stopRequested(): boolean;
  warn(message: string): void;
}

export interface LoadFileInput {
  file: RunFileRow;
  formatOf: (path: string) => FileContext['format'];
  batchSize: number;
  limits: Limits;
  /** Fingerprint from the previous load, if the pipeline loaded this path before. */
  previous: { size: number; hash: string } | undefined;
  /** Columns the target had before this file: the file's differences are reported. */
  knownColumns: Set<string>;
  /** Where an unchanged file's status goes to be committed with others; without it, at once. */
  unchanged?: UnchangedFiles;
}

export type LoadFileOutcome = FileReport & { stopped: boolean };

/** Thrown inside the batch loop when a signal asked the run to stop at a checkpoint. */
export class RunStopped extends Error {}

/**
 * Loads one file in checkpointed batches. A file already loaded with the same content is
 * skipped; a resumed file continues after its last committed record, unless its content
 * changed since, in which case it is read again from its start.
 */
export async function loadFile(commit: CommitContext, flow: RecordFlow, input: LoadFileInput, observer: LoadObserver): Promise<LoadFileOutcome> {
  const { file } = input;
  const report: LoadFileOutcome = { path: file.path, status: 'loaded', records: 0, error: null, new_columns: [], missing_columns: [], stopped: false };
  try {
    const fingerprint = await fingerprintFile(file.path);
    if (file.position === 0 && input.previous?.size === fingerprint.size && input.previous.hash === fingerprint.hash) {
      if (input.unchanged === undefined) await setStatus(commit, file, 'unchanged', null);
      else await input.unchanged.add(file);
      return { ...report, status: 'unchanged' };
    }
    let resume: DecodeResume | undefined;
    if (file.position > 0 && file.hash === fingerprint.hash) {
      resume = { position: file.position, line: file.line, byteOffset: file.byteOffset };
      // Bytes before the checkpoint count as done for progress, whether skipped by a seek or not.
      if (file.byteOffset !== null && !/\.gz$/i.test(file.path)) observer.onBytes(file.byteOffset);
    } else if (file.position > 0) {
      observer.warn(`${file.path} changed since the interrupted run's checkpoint (record ${file.position}); reloading it from its start`);
      report.status = 'changed-since-checkpoint';
    }
    const format = input.formatOf(file.path);
    const context: FileContext = { path: file.path, fileId: file.fileId, ordinal: file.ordinal, format, seen: new Set() };
    const records = decodeFile(file.path, { format, limits: input.limits, resume, onBytes: (chunk) => observer.onBytes(chunk.length), onWarning: observer.warn });
    report.records = await batchRecords(commit, flow, { input, context, fingerprint, resume }, records, observer);
    compareColumns(report, context.seen, input.knownColumns);
  } catch (error) {
    if (error instanceof RunStopped) return { ...report, stopped: true };
    if (!isSluiceError(error) || !isFileError(error)) throw error;
    await setStatus(commit, file, 'failed', error.message);
    return { ...report, status: 'failed', error: error.message };
  }
  return report;
}

async function fingerprintFile(path: string): Promise<FileFingerprint> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw Object.assign(new Error('not a regular file'), { code: info.isDirectory() ? 'EISDIR' : 'EINVAL' });
    return { path, size: info.size, hash: await hashFile(path, info.size) };
  } catch (error) {
    throw new SluiceError('DECODE_IO', `cannot read ${path}: ${describeErrno(error)}`, { file: path, cause: error });
  }
}

interface FileRun {
  input: LoadFileInput;
  context: FileContext;
  fingerprint: FileFingerprint;
  resume: DecodeResume | undefined;
}

async function batchRecords(commit: CommitContext, flow: RecordFlow, run: FileRun, records: AsyncIterable<DecodedRecord>, observer: LoadObserver): Promise<number> {
  const { context, fingerprint } = run;
  let batch = new Batch();
  let count = 0;
  for await (const record of records) {
    routeRecord(flow, context, record, batch);
    batch.checkpoint = { ordinal: context.ordinal, ...resumeAfter(record) };
    count += 1;
    observer.onRecordRead();
    if (batch.size >= run.input.batchSize || observer.stopRequested()) {
      await commitBatch(commit, batch, { fingerprint, done: false });
      observer.onCheckpoint();
      if (observer.stopRequested()) throw new RunStopped();
      batch = new Batch();
    }
  }
  const start = run.resume ?? { position: 0, line: 0, byteOffset: null };
  batch.checkpoint ??= { ordinal: context.ordinal, ...start };
  await commitBatch(commit, batch, { fingerprint, done: true });
  observer.onCheckpoint();
  return count;
}

async function setStatus(commit: CommitContext, file: RunFileRow, status: 'unchanged' | 'failed', error: string | null): Promise<void> {
  await commit.backend.transaction(async (tx) => {
    await tx.ledger.setFileStatus(commit.runId, file.ordinal, status, error);
    await tx.ledger.addCounters(commit.runId, status === 'unchanged' ? { files_unchanged: 1 } : { files_failed: 1 }, null);
  });
}

/** Reports the columns a file added to the target and the target columns it lacks. */
function compareColumns(report: FileReport, seen: Set<string>, known: Set<string>): void {
  if (seen.size === 0) return;
  if (known.size === 0) {
    // The first file of a new table defines it: nothing to compare with.
    for (const name of seen) known.add(name);
    return;
  }
  report.new_columns = [...seen].filter((name) => !known.has(name));
  report.missing_columns = [...known].filter((name) => !seen.has(name));
  for (const name of report.new_columns) known.add(name);
}
