import type { Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';

/** The few file-handle operations the atomic writer uses. */
export interface ExportFileHandle {
  write(buffer: Uint8Array, offset: number, length: number): Promise<{ bytesWritten: number }>;
  /** fsync(2). */
  sync(): Promise<void>;
  chmod(mode: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The file-system operations of an export, as one seam. Production uses `nodeExportFs`; tests
 * pass a wrapper that fails one call (ENOSPC, EROFS) or records the fsync/rename order.
 */
export interface ExportFs {
  open(path: string, flags: number, mode?: number): Promise<ExportFileHandle>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  lstat(path: string): Promise<Stats>;
  stat(path: string): Promise<Stats>;
  readlink(path: string): Promise<string>;
  readdir(path: string): Promise<string[]>;
}

export const nodeExportFs: ExportFs = {
  open: (path, flags, mode) => fsp.open(path, flags, mode),
  rename: (from, to) => fsp.rename(from, to),
  unlink: (path) => fsp.unlink(path),
  lstat: (path) => fsp.lstat(path),
  stat: (path) => fsp.stat(path),
  readlink: (path) => fsp.readlink(path),
  readdir: (path) => fsp.readdir(path),
};
