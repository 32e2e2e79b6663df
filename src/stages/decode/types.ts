import type { Fields } from '../../core/record.js';
import type { Format, Limits } from '../../core/settings.js';

/** One record as read from a file, with where it came from. */
export interface DecodedRecord {
  /** The record's fields (null-prototype object); null when the record is malformed. */
  fields: Fields | null;
  /** 1-based line where the record starts. */
  line: number;
  /** 1-based ordinal of the record in its file. */
  position: number;
  /**
   * Byte offset just past this record in the file as stored (uncompressed files only), so a
   * resumed run can seek there instead of re-parsing; null where the format cannot seek (gzip).
   */
  endOffset: number | null;
  /**
   * 1-based line on which byte `endOffset` falls: where decoding continues after this record
   * (a CSV row with quoted newlines or a pretty-printed JSON element spans several lines, so this
   * is not `line + 1`). Checkpoint it as `DecodeResume.line`; see `resumeAfter`.
   */
  endLine: number;
  /** The record's source text, kept for dead letters. */
  raw: string;
  /**
   * The fields' names in order, one array shared by every record built from the same header
   * (CSV): records of one shape have the same fields. Absent where records may differ (JSON).
   */
  shape?: readonly string[];
  /** Set when the record cannot be used: it becomes a dead letter, the file goes on. */
  problem?: { reason: 'malformed_row' | 'unsupported_value'; field: string | null; message: string };
}

/**
 * Where to continue a file after a crash: records up to `position` were committed. Build it with
 * `resumeAfter(lastCommittedRecord)`.
 */
export interface DecodeResume {
  position: number;
  /** The `endLine` of record `position`: the line number at `byteOffset`. */
  line: number;
  /** Byte offset just past record `position`, when the file can seek. */
  byteOffset: number | null;
}

export interface DecodeOptions {
  format: Format;
  limits: Limits;
  /** Size of each read from disk (default 64 KiB); tests use 1 and 7 bytes to prove chunk-independence. */
  chunkSize?: number;
  /**
   * Continue after a checkpoint: records up to `resume.position` are not yielded. With a byte
   * offset (files that are not gzip) the decode seeks there instead of re-parsing, after reading
   * only the CSV header or the JSON top-level opener; otherwise it re-parses and skips.
   */
  resume?: DecodeResume;
  /**
   * Called with every chunk of the file's bytes as stored (before gunzip), in order, each byte
   * once: hashing, progress. When a resume seeks, it starts at `resume.byteOffset` (the few bytes
   * read to find a CSV header or the JSON top level are not passed).
   */
  onBytes?: (chunk: Buffer) => void;
  /**
   * Told about things decoded but worth reporting, e.g. duplicate CSV header names renamed to
   * `name_2`. Each message starts with the file path.
   */
  onWarning?: (message: string) => void;
  /** Told a CSV file's header names once they are read (a file may have no records). */
  onHeader?: (names: readonly string[]) => void;
}
