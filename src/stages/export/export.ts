import { isSluiceError, SluiceError } from '../../core/errors.js';
import type { Fields } from '../../core/record.js';
import { copyFileAtomic, writeFileAtomic } from './atomic-file.js';
import { createEncoder, type RecordEncoder } from './encoders.js';
import { nodeExportFs, type ExportFs } from './export-fs.js';
import { missingRequired, requireFailureMessage, scanRecords } from './scan.js';
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
  const encoder = createEncoder(options.format, { columns, formulaGuard: options.formulaGuard ?? true, checkEveryRecord: needsHeaderPass });
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
  let count = 0;
  await writeFileAtomic(
    target,
    async (out) => {
      out.push(encoder.head());
      for await (const fields of source()) {
        options.signal?.throwIfAborted();
        count += 1;
        out.push(encodeRecord(encoder, fields, count, target, options));
        if (out.full) await out.flush();
      }
      out.push(encoder.tail());
    },
    { fs: options.fs, signal: options.signal },
  );
  return count;
}

/** Encodes one record; a record that cannot be written fails the export, naming the record. */
function encodeRecord(encoder: RecordEncoder, fields: Fields, n: number, target: ExportTarget, options: WriteOptions): string {
  try {
    // Checked again while writing: the source may have changed since the validation pass.
    const missing = options.require.length > 0 ? missingRequired(fields, options.require) : [];
    if (missing.length > 0) {
      const message = `nothing exported to ${target.display}: record ${n} lacks required fields (${missing.join(', ')}); the source changed during the export`;
      throw new SluiceError('EXPORT_VALIDATE', message, { file: target.display });
    }
    return encoder.record(fields);
  } catch (error) {
    if (isSluiceError(error)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw exportWriteError(target.display, `record ${n} cannot be written as ${options.format.toUpperCase()}: ${reason}`, error);
  }
}
