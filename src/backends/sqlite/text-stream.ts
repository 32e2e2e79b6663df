import { isUtf8 } from 'node:buffer';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { SourceBatch } from '../../core/row-batch.js';
import type { ColumnSpec } from '../backend.js';
import { integralColumns, readIntegers } from './sqlite-target.js';
import { RENDERED_DIFFERENTLY, textRenderSql } from './text-render.js';

/** Batches rendered ahead of the consumer: enough to keep both threads busy, little memory. */
const WINDOW = 4;

/**
 * The thread's program: its own read-only connection and one read transaction (one snapshot,
 * as one statement would give), batch after batch while it has credit; a batch with a BLOB, or
 * a blank cell in a required column, goes as values. It does only the SQL, the larger share of the work. After the last batch it stays
 * to answer `rows` requests from the same snapshot, until `stop`. Evaluated as a string so the
 * built package and the tests on the TypeScript source run the same program.
 */
const PROGRAM = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const { sql, integral } = workerData;
let credit = workerData.window;
let stopped = false;
let wake = null;
const post = (message, transfer) => parentPort.postMessage(message, transfer);
// Hands the bytes over instead of copying them, when nothing else shares their memory.
const owns = (bytes) => bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
const fail = (error) => post({ type: 'error', message: String(error && error.message), code: error && error.code });
let db;
let q;
function open() {
  db = new Database(workerData.file, { readonly: true, fileMustExist: true });
  const prepare = (text, raw) => db.prepare(text).safeIntegers(true).raw(raw);
  q = {
    first: prepare(sql.first, false).pluck(), last: prepare(sql.last, false).pluck(), next: prepare(sql.next, false).pluck(),
    range: prepare(sql.range, true), tail: prepare(sql.tail, true),
    rangeRows: db.prepare(sql.rangeRows).raw(true).safeIntegers(integral), tailRows: db.prepare(sql.tailRows).raw(true).safeIntegers(integral),
  };
}
const rows = (start, end) => (end === null ? q.tailRows.all(start) : q.rangeRows.all(start, end));
parentPort.on('message', (message) => {
  if (message.type === 'credit') credit += 1;
  else if (message.type === 'stop') stopped = true;
  else if (message.type === 'rows') {
    try {
      post({ type: 'rows', id: message.id, rows: rows(message.start, message.end) });
    } catch (error) {
      fail(error);
    }
  }
  if (wake !== null) { const resume = wake; wake = null; resume(); }
});
const idle = () => new Promise((resume) => { wake = resume; });
async function render() {
  let start = q.first.get();
  while (start !== null && !stopped) {
    if (credit === 0) { await idle(); continue; }
    credit -= 1;
    const end = q.last.get(start) ?? null;
    const [count, asValues, bytes] = end === null ? q.tail.get(start) : q.range.get(start, end);
    if (count === 0n) break;
    if (asValues) post({ type: 'values', rows: rows(start, end) });
    else post({ type: 'text', count: Number(count), bytes, start, end }, owns(bytes) ? [bytes.buffer] : []);
    start = end === null ? null : q.next.get(end) ?? null;
  }
  post({ type: 'done' });
}
(async () => {
  try {
    open();
    db.exec('BEGIN');
    await render();
  } catch (error) {
    fail(error);
  }
  while (!stopped) await idle();
  if (db && db.open) db.close();
  parentPort.close();
})();
`;

const driver = createRequire(import.meta.url).resolve('better-sqlite3');

/** What the thread streams, in order. */
type Streamed =
  | { type: 'text'; count: number; bytes: Uint8Array; start: bigint; end: bigint | null }
  | { type: 'values'; rows: unknown[][] }
  | { type: 'done' };

type FromThread = Streamed | { type: 'rows'; id: number; rows: unknown[][] } | { type: 'error'; message: string; code?: string };

/**
 * A table's rows as TextBatches, rendered by SQLite on a second thread while this one encodes.
 * Measured on the bench's 1M-row table (786,529 rows, 2-core machine): 2.4 s for the export
 * reading values, 1.2 to 1.3 s with SQLite writing the text (`sqlite3 -csv`: 1.0 to 1.1 s).
 * Text that is not UTF-8 or may hold a REAL as SQLite writes it (RENDERED_DIFFERENTLY) is read
 * again as values. With `required` columns, so is a batch with a row whose cell in one is blank
 * (the text batches then promise there is none: TextBatch.nonBlank).
 */
export async function* streamTextBatches(file: string, table: string, columns: readonly ColumnSpec[], required: readonly string[] = []): AsyncGenerator<SourceBatch> {
  const names = columns.map((c) => c.name);
  const integral = integralColumns(columns);
  const readRow = (values: unknown[]): unknown[] => readIntegers(withBuffers(values), integral);
  const workerData = { driver, file, sql: textRenderSql(table, columns, required), integral: integral.includes(true), window: WINDOW };
  const thread = new ThreadInbox(new Worker(PROGRAM, { eval: true, workerData }));
  try {
    for (;;) {
      const message = await thread.next();
      if (message.type === 'done') return;
      thread.post({ type: 'credit' });
      if (message.type === 'values') {
        yield { columns: names, rows: message.rows.map(readRow) };
        continue;
      }
      const { start, end, bytes } = message;
      const rows = async (): Promise<unknown[][]> => (await thread.rows(start, end)).map(readRow);
      if (rendersAsJavaScript(bytes)) yield { columns: names, count: message.count, bytes, rows, nonBlank: required };
      else yield { columns: names, rows: await rows() };
    }
  } finally {
    await thread.stop();
  }
}

/** Structured clone makes a Buffer a plain Uint8Array: the rows read here hold Buffers (in place). */
function withBuffers(values: unknown[]): unknown[] {
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i];
    if (value instanceof Uint8Array && !Buffer.isBuffer(value)) values[i] = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  return values;
}

function rendersAsJavaScript(bytes: Uint8Array): boolean {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Latin-1: one character per byte, enough for an ASCII pattern, and cheap to make.
  return isUtf8(buffer) && !RENDERED_DIFFERENTLY.test(buffer.toString('latin1'));
}

/** The thread's messages in order, and its answers to `rows` requests by id. */
class ThreadInbox {
  private readonly queue: Streamed[] = [];
  private readonly answers = new Map<number, (rows: unknown[][]) => void>();
  private waiting: (() => void) | null = null;
  private failure: Error | null = null;
  private rejectFailed: (error: Error) => void = () => {};
  /** Rejects with the thread's failure; a pending `rows` request races it. */
  private readonly failed = new Promise<never>((_resolve, reject) => (this.rejectFailed = reject));
  private nextId = 0;
  private readonly exited: Promise<void>;

  constructor(private readonly worker: Worker) {
    this.failed.catch(() => {});
    worker.on('message', (message: FromThread) => this.receive(message));
    worker.on('error', (error) => this.fail(error));
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    void this.exited.then(() => this.fail(new Error('the export thread stopped before the end of the table')));
  }

  post(message: object): void {
    this.worker.postMessage(message);
  }

  async next(): Promise<Streamed> {
    for (;;) {
      if (this.failure !== null) throw this.failure;
      const message = this.queue.shift();
      if (message !== undefined) return message;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }

  async rows(start: bigint, end: bigint | null): Promise<unknown[][]> {
    if (this.failure !== null) throw this.failure;
    const id = (this.nextId += 1);
    const answer = new Promise<unknown[][]>((resolve) => this.answers.set(id, resolve));
    this.post({ type: 'rows', id, start, end });
    return Promise.race([answer, this.failed]);
  }

  async stop(): Promise<void> {
    this.post({ type: 'stop' });
    await this.exited;
  }

  private receive(message: FromThread): void {
    if (message.type === 'error') return this.fail(Object.assign(new Error(message.message), { code: message.code }));
    if (message.type === 'rows') {
      this.answers.get(message.id)?.(message.rows);
      this.answers.delete(message.id);
      return;
    }
    this.queue.push(message);
    this.wake();
  }

  private fail(error: Error): void {
    if (this.failure === null) {
      this.failure = error;
      this.rejectFailed(error);
    }
    this.wake();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.();
  }
}
