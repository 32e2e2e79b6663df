import type { ExportFileHandle } from './export-fs.js';

/**
 * Text is gathered into chunks of about this many UTF-16 units before each write. Measured on
 * 1M CSV rows: 64 Ki beat 16 Ki, 256 Ki, 1 Mi and 4 Mi (very long concatenated strings cost
 * more to flatten and encode than the extra write calls save).
 */
export const CHUNK_CHARS = 64 * 1024;

/**
 * A buffered writer over one file handle. `push` is synchronous so the per-record loop does not
 * pay an await per record; the caller awaits `flush` when `full` says a chunk is ready.
 */
export class ChunkWriter {
  private pending = '';

  constructor(
    private readonly handle: ExportFileHandle,
    private readonly signal?: AbortSignal,
  ) {}

  get full(): boolean {
    return this.pending.length >= CHUNK_CHARS;
  }

  push(text: string): void {
    this.pending += text;
  }

  async flush(): Promise<void> {
    this.signal?.throwIfAborted();
    if (this.pending === '') return;
    const chunk = Buffer.from(this.pending, 'utf8');
    this.pending = '';
    await this.writeBytes(chunk);
  }

  /** Writes raw bytes (after any pending text), looping over short writes. */
  async writeBytes(chunk: Uint8Array): Promise<void> {
    if (this.pending !== '') await this.flush();
    this.signal?.throwIfAborted();
    let offset = 0;
    while (offset < chunk.length) {
      const { bytesWritten } = await this.handle.write(chunk, offset, chunk.length - offset);
      // A regular file never accepts 0 bytes without an error; looping on it would never end.
      if (bytesWritten <= 0) throw new Error('the file system accepted no bytes');
      offset += bytesWritten;
    }
  }
}
