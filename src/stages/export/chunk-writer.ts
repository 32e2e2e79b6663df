import type { ExportFileHandle } from './export-fs.js';

/**
 * Text is gathered into chunks of about this many UTF-16 units before each write. Measured on
 * 1M CSV rows: 64 Ki beat 16 Ki, 256 Ki, 1 Mi and 4 Mi (very long concatenated strings cost
 * more to flatten and encode than the extra write calls save).
 */
export const CHUNK_CHARS = 64 * 1024;

/**
 * A buffered writer over one file handle. `push` and `pushBytes` are synchronous so the
 * per-record loop does not pay an await per record; the caller awaits `flush` when `full` says a
 * chunk is ready (text and bytes count alike, a character or a byte each). A flushed
 * chunk is written while the caller encodes the next one (one write in flight); its failure is
 * thrown by the next `flush` or by `drain`, which the caller awaits before the file counts.
 */
export class ChunkWriter {
  private pending = '';
  /** Bytes pushed, and the text pushed before them, in order. */
  private parts: Uint8Array[] = [];
  private partBytes = 0;
  /** The write in flight: resolves to its error, or null, so a failure is never unhandled. */
  private inFlight: Promise<unknown> = Promise.resolve(null);

  constructor(
    private readonly handle: ExportFileHandle,
    private readonly signal?: AbortSignal,
  ) {}

  get full(): boolean {
    return this.pending.length + this.partBytes >= CHUNK_CHARS;
  }

  push(text: string): void {
    this.pending += text;
  }

  /** Bytes already encoded; the writer keeps them until written, so they must not change. */
  pushBytes(bytes: Uint8Array): void {
    this.takePending();
    this.parts.push(bytes);
    this.partBytes += bytes.length;
  }

  /** Starts writing what was pushed once the previous write has finished. */
  async flush(): Promise<void> {
    await this.settle();
    this.takePending();
    if (this.parts.length === 0) return;
    const chunk = this.parts.length === 1 ? (this.parts[0] as Uint8Array) : Buffer.concat(this.parts);
    this.parts = [];
    this.partBytes = 0;
    this.inFlight = this.write(chunk).then(
      () => null,
      (error: unknown) => error ?? new Error('write failed'),
    );
  }

  private takePending(): void {
    if (this.pending === '') return;
    const bytes = Buffer.from(this.pending, 'utf8');
    this.pending = '';
    this.parts.push(bytes);
    this.partBytes += bytes.length;
  }

  /** Everything pushed is written (or its failure thrown). */
  async drain(): Promise<void> {
    await this.flush();
    await this.settle();
  }

  /** Writes raw bytes after any pending text, and waits for them. */
  async writeBytes(chunk: Uint8Array): Promise<void> {
    await this.drain();
    await this.write(chunk);
  }

  private async settle(): Promise<void> {
    const error = await this.inFlight;
    this.inFlight = Promise.resolve(null);
    if (error !== null) throw error;
    this.signal?.throwIfAborted();
  }

  /** Loops over short writes. */
  private async write(chunk: Uint8Array): Promise<void> {
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
