import { constants, createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { describeErrno, isSluiceError, type SluiceError } from '../../core/errors.js';
import { ChunkWriter } from './chunk-writer.js';
import { nodeExportFs, type ExportFs } from './export-fs.js';
import { errnoOf, exportWriteError, type ExportTarget } from './target.js';
import { createTempFile, sweepStaleTemps, type TempFile } from './temp-files.js';

export interface AtomicWriteOptions {
  fs?: ExportFs;
  /** Aborting (SIGINT/SIGTERM) stops the write at the next record; the temp file is removed. */
  signal?: AbortSignal;
  /** Permission bits for the new file; default: the existing target's, else 0o666 & ~umask. */
  mode?: number | null;
  /**
   * Runs once the new file is complete and synced, just before it replaces the target (the
   * export's --backup); when it fails, the target is untouched.
   */
  beforeReplace?: () => Promise<void>;
}

/** File systems that cannot fsync a directory say so with one of these; the data is still safe. */
const DIR_SYNC_UNSUPPORTED = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP']);

/**
 * Replaces `target` with what `fill` writes, so that the path always holds either the old
 * complete file or the new complete one: temp file in the same directory → write → fsync →
 * (beforeReplace) → rename over the target → fsync the directory (so the rename itself survives
 * a power cut).
 * On any failure the temp file is removed and the target is untouched.
 */
export async function writeFileAtomic(
  target: ExportTarget,
  fill: (out: ChunkWriter) => Promise<void>,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const fs = options.fs ?? nodeExportFs;
  const mode = options.mode === undefined ? target.mode : options.mode;
  await sweepStaleTemps(target.dir, fs);
  let temp: TempFile | null = null;
  let open = false;
  try {
    temp = await createTempFile(target.dir, mode ?? 0o666, fs);
    open = true;
    // The umask may have narrowed the creation mode; an existing file's bits are kept exactly.
    if (mode !== null) await temp.handle.chmod(mode);
    const out = new ChunkWriter(temp.handle, options.signal);
    await fill(out);
    await out.drain();
    await temp.handle.sync();
    open = false;
    await temp.handle.close();
    await options.beforeReplace?.();
    // Last moment to honour an interrupt: after the rename the new file is the export's result.
    options.signal?.throwIfAborted();
    await fs.rename(temp.path, target.path);
  } catch (error) {
    if (temp !== null) await discard(temp, open, fs);
    throw asWriteError(target, error, options.signal);
  }
  await syncDirectory(target, fs);
}

/** Copies `source` to `target` atomically (the backup of an output about to be replaced). */
export async function copyFileAtomic(source: string, target: ExportTarget, options: AtomicWriteOptions = {}): Promise<void> {
  await writeFileAtomic(
    target,
    async (out) => {
      for await (const chunk of createReadStream(source, { highWaterMark: 1024 * 1024 })) {
        await out.writeBytes(chunk as Buffer);
      }
    },
    options,
  );
}

async function discard(temp: TempFile, open: boolean, fs: ExportFs): Promise<void> {
  if (open) await temp.handle.close().catch(() => undefined);
  await fs.unlink(temp.path).catch(() => undefined);
}

async function syncDirectory(target: ExportTarget, fs: ExportFs): Promise<void> {
  try {
    const dir = await fs.open(target.dir, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch (error) {
    if (DIR_SYNC_UNSUPPORTED.has(errnoOf(error) ?? '')) return;
    const reason = `the new file is in place, but flushing directory ${target.dir} to disk failed: ${describeErrno(error)}`;
    throw exportWriteError(labelOf(target), reason, error);
  }
}

function asWriteError(target: ExportTarget, error: unknown, signal: AbortSignal | undefined): SluiceError {
  if (isSluiceError(error)) return error;
  if (signal?.aborted) return exportWriteError(labelOf(target), interruptReason(signal.reason), error);
  return exportWriteError(labelOf(target), describeErrno(error), error);
}

function interruptReason(reason: unknown): string {
  return reason instanceof Error && reason.name !== 'AbortError' ? reason.message : 'interrupted';
}

/** Names the link's destination too, so `permission denied` points at the right directory. */
function labelOf(target: ExportTarget): string {
  return target.path === resolve(target.display) ? target.display : `${target.display} (a link to ${target.path})`;
}
