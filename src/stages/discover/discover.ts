import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { SluiceError, describeErrno } from '../../core/errors.js';

export interface DiscoveredFile {
  /**
   * The absolute path: the file ledger knows a file by it, so a run started from another working
   * directory (or with the config file named another way) still knows the files loaded before.
   */
  path: string;
  size: number;
}

export interface DiscoverOptions {
  inputs: readonly string[];
  sourceDir: string | null;
  pattern: string;
}

/**
 * Lists the run's input files, sorted by path so every run (and every resumed run) sees them in
 * the same order: "first seen" and "last seen" depend on it. A source directory with no file
 * that matches gives none: whether that is an error depends on the pipeline (see noFilesMatched).
 */
export async function discoverFiles(options: DiscoverOptions): Promise<DiscoveredFile[]> {
  const paths = options.sourceDir === null ? [...options.inputs] : await listSourceDir(options.sourceDir, options.pattern);
  // Resolved once here; an error about an input still names it as the user gave it.
  const byAbsolute = new Map(paths.map((given) => [path.resolve(given), given]));
  const unique = [...byAbsolute.keys()].sort(comparePaths);
  if (unique.length === 0 && options.sourceDir === null) throw noFilesMatched(options);
  return Promise.all(unique.map((absolute) => statInput(absolute, byAbsolute.get(absolute) ?? absolute)));
}

export function noFilesMatched(options: DiscoverOptions): SluiceError {
  const where = options.sourceDir === null ? 'the --input list' : `${options.sourceDir} (pattern ${options.pattern})`;
  return new SluiceError('CONFIG_NO_INPUT', `no input files matched ${where}`, {
    hint: 'check --source-dir and --pattern, or pass files with --input FILE',
  });
}

function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function listSourceDir(dir: string, pattern: string): Promise<string[]> {
  const info = await stat(dir).catch((error: unknown) => {
    throw new SluiceError('CONFIG_NO_INPUT', `cannot read source directory ${dir}: ${describeErrno(error)}`, { file: dir });
  });
  if (!info.isDirectory()) {
    throw new SluiceError('CONFIG_NO_INPUT', `--source-dir ${dir} is not a directory`, { file: dir });
  }
  // Loaded on use: a run given its files by name, and every other command, start without it.
  const { glob } = await import('tinyglobby');
  const found = await glob(pattern, { cwd: dir, onlyFiles: true, dot: false, followSymbolicLinks: true });
  return found.map((relative) => path.join(dir, relative));
}

async function statInput(file: string, given: string): Promise<DiscoveredFile> {
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    const reason = describeErrno(error);
    throw new SluiceError('CONFIG_NO_INPUT', `cannot read input file ${given}: ${reason}`, {
      file: given,
      hint: 'check the path given to --input',
    });
  }
  if (info.isDirectory()) {
    throw new SluiceError('CONFIG_NO_INPUT', `--input ${given} is a directory`, { file: given, hint: `load the files in it with --source-dir ${given} [--pattern GLOB]` });
  }
  // Not a regular file (a pipe, a device): its size is unknown, and reading it tells the rest.
  return { path: file, size: info.isFile() ? info.size : -1 };
}

/**
 * Below this size a file is hashed from one synchronous read: for a drop of many small files,
 * two thread-pool round trips per file (open, read) cost more than the bytes.
 */
const ONE_READ_BYTES = 1 << 20;

/** Content fingerprint: SHA-256 of the bytes as stored. `size`, when known, picks the cheaper read. */
export async function hashFile(file: string, size = Infinity): Promise<string> {
  if (size <= ONE_READ_BYTES) return createHash('sha256').update(readFileSync(file)).digest('hex');
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
