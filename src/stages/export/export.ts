import { isSluiceError, SluiceError } from '../../core/errors.js';
import { batchRows, isTextBatch, type SourceBatch, type TextBatch } from '../../core/row-batch.js';
import type { ChunkWriter } from './chunk-writer.js';
import { copyFileAtomic, writeFileAtomic } from './atomic-file.js';
import { createEncoder, type RecordEncoder, type RowEncoder } from './encoders.js';
import { nodeExportFs, type ExportFs } from './export-fs.js';
import { requireFailureMessage, requiredCheck, scanRecords, type RequiredCheck } from './scan.js';
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
 * constant memory: a read-only one first when --require, a CSV header or a dry-run count needs
 * it, then the writing one. Nothing is created before the read-only pass has succeeded.
 */
export async function exportRecords(source: RowSource, options: ExportOptions): Promise<ExportResult> {
  const fs = options.fs ?? nodeExportFs;
  const required = options.require ?? [];
  const target = await resolveTarget(options.output, fs);
  const needsHeaderPass = options.format === 'csv' && options.columns === undefined;
  let columns = options.columns ?? [];
  let counted = 0;
  if (needsHeaderPass || required.length > 0 || options.dryRun) {
    const scan = await scanRecords(source(), { require: required, collectColumns: needsHeaderPass, signal: options.signal });
    if (scan.problemCount > 0) {
      throw new SluiceError('EXPORT_VALIDATE', requireFailureMessage(options.output, scan), { file: options.output });
    }
    if (needsHeaderPass) columns = scan.columns;
    counted = scan.count;
  }
  const done = { format: options.format, path: options.output };
  if (options.dryRun) return { status: 'dry-run', exported: counted, backup: null, ...done };
  const backup = options.backup ? await keepBackup(target, fs, options.signal) : null;
  const encoder = createEncoder(options.format, { columns, formulaGuard: options.formulaGuard ?? true });
  const exported = await writeRecords(source, target, encoder, { ...options, fs, require: required });
  return { status: 'exported', exported, backup, ...done };
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

async function writeRecords(source: RowSource, target: ExportTarget, encoder: RecordEncoder, options: WriteOptions): Promise<number> {
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
      out.push(encoder.tail());
    },
    { fs: options.fs, signal: options.signal },
  );
  return records.count;
}

/** Encodes batch after batch, counting records: a record that fails is named by its number. */
class RecordsWriter {
  count = 0;
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
    for (const values of await batchRows(batch)) text += encodeRecord(this.rows, values, (this.count += 1), this.target, this.options);
    out.push(text);
  }

  /** Text the database wrote, when the encoder takes it; --require checks values, so reads them. */
  private writeText(batch: TextBatch, out: ChunkWriter): boolean {
    if (this.options.require.length > 0) return false;
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
    // Checked again while writing: the source may have changed since the validation pass.
    const missing = rows.missing(values);
    if (missing.length > 0) {
      const message = `nothing exported to ${target.display}: record ${n} lacks required fields (${missing.join(', ')}); the source changed during the export`;
      throw new SluiceError('EXPORT_VALIDATE', message, { file: target.display });
    }
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
