import { isSluiceError, SluiceError } from '../../core/errors.js';
import { batchRows, isTextBatch, type SourceBatch, type TextBatch } from '../../core/row-batch.js';
import type { ChunkWriter } from './chunk-writer.js';
import { copyFileAtomic, writeFileAtomic } from './atomic-file.js';
import { createEncoder, type RecordEncoder, type RowEncoder } from './encoders.js';
import { nodeExportFs, type ExportFs } from './export-fs.js';
import { LISTED_PROBLEMS, requireFailureMessage, requiredCheck, scanRecords, type RequiredCheck, type RequireProblem, type RequireTally } from './scan.js';
import { exportWriteError, resolveTarget, type ExportTarget } from './target.js';
import type { ExportFormat, ExportResult, RowSource } from './types.js';

export interface ExportOptions {
  output: string;
  format: ExportFormat;
  /** Fields every record must have non-empty; if one does not, nothing is written. */
  require?: readonly string[];
  /** Keep an existing output as `<output>.bak` (written atomically too) before replacing it. */
  backup?: boolean;
  /** Validate and count, write nothing at all. */
  dryRun?: boolean;
  /** Neutralize CSV cells a spreadsheet would run as formulas (default true). */
  formulaGuard?: boolean;
  /**
   * The CSV header when the source knows it: a table's columns, which every record has (or a
   * subset of). Saves the header pass. Without it, a first pass collects the fields' union.
   */
  columns?: readonly string[];
  signal?: AbortSignal;
  /** Test seam: the file-system calls, to inject failures or spy on fsync. */
  fs?: ExportFs;
}

/**
 * Writes the records of `source` to `options.output` atomically. Passes over the source, each in
 * constant memory: a read-only one first only when a CSV header or a dry-run count needs it,
 * then the writing one, which checks --require as it goes: once a record fails, it writes no
 * more and only counts, and the export fails naming the first failing records, its temp file
 * removed. The output and its backup are touched only once the new file is complete.
 */
export async function exportRecords(source: RowSource, options: ExportOptions): Promise<ExportResult> {
  const fs = options.fs ?? nodeExportFs;
  const required = options.require ?? [];
  const target = await resolveTarget(options.output, fs);
  const needsHeaderPass = options.format === 'csv' && options.columns === undefined;
  let columns = options.columns ?? [];
  let counted = 0;
  if (needsHeaderPass || options.dryRun) {
    const scan = await scanRecords(source(), { require: required, collectColumns: needsHeaderPass, signal: options.signal });
    if (scan.problemCount > 0) throw requireFailure(target, scan);
    if (needsHeaderPass) columns = scan.columns;
    counted = scan.count;
  }
  const done = { format: options.format, path: options.output };
  if (options.dryRun) return { status: 'dry-run', exported: counted, backup: null, ...done };
  let backup: string | null = null;
  const keep = options.backup ? async () => void (backup = await keepBackup(target, fs, options.signal)) : undefined;
  const encoder = createEncoder(options.format, { columns, formulaGuard: options.formulaGuard ?? true });
  const exported = await writeRecords(source, target, encoder, { ...options, fs, require: required }, keep);
  return { status: 'exported', exported, backup, ...done };
}

function requireFailure(target: ExportTarget, scan: RequireTally): SluiceError {
  return new SluiceError('EXPORT_VALIDATE', requireFailureMessage(target.display, scan), { file: target.display });
}

/** Copies the current output to `<output>.bak`, as private as the file it copies. */
async function keepBackup(target: ExportTarget, fs: ExportFs, signal?: AbortSignal): Promise<string | null> {
  if (target.mode === null) return null;
  const display = `${target.display}.bak`;
  const backupTarget = await resolveTarget(display, fs);
  await copyFileAtomic(target.path, backupTarget, { fs, signal, mode: target.mode });
  return display;
}

type WriteOptions = ExportOptions & { fs: ExportFs; require: readonly string[] };

async function writeRecords(source: RowSource, target: ExportTarget, encoder: RecordEncoder, options: WriteOptions, beforeReplace?: () => Promise<void>): Promise<number> {
  const records = new RecordsWriter(encoder, target, options);
  await writeFileAtomic(
    target,
    async (out) => {
      out.push(encoder.head());
      for await (const batch of source()) {
        options.signal?.throwIfAborted();
        await records.write(batch, out);
        if (out.full) await out.flush();
      }
      if (records.problemCount > 0) throw requireFailure(target, records.tally());
      out.push(encoder.tail());
    },
    { fs: options.fs, signal: options.signal, beforeReplace },
  );
  return records.count;
}

/**
 * Encodes batch after batch, counting records: a record that cannot be encoded is named by its
 * number; records that fail --require are collected, and after the first nothing is written.
 */
class RecordsWriter {
  count = 0;
  /** Records that fail --require: how many, and the first few. */
  problemCount = 0;
  private readonly problems: RequireProblem[] = [];
  private rows: BatchWriter | null = null;

  constructor(
    private readonly encoder: RecordEncoder,
    private readonly target: ExportTarget,
    private readonly options: WriteOptions,
  ) {}

  async write(batch: SourceBatch, out: ChunkWriter): Promise<void> {
    if (isTextBatch(batch) && this.writeText(batch, out)) return;
    if (this.rows?.columns !== batch.columns) this.rows = batchWriter(this.encoder, batch.columns, this.count + 1, this.target, this.options);
    // One string per batch: a push per record costs as much as encoding it.
    let text = '';
    for (const values of await batchRows(batch)) {
      this.count += 1;
      if (this.passes(this.rows.missing(values)) && this.problemCount === 0) text += encodeRecord(this.rows, values, this.count, this.target, this.options);
    }
    if (this.problemCount === 0) out.push(text);
  }

  tally(): RequireTally {
    return { count: this.count, problems: this.problems, problemCount: this.problemCount };
  }

  /** Whether a record has its required fields; if not, it is listed among the first failures. */
  private passes(missing: string[]): boolean {
    if (missing.length === 0) return true;
    this.problemCount += 1;
    if (this.problems.length < LISTED_PROBLEMS) this.problems.push({ record: this.count, fields: missing });
    return false;
  }

  /**
   * Text the database wrote, when the encoder takes it. Under --require only text whose source
   * checked the required columns (nonBlank), else the rows are read as values to check them.
   */
  private writeText(batch: TextBatch, out: ChunkWriter): boolean {
    const checked = batch.nonBlank ?? [];
    if (!this.options.require.every((name) => checked.includes(name))) return false;
    if (this.problemCount > 0) {
      // After a failure only the count matters, and these rows have the required fields.
      this.count += batch.count;
      return true;
    }
    const bytes = this.encoder.text?.(batch) ?? null;
    if (bytes === null) return false;
    this.count += batch.count;
    out.pushBytes(bytes);
    return true;
  }
}

/** How rows with one column list are encoded and checked; made once per list. */
interface BatchWriter {
  columns: readonly string[];
  encode: RowEncoder;
  missing: RequiredCheck;
}

function batchWriter(encoder: RecordEncoder, columns: readonly string[], n: number, target: ExportTarget, options: WriteOptions): BatchWriter {
  try {
    return { columns, encode: encoder.rows(columns), missing: requiredCheck(columns, options.require) };
  } catch (error) {
    throw cannotWrite(error, n, target, options);
  }
}

/** Encodes one record; a record that cannot be written fails the export, naming the record. */
function encodeRecord(rows: BatchWriter, values: readonly unknown[], n: number, target: ExportTarget, options: WriteOptions): string {
  try {
    return rows.encode(values);
  } catch (error) {
    throw cannotWrite(error, n, target, options);
  }
}

function cannotWrite(error: unknown, n: number, target: ExportTarget, options: WriteOptions): unknown {
  if (isSluiceError(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return exportWriteError(target.display, `record ${n} cannot be written as ${options.format.toUpperCase()}: ${reason}`, error);
}
