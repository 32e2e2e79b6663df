import type { Format, Limits } from '../core/settings.js';
import { decodeBatches, resumeAfter, type DecodeResume } from '../stages/decode/index.js';
import { Batch } from './batch.js';
import { routeRecord, type FileContext, type RecordFlow } from './record-flow.js';

/** One file to read into batches. */
export interface FileRead {
  path: string;
  fileId: number;
  ordinal: number;
  format: Format;
  /** Continue after this committed record (an interrupted run's checkpoint). */
  resume: DecodeResume | undefined;
  batchSize: number;
  limits: Limits;
}

/** A batch ready to commit (its size: the input records read into it), with the bytes read to make it. */
export interface ReadBatch {
  batch: Batch;
  /** Bytes read from disk since the previous batch. */
  bytes: number;
  /** The file's last batch (it may be empty): committing it marks the file loaded. */
  last: boolean;
}

export interface FileBatchHooks {
  /** True when the batch in progress should end now (a stop was asked for). */
  cut(): boolean;
  warn(message: string): void;
}

/**
 * Decode → route, cut into batches of `batchSize` input records, each with the checkpoint it
 * reaches. Takes the decoder's records a chunk at a time (an await per record costs as much as
 * decoding it) and never touches the database. The fields the records had are added to `seen`.
 */
export async function* fileBatches(flow: RecordFlow, read: FileRead, seen: Set<string>, hooks: FileBatchHooks): AsyncGenerator<ReadBatch> {
  const context: FileContext = { path: read.path, fileId: read.fileId, ordinal: read.ordinal, format: read.format, seen };
  let batch = new Batch();
  let bytes = 0;
  const decoded = decodeBatches(read.path, {
    format: read.format,
    limits: read.limits,
    resume: read.resume,
    onBytes: (chunk) => (bytes += chunk.length),
    onWarning: hooks.warn,
  });
  for await (const chunk of decoded) {
    for (const record of chunk) {
      routeRecord(flow, context, record, batch);
      batch.checkpoint = { ordinal: read.ordinal, ...resumeAfter(record) };
      if (batch.size < read.batchSize && !hooks.cut()) continue;
      yield { batch, bytes, last: false };
      [batch, bytes] = [new Batch(), 0];
    }
  }
  const start = read.resume ?? { position: 0, line: 0, byteOffset: null };
  batch.checkpoint ??= { ordinal: read.ordinal, ...start };
  yield { batch, bytes, last: true };
}
