import { constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { ExportFileHandle, ExportFs } from './export-fs.js';
import { errnoOf } from './target.js';

/**
 * Temp files are `.sluice-<8 random hex>.tmp` in the target's directory: short (a 250-byte target
 * name still works, the temp name does not grow with it), unpredictable (a name planted in
 * advance is a guess against 2^32), and recognizable, so a later export can sweep what a killed
 * one left behind. No pid is encoded: staleness is judged by modification time instead (below).
 */
const TEMP_NAME = /^\.sluice-[0-9a-f]{8}\.tmp$/;

/**
 * A temp file untouched for this long is an orphan. A live export rewrites its temp file with
 * every chunk (see ChunkWriter) and creates it only after its read-only passes are done, so an
 * hour of silence means the writer is gone. Even a wrong guess is safe: the writer's rename then
 * fails with ENOENT and the target keeps its old complete content.
 */
export const STALE_TEMP_AGE_MS = 60 * 60 * 1000;

const CREATE_ATTEMPTS = 5;

export function tempFileName(): string {
  return `.sluice-${randomBytes(4).toString('hex')}.tmp`;
}

export function isTempFileName(name: string): boolean {
  return TEMP_NAME.test(name);
}

export interface TempFile {
  path: string;
  handle: ExportFileHandle;
}

/**
 * Creates a fresh temp file exclusively: O_EXCL fails on any existing name, a symlink included,
 * so a link planted at the name is never followed; O_NOFOLLOW says the same twice. A name that is
 * taken is retried under another random name.
 *
 * `mode` is the creation mode before the umask: the existing target's bits (so the temp file is
 * never more readable than the file it replaces), else 0o666 like any new file.
 */
export async function createTempFile(dir: string, mode: number, fs: ExportFs): Promise<TempFile> {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  for (let attempt = 1; ; attempt += 1) {
    const path = join(dir, tempFileName());
    try {
      return { path, handle: await fs.open(path, flags, mode) };
    } catch (error) {
      if (errnoOf(error) !== 'EEXIST' || attempt === CREATE_ATTEMPTS) throw error;
    }
  }
}

/**
 * Removes temp files that killed exports left in `dir`, when stale. Best effort: an unreadable
 * directory or a file removed meanwhile is no reason to fail the export that sweeps.
 * Returns the names removed.
 */
export async function sweepStaleTemps(dir: string, fs: ExportFs, now = Date.now()): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names.filter(isTempFileName)) {
    const path = join(dir, name);
    try {
      // lstat: a planted symlink with our prefix is judged (and removed) as the link itself.
      const stats = await fs.lstat(path);
      if (now - stats.mtimeMs < STALE_TEMP_AGE_MS || stats.isDirectory()) continue;
      await fs.unlink(path);
      removed.push(name);
    } catch {
      // Gone already, or not ours to remove: leave it.
    }
  }
  return removed;
}
