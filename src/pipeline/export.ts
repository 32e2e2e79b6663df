import { extname } from 'node:path';
import type { Backend } from '../backends/backend.js';
import { openBackend } from '../backends/open-backend.js';
import { isMetaColumn } from '../backends/sql.js';
import { describeErrno, isSluiceError, SluiceError } from '../core/errors.js';
import { RowBatcher, type RowBatch } from '../core/row-batch.js';
import { DEFAULT_LIMITS, type Format } from '../core/settings.js';
import { decodeFile, detectFormat, type DecodedRecord } from '../stages/decode/index.js';
import { refuseDatabaseAsOutput } from './output-guard.js';
import { exportRecords, interruptOnSignals, type ExportFormat, type ExportResult, type RowSource } from '../stages/export/index.js';

export { EXPORT_FORMATS } from '../stages/export/index.js';
export type { ExportFormat, ExportResult } from '../stages/export/index.js';

export interface ExportCommonOptions {
  output: string;
  /** Default: from the output's extension (.json, .csv, .ndjson, .jsonl). */
  format?: ExportFormat;
  /** Fields every record must have non-empty; if one does not, nothing is written. */
  require?: readonly string[];
  /** Keep an existing output as `<output>.bak` before replacing it. */
  backup?: boolean;
  /** Validate and count; write nothing. */
  dryRun?: boolean;
  /** Neutralize CSV cells a spreadsheet would run as formulas (default true). */
  formulaGuard?: boolean;
  /** Stops the export cleanly. Default: SIGINT/SIGTERM, for the duration of the export. */
  signal?: AbortSignal;
}

export interface ExportTableOptions extends ExportCommonOptions {
  db: string;
  table: string;
  /** Include the ledger's bookkeeping columns (`_sluice_*`). */
  withMeta?: boolean;
}

export interface ConvertFileOptions extends ExportCommonOptions {
  input: string;
  /** Default: from the input's extension. */
  inputFormat?: Format;
}

const FORMAT_BY_EXTENSION: Readonly<Record<string, ExportFormat>> = { '.json': 'json', '.csv': 'csv', '.ndjson': 'ndjson', '.jsonl': 'ndjson' };

/** `sluice export --db --table`: a table of the database, written atomically. */
export async function exportTable(options: ExportTableOptions): Promise<ExportResult> {
  const format = options.format ?? exportFormatOf(options.output);
  refuseDatabaseAsOutput(options.db, options.output);
  const backend = await openBackend(options.db, { mustExist: true, readonly: true });
  try {
    return await exportBackendTable(backend, { ...options, format });
  } finally {
    await backend.close();
  }
}

/** The same over a backend already open (`sluice run --output` after a successful run). */
export async function exportBackendTable(backend: Backend, options: Omit<ExportTableOptions, 'db'>): Promise<ExportResult> {
  const { table } = options;
  const format = options.format ?? exportFormatOf(options.output);
  if (!(await backend.tableExists(table))) {
    throw new SluiceError('EXPORT_INPUT', `cannot export table "${table}": there is no such table in ${backend.location}`, {
      hint: `sluice run --db ${backend.location} --table ${table} --input FILE`,
    });
  }
  const withMeta = options.withMeta ?? false;
  // A table knows its columns: the CSV header needs no pass over the rows.
  const columns = (await backend.tableColumns(table)).map((c) => c.name).filter((name) => withMeta || !isMetaColumn(name));
  // SQLite writes a CSV's cells out as text faster than they are read value by value (checking
  // --require's columns in SQL); a dry run, the other formats and a required field the table
  // lacks (every row fails: the values name them) read values.
  const require = options.require ?? [];
  const asText = format === 'csv' && !options.dryRun && require.every((name) => columns.includes(name));
  const streamText = asText ? backend.streamTextBatches?.bind(backend) : undefined;
  const source: RowSource = streamText ? () => streamText(table, { withMeta, require }) : () => backend.streamRowBatches(table, { withMeta });
  return withInterrupt(options.signal, (signal) => exportRecords(source, { ...options, format, columns, signal }));
}

/** `sluice export --input`: a JSON, NDJSON or CSV file converted to another file, atomically. */
export async function convertFile(options: ConvertFileOptions): Promise<ExportResult> {
  const format = options.format ?? exportFormatOf(options.output);
  const inputFormat = options.inputFormat ?? inputFormatOf(options.input);
  const source: RowSource = () => decodedRows(options.input, inputFormat);
  return withInterrupt(options.signal, (signal) => exportRecords(source, { ...options, format, signal }));
}

/** The export format an output path asks for by its extension. */
export function exportFormatOf(output: string): ExportFormat {
  const format = FORMAT_BY_EXTENSION[extname(output).toLowerCase()];
  if (format !== undefined) return format;
  throw new SluiceError('CONFIG_INVALID', `cannot tell the export format of ${output} from its extension (expected .json, .csv, .ndjson or .jsonl)`, {
    hint: 'name the output .csv, .json or .ndjson (sluice export also takes --format json|csv|ndjson)',
  });
}

function inputFormatOf(input: string): Format {
  const format = detectFormat(input);
  if (format !== null) return format;
  throw new SluiceError('CONFIG_INVALID', `cannot tell the format of ${input} from its extension (expected .csv, .json, .ndjson, .jsonl or .txt, optionally .gz)`, {
    file: input,
    hint: 'pass --input-format csv|json|ndjson|lines',
  });
}

/** Records per batch handed to the export stage. */
const CONVERT_BATCH = 1000;

/** The input's records; a malformed one ends the conversion (nothing is written), naming its line. */
async function* decodedRows(input: string, format: Format): AsyncGenerator<RowBatch> {
  try {
    const batcher = new RowBatcher(CONVERT_BATCH);
    for await (const record of decodeFile(input, { format, limits: DEFAULT_LIMITS })) {
      if (record.problem !== undefined || record.fields === null) throw malformedRecord(input, record);
      const full = batcher.add(record.fields);
      if (full !== null) yield full;
    }
    const last = batcher.take();
    if (last !== null) yield last;
  } catch (error) {
    throw asInputError(input, error);
  }
}

function malformedRecord(input: string, record: DecodedRecord): SluiceError {
  const reason = record.problem?.message ?? 'the record cannot be read';
  // Decoders' problem messages already start with `line N:`; say it once.
  const located = reason.startsWith('line ') ? reason : `line ${record.line}: ${reason}`;
  return new SluiceError('EXPORT_INPUT', `cannot convert ${input}: ${located}`, { file: input, line: record.line });
}

/** Decode failures (bad gzip, missing file) are export input errors: one exit code for export. */
function asInputError(input: string, error: unknown): SluiceError {
  if (isSluiceError(error)) {
    if (error.code.startsWith('EXPORT_')) return error;
    return new SluiceError('EXPORT_INPUT', error.message, { file: error.file ?? input, line: error.line, hint: error.hint, cause: error });
  }
  return new SluiceError('EXPORT_INPUT', `cannot read ${input}: ${describeErrno(error)}`, { file: input, cause: error });
}

async function withInterrupt<T>(signal: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  if (signal !== undefined) return work(signal);
  const interrupt = interruptOnSignals();
  try {
    return await work(interrupt.signal);
  } finally {
    interrupt.dispose();
  }
}
