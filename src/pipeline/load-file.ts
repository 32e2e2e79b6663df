import { statSync } from 'node:fs';
import { describeErrno, isFileError, isSluiceError, SluiceError } from '../core/errors.js';
import type { Format, Limits } from '../core/settings.js';
import type { LoadedFile, RunFileRow } from '../ledger/ledger.js';
import type { DecodeResume } from '../stages/decode/index.js';
import { hashFile } from '../stages/discover/index.js';
import { commitBatch, type CommitContext, type FileFingerprint } from './commit-batch.js';
import { addWaiting, noLettersWaiting, type Batch, type LettersWaiting } from './batch.js';
import { fileBatches, type FileRead, type ReadSlice } from './file-batches.js';
import type { RecordFlow } from './record-flow.js';
import type { FileReport } from './summary.js';
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
  formatOf: (path: string) => Format;
  batchSize: number;
  sliceSize: number;
  limits: Limits;
  /** Fingerprint from the previous load, if the pipeline loaded this path before. */
  previous: LoadedFile | undefined;
  /** Where an earlier run last failed this path after committing part of it. */
  failedBefore?: RunFileRow | undefined;
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
 * changed since, in which case it is read again from its start. So does a file an earlier run
 * failed part-way, while its content is the same.
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
    const failedBefore = input.failedBefore;
    if (file.position > 0 && file.hash === fingerprint.hash) {
      resume = resumeAt(file, observer);
    } else if (file.position > 0) {
      observer.warn(`${file.path} changed since the interrupted run's checkpoint (record ${file.position}); reloading it from its start`);
      report.status = 'changed-since-checkpoint';
    } else if (failedBefore !== undefined && failedBefore.hash === fingerprint.hash) {
      // Its first records are in the target already: loading them again would duplicate them
      // under append (and redo them under the other strategies).
      observer.warn(`${file.path} is unchanged since run ${failedBefore.runId} failed it after record ${failedBefore.position}; reading on from there`);
      resume = resumeAt(failedBefore, observer);
    }
    if (resume === undefined && input.previous !== undefined && commit.strategy === 'append') observer.warn(appendedAgainNote(file.path, input.previous.runId));
    const read: FileRead = { path: file.path, fileId: file.fileId, ordinal: file.ordinal, format: input.formatOf(file.path), resume, batchSize: input.batchSize, sliceSize: input.sliceSize, limits: input.limits };
    const seen = new Set<string>();
    const batches = fileBatches(flow, read, seen, { cut: () => observer.stopRequested(), warn: observer.warn });
    report.records = await commitBatches(commit, batches, fingerprint, observer);
    compareColumns(report, commit.columns.columnsOf(seen), input.knownColumns);
  } catch (error) {
    if (error instanceof RunStopped) return { ...report, stopped: true };
    if (!isSluiceError(error) || !isFileError(error)) throw error;
    await setStatus(commit, file, 'failed', error.message);
    return { ...report, status: 'failed', error: error.message };
  }
  return report;
}

/** Where a checkpoint says to read on; the bytes before it count as done for progress. */
function resumeAt(checkpoint: RunFileRow, observer: LoadObserver): DecodeResume {
  if (checkpoint.byteOffset !== null && !/\.gz$/i.test(checkpoint.path)) observer.onBytes(checkpoint.byteOffset);
  return { position: checkpoint.position, line: checkpoint.line, byteOffset: checkpoint.byteOffset };
}

async function fingerprintFile(path: string): Promise<FileFingerprint> {
  try {
    // Synchronous: one stat per input file, and an await per small file is most of a re-run's time.
    const info = statSync(path);
    if (!info.isFile()) throw Object.assign(new Error('not a regular file'), { code: info.isDirectory() ? 'EISDIR' : 'EINVAL' });
    return { path, size: info.size, hash: await hashFile(path, info.size) };
  } catch (error) {
    throw new SluiceError('DECODE_IO', `cannot read ${path}: ${describeErrno(error)}`, { file: path, cause: error });
  }
}

/**
 * Commits the file's batches as they come, each in one transaction that takes the batch's
 * slices as they are read (the first is read before the transaction begins). A stop request
 * ends the load after the batch in flight.
 */
async function commitBatches(commit: CommitContext, slices: AsyncIterable<ReadSlice>, fingerprint: FileFingerprint, observer: LoadObserver): Promise<number> {
  const stream = slices[Symbol.asyncIterator]();
  let count = 0;
  const lettersWaiting: LettersWaiting = noLettersWaiting();
  try {
    for (let next = await stream.next(); !next.done; next = await stream.next()) {
      const batch = new BatchSlices(next.value, stream, (slice) => {
        // Per record, so --simulate-crash N dies before the batch holding record N commits.
        for (let i = 0; i < slice.batch.size; i += 1) observer.onRecordRead();
        observer.onBytes(slice.bytes);
        count += slice.batch.size;
      });
      addWaiting(lettersWaiting, (await commitBatch(commit, batch.slices(), { fingerprint, endsFile: () => batch.endsFile })).lettersWaiting);
      observer.onCheckpoint();
      if (batch.endsFile) break;
      if (observer.stopRequested()) throw new RunStopped();
    }
  } finally {
    // Said for the batches committed, whether the file ends, stops or fails.
    if (lettersWaiting.waiting > 0) observer.warn(lettersWaitingNote(fingerprint.path, lettersWaiting));
    if (lettersWaiting.superseded > 0) observer.warn(supersededNote(fingerprint.path, lettersWaiting.superseded));
  }
  return count;
}

/** Under append, a changed file's records all load again: the earlier version's rows stay. */
function appendedAgainNote(path: string, runId: number): string {
  return (
    `${path} changed since run ${runId} loaded it: under append all its records load again, beside the rows of the version loaded before ` +
    '(deliver new records in new files, or merge by key with --strategy deduplicate, update or upsert-newer)'
  );
}

function supersededNote(path: string, superseded: number): string {
  const letters = superseded === 1 ? '1 dead letter' : `${superseded} dead letters`;
  const them = superseded === 1 ? 'it' : 'them';
  return `${path}: ${letters} from an earlier read of this file superseded: the file no longer has ${superseded === 1 ? 'that failing record at its line' : 'those failing records at their lines'}, so replay will not load ${them} (sluice dead-letters list --all shows ${them})`;
}

function lettersWaitingNote(path: string, { waiting, refreshed }: LettersWaiting): string {
  const records = waiting === 1 ? '1 rejected record' : `${waiting} rejected records`;
  const note = `${path}: ${records} already ${waiting === 1 ? 'waits' : 'wait'} in dead letters from an earlier read of this file (same line and text); not stored again`;
  if (refreshed === 0) return note;
  return `${note}; ${refreshed} of those letters updated to the reason ${refreshed === 1 ? 'its record fails' : 'their records fail'} for now`;
}

/** One batch's slices, taken from the file's stream up to the slice that ends the batch. */
class BatchSlices {
  endsFile = false;

  constructor(
    private readonly first: ReadSlice,
    private readonly stream: AsyncIterator<ReadSlice>,
    private readonly onSlice: (slice: ReadSlice) => void,
  ) {}

  async *slices(): AsyncGenerator<Batch> {
    let slice = this.first;
    for (;;) {
      this.onSlice(slice);
      yield slice.batch;
      if (slice.endsBatch) {
        this.endsFile = slice.last;
        return;
      }
      const next = await this.stream.next();
      if (next.done === true) return;
      slice = next.value;
    }
  }
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
