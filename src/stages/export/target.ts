import type { Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describeErrno, SluiceError } from '../../core/errors.js';
import type { ExportFs } from './export-fs.js';

/** Where an export will land, resolved once before any pass over the records. */
export interface ExportTarget {
  /** The path as the user gave it: what messages name. */
  display: string;
  /** The file that will be replaced: the path itself, or where its chain of symlinks ends. */
  path: string;
  /** The directory of `path`: temp files are created here so the final rename stays atomic. */
  dir: string;
  /** Permission bits of the existing file (kept by the new one), or null for a new file. */
  mode: number | null;
}

/** Linux's own limit (MAXSYMLINKS); a longer chain is almost surely a loop. */
const MAX_SYMLINK_HOPS = 40;

/**
 * Resolves the output path and refuses what cannot be replaced atomically.
 *
 * A target that is a symlink is written THROUGH: the file at the end of the link chain is
 * replaced atomically, in that file's own directory, and the link stays a link. Replacing the
 * link itself with a regular file would silently break links kept by ops tooling (current →
 * release-42/out.csv), and a temp file beside the link could sit on another file system than the
 * file it replaces, where rename is not atomic. A dangling link creates the file it points to.
 */
export async function resolveTarget(display: string, fs: ExportFs): Promise<ExportTarget> {
  let current = resolve(display);
  for (let hops = 0; ; hops += 1) {
    const stats = await lstatOrNull(display, current, fs);
    if (stats === null) return newFileTarget(display, current, hops === 0 ? dirname(display) : dirname(current), fs);
    if (!stats.isSymbolicLink()) return existingFileTarget(display, current, stats);
    if (hops === MAX_SYMLINK_HOPS) throw exportWriteError(display, 'too many levels of symbolic links');
    current = resolve(dirname(current), await fs.readlink(current));
  }
}

async function lstatOrNull(display: string, path: string, fs: ExportFs): Promise<Stats | null> {
  try {
    return await fs.lstat(path);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return null;
    throw exportWriteError(display, describeErrno(error), error);
  }
}

/** `shownDir` is the directory as the user would write it: the given path's, unless a link led elsewhere. */
async function newFileTarget(display: string, path: string, shownDir: string, fs: ExportFs): Promise<ExportTarget> {
  const dir = dirname(path);
  let stats: Stats;
  try {
    stats = await fs.stat(dir);
  } catch (error) {
    const code = errnoOf(error);
    const reason = code === 'ENOENT' || code === 'ENOTDIR' ? `directory ${shownDir} does not exist` : describeErrno(error);
    throw exportWriteError(display, reason, error);
  }
  if (!stats.isDirectory()) throw exportWriteError(display, `${shownDir} is not a directory`);
  return { display, path, dir, mode: null };
}

function existingFileTarget(display: string, path: string, stats: Stats): ExportTarget {
  if (stats.isDirectory()) throw exportWriteError(display, 'it is a directory');
  // A FIFO or a device (/dev/stdout) cannot be swapped by rename; refusing beats a non-atomic write.
  if (!stats.isFile()) throw exportWriteError(display, 'it is not a regular file, so it cannot be replaced atomically');
  return { display, path, dir: dirname(path), mode: stats.mode & 0o7777 };
}

/** `cannot write data/out.csv: permission denied`: one line naming the path and the reason. */
export function exportWriteError(display: string, reason: string, cause?: unknown): SluiceError {
  return new SluiceError('EXPORT_WRITE', `cannot write ${display}: ${reason}`, { file: display, cause });
}

export function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}
