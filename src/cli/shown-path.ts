import path from 'node:path';

/**
 * How a human table shows a file the ledger knows by its absolute path: relative to the working
 * directory when the file is under it (shorter, as the user typed it), absolute otherwise.
 * JSON output keeps the absolute path, which means the same from anywhere.
 */
export function shownPath(file: string): string {
  if (!path.isAbsolute(file)) return file;
  const relative = path.relative(process.cwd(), file);
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}
