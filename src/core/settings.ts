/**
 * The fully defaulted, frozen settings of a pipeline run. Built by `config/`, read by every
 * stage; pure data so it can be stored in the ledger and replayed.
 */
export type Format = 'csv' | 'json' | 'ndjson' | 'lines';
export type FormatOption = Format | 'auto';
export type Strategy = 'append' | 'deduplicate' | 'update' | 'upsert-newer' | 'replace';
export type FieldType = 'string' | 'number' | 'integer' | 'boolean' | 'timestamp';
export type OnFileError = 'skip' | 'fail';

export const STRATEGIES: readonly Strategy[] = ['append', 'deduplicate', 'update', 'upsert-newer', 'replace'];
export const FIELD_TYPES: readonly FieldType[] = ['string', 'number', 'integer', 'boolean', 'timestamp'];
export const FORMATS: readonly FormatOption[] = ['auto', 'csv', 'json', 'ndjson', 'lines'];

/** Caps that keep hostile input from exhausting memory. */
export interface Limits {
  /** Largest single record (CSV row, NDJSON line, JSON array element), in bytes. */
  maxRecordBytes: number;
  /** Largest decompressed size of one gzip file, in bytes (decompression-bomb guard). */
  maxDecompressedBytes: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxRecordBytes: 16 * 1024 * 1024,
  maxDecompressedBytes: 64 * 1024 * 1024 * 1024,
};

export interface RunSettings {
  db: string;
  pipeline: string;
  table: string;
  inputs: readonly string[];
  sourceDir: string | null;
  pattern: string;
  format: FormatOption;
  key: string | null;
  cursor: string | null;
  strategy: Strategy;
  require: readonly string[];
  types: Readonly<Record<string, FieldType>>;
  schemaFile: string | null;
  transform: string | null;
  batchSize: number;
  /**
   * Records per slice of a batch, instead of the backend's own (Backend.sliceSize). Not a flag:
   * tests set it small to cut batches into many slices.
   */
  sliceSize: number | null;
  onFileError: OnFileError;
  normalize: boolean;
  dryRun: boolean;
  limits: Limits;
  /** Test aid: die like kill -9 after this many records have been read. */
  simulateCrash: number | null;
  /** Abandon an unfinished run instead of resuming it. */
  restart: boolean;
  /** Export the target table here after a successful run. */
  output: string | null;
  /**
   * Load with this many worker processes sharing the run's files (`--workers N`); the same
   * command on other machines against one PostgreSQL database joins the run. Null: one process.
   */
  workers: number | null;
}
