import type { Format, Limits } from '../core/settings.js';
import { decodeBatches, resumeAfter, type DecodedRecord, type DecodeResume } from '../stages/decode/index.js';
import { Batch } from './batch.js';
import { checkHeader, routeRecord, type FileContext, type RecordFlow } from './record-flow.js';

/** One file to read into batches. */
export interface FileRead {
  path: string;
  fileId: number;
  ordinal: number;
  format: Format;
  /** Continue after this committed record (an interrupted run's checkpoint). */
  resume: DecodeResume | undefined;
  batchSize: number;
  /** Records per slice of a batch (see Backend.sliceSize). */
  sliceSize: number;
  limits: Limits;
}

/** A slice of a batch, read and ready to write, with the bytes read to make it. */
export interface ReadSlice {
  /** The slice's records and what they produced (its size: the input records read into it). */
  batch: Batch;
  /** Bytes read from disk since the previous slice. */
  bytes: number;
  /** The slice ends its batch: the batch's transaction commits after writing it. */
  endsBatch: boolean;
  /** The file's last slice (it may be empty): committing it marks the file loaded. */
  last: boolean;
}

export interface FileBatchHooks {
  /** True when the batch in progress should end now (a stop was asked for). */
  cut(): boolean;
  warn(message: string): void;
}

/**
 * Decode → route, cut into batches of `batchSize` input records, each with the checkpoint it
 * reaches, and each batch into slices of at most `sliceSize` records. Takes the decoder's records a
 * chunk at a time (an await per record costs as much as decoding it) and never touches the
 * database. The fields the records had are added to `seen`.
 */
export async function* fileBatches(flow: RecordFlow, read: FileRead, seen: Set<string>, hooks: FileBatchHooks): AsyncGenerator<ReadSlice> {
  const context: FileContext = { path: read.path, fileId: read.fileId, ordinal: read.ordinal, format: read.format, seen };
  const sliceSize = Math.min(read.sliceSize, read.batchSize);
  let slice = new Batch();
  let inBatch = 0;
  let bytes = 0;
  let lastRead: DecodedRecord | undefined;
  // Each line from where this read starts is settled by one slice, the last slice's reaching to
  // the end; a waiting letter of a settled line is looked at (commit-batch.ts). A slice does not
  // settle its last record's line: the next record may start on it (a JSON array on one line).
  // Nor does a resumed read settle its first line: records committed before may end on it.
  let settledFrom = read.resume !== undefined && read.resume.position > 0 ? read.resume.line + 1 : 1;
  const foundAgain = new Map<number, number>();
  const letters: { waiting: boolean | null } = { waiting: null };
  const decoded = decodeBatches(read.path, {
    format: read.format,
    limits: read.limits,
    resume: read.resume,
    onBytes: (chunk) => (bytes += chunk.length),
    onWarning: hooks.warn,
    onHeader: (names) => checkHeader(flow, context, names),
  });
  for await (const chunk of decoded) {
    for (const record of chunk) {
      routeRecord(flow, context, record, slice);
      lastRead = record;
      inBatch += 1;
      const endsBatch = inBatch >= read.batchSize || hooks.cut();
      if (slice.size < sliceSize && !endsBatch) continue;
      slice.checkpoint = { ordinal: read.ordinal, ...resumeAfter(record) };
      slice.lines = { span: { fileId: read.fileId, from: settledFrom, to: record.line - 1 }, foundAgain, read: letters };
      settledFrom = Math.max(settledFrom, record.line);
      yield { batch: slice, bytes, endsBatch, last: false };
      [slice, bytes] = [new Batch(), 0];
      if (endsBatch) inBatch = 0;
    }
  }
  const reached = lastRead === undefined ? (read.resume ?? { position: 0, line: 0, byteOffset: null }) : resumeAfter(lastRead);
  slice.checkpoint = { ordinal: read.ordinal, ...reached };
  slice.lines = { span: { fileId: read.fileId, from: settledFrom, to: null }, foundAgain, read: letters };
  yield { batch: slice, bytes, endsBatch: true, last: true };
}
