import type { Backend } from '../backends/backend.js';
import { SluiceError } from '../core/errors.js';
import type { WatermarkRow } from '../ledger/ledger.js';
import { compareSortable, parseCursor, type CursorType } from '../stages/watermark/index.js';
import { onePipeline, reading, settingsOf, storedName, writing, type InspectOptions } from './inspect-common.js';
import { shellQuote } from './inspect-status.js';
import { acquirePipelineLock } from './lock.js';
import { loadedFilesByPath } from './rereads.js';

export interface WatermarkInfo {
  pipeline: string;
  /** The cursor field and type the pipeline's next run will use (null: it has no cursor). */
  cursor: string | null;
  cursor_type: CursorType | null;
  watermark: { cursor: string; type: string; value: string; updated_at: string; run_id: number | null } | null;
  /** False when the stored value is not a valid cursor value (the next run would stop). */
  valid: boolean | null;
}

export interface WatermarkChange {
  pipeline: string;
  cursor: string;
  type: CursorType;
  previous: string | null;
  /** null after a reset. */
  value: string | null;
  change: 'new' | 'forward' | 'backward' | 'same' | 'replaced-invalid' | 'reset' | 'none';
  notes: string[];
}

/** `sluice watermark show`: the named pipeline, or every pipeline with a cursor or a watermark. */
export async function showWatermark(options: InspectOptions): Promise<WatermarkInfo[]> {
  return reading(options.db, [], async (backend) => {
    const pipelines = options.pipeline === undefined ? await backend.queries.pipelines() : [options.pipeline];
    const infos: WatermarkInfo[] = [];
    for (const pipeline of pipelines) {
      const stored = await backend.ledger.getWatermark(pipeline);
      const cursor = await cursorOf(backend, pipeline, stored);
      if (stored === null && cursor === null && options.pipeline === undefined) continue;
      infos.push({
        pipeline,
        cursor: cursor?.field ?? null,
        cursor_type: cursor?.type ?? null,
        watermark: stored === null ? null : { cursor: stored.cursor, type: stored.type, value: stored.value, updated_at: stored.updatedAt, run_id: stored.runId },
        valid: stored === null ? null : parseCursor(stored.value, cursor?.type ?? 'timestamp') !== null,
      });
    }
    return infos;
  });
}

/**
 * The cursor of the pipeline: the stored watermark's field, typed as the latest run declared
 * it (`--type ts=number`; default timestamp); without a watermark, the latest run's --cursor.
 */
export async function cursorOf(backend: Backend, pipeline: string, stored: WatermarkRow | null): Promise<{ field: string; type: CursorType } | null> {
  const latest = (await backend.ledger.listRuns({ pipeline, limit: 1 }))[0];
  const settings = latest === undefined ? {} : settingsOf(latest);
  const runField = settings.cursor === undefined || settings.cursor === null ? null : storedName(settings, settings.cursor);
  if (runField !== null && (stored === null || stored.cursor === runField)) {
    const declared = Object.entries(settings.types ?? {}).find(([field]) => storedName(settings, field) === runField)?.[1];
    return { field: runField, type: declared === 'number' || declared === 'integer' ? declared : 'timestamp' };
  }
  if (stored === null) return null;
  return { field: stored.cursor, type: stored.type === 'number' ? 'number' : 'timestamp' };
}

function expected(type: CursorType): string {
  return type === 'timestamp' ? 'an ISO-8601 timestamp (like 2025-01-15T12:00:00)' : type === 'integer' ? 'an integer' : 'a number';
}

/**
 * `sluice watermark set VALUE`: validated against the cursor type; moving it back needs
 * `force` (the next run then reloads what lies between). A stored value that is not a valid
 * cursor value (the run stops on it) can be replaced without `force`: it is no position.
 */
export async function setWatermark(options: InspectOptions & { value: string; force?: boolean }): Promise<WatermarkChange> {
  return writing(options.db, async (backend) => {
    const pipeline = await onePipeline(backend, options.pipeline);
    const release = await acquirePipelineLock(backend, pipeline);
    try {
      const stored = await backend.ledger.getWatermark(pipeline);
      const cursor = await requireCursor(backend, pipeline, stored);
      const next = parseCursor(options.value, cursor.type);
      if (next === null) {
        throw new SluiceError('WATERMARK_INVALID', `"${options.value}" is not a valid watermark for pipeline ${pipeline}: cursor ${cursor.field} expects ${expected(cursor.type)}`);
      }
      const previous = stored === null ? null : parseCursor(stored.value, cursor.type);
      const order = previous === null ? null : compareSortable(next.sortable, previous.sortable);
      if (order !== null && order < 0 && options.force !== true) {
        throw new SluiceError('WATERMARK_BACKWARDS', `watermark of pipeline ${pipeline} is ${stored?.value ?? ''}; ${next.value} would move it back, and the next run would reload the records in between`, {
          hint: `if that is what you want: sluice watermark set ${shellQuote(options.value)} --db ${shellQuote(backend.location)} --pipeline ${shellQuote(pipeline)} --force`,
        });
      }
      const type = typeof next.sortable === 'number' ? 'number' : 'timestamp';
      const back = order !== null && order < 0;
      await backend.transaction(async (tx) => {
        await tx.ledger.setWatermark({ pipeline, cursor: cursor.field, type, value: next.value, runId: null });
        if (back) await tx.ledger.markReread(pipeline, `watermark ${cursor.field} moved back`);
      });
      const notes = await unfinishedNote(backend, pipeline);
      if (back) notes.push(...(await rereadNotes(backend, pipeline, `loads their records with ${cursor.field} at or after ${next.value} that its strategy accepts`)));
      if (stored !== null && previous === null) notes.unshift(`the stored value "${stored.value}" was not ${expected(cursor.type)}; replaced`);
      const change = stored === null ? 'new' : previous === null ? 'replaced-invalid' : order === 0 ? 'same' : (order ?? 0) > 0 ? 'forward' : 'backward';
      return { pipeline, cursor: cursor.field, type: cursor.type, previous: stored?.value ?? null, value: next.value, change, notes };
    } finally {
      await release();
    }
  });
}

async function requireCursor(backend: Backend, pipeline: string, stored: WatermarkRow | null): Promise<{ field: string; type: CursorType }> {
  const cursor = await cursorOf(backend, pipeline, stored);
  if (cursor !== null) return cursor;
  const pipelines = await backend.queries.pipelines();
  const known = pipelines.includes(pipeline) ? `its latest run has no --cursor` : `it has no runs (pipelines: ${pipelines.join(', ') || 'none yet'})`;
  throw new SluiceError('WATERMARK_INVALID', `pipeline ${pipeline} has no cursor to set a watermark on: ${known}`, {
    hint: 'a watermark needs a cursor field: run the pipeline with --cursor FIELD first',
  });
}

/** An unfinished run keeps the watermark it started with, and moves it when it completes. */
async function unfinishedNote(backend: Backend, pipeline: string): Promise<string[]> {
  const run = await backend.ledger.findUnfinishedRun(pipeline);
  if (run === null) return [];
  return [`run ${run.id} is unfinished: resumed, it keeps the watermark it started with (${run.watermarkBefore ?? 'none'}), and sets a newer one when it completes; start over with sluice run ... --restart to use this one`];
}

/** What a re-read mark (rereads.ts) means for the pipeline's next run. */
async function rereadNotes(backend: Backend, pipeline: string, loads: string): Promise<string[]> {
  const loaded = (await loadedFilesByPath(backend, pipeline)).size;
  if (loaded === 0) return [];
  const notes = [`the next run reads the ${loaded} file(s) loaded so far again, from their start, and ${loads}`];
  const latest = (await backend.ledger.listRuns({ pipeline, limit: 1 }))[0];
  if (latest !== undefined && settingsOf(latest).strategy === 'append') {
    notes.push('strategy append keeps every record: the records of those files already in the table are appended again');
  }
  return notes;
}

/**
 * `sluice watermark reset`: deletes the watermark, so the next run filters nothing by cursor,
 * and leaves a re-read mark, so it reads the files loaded so far again.
 */
export async function resetWatermark(options: InspectOptions & { confirm: boolean }): Promise<WatermarkChange> {
  return writing(options.db, async (backend) => {
    const pipeline = await onePipeline(backend, options.pipeline);
    const release = await acquirePipelineLock(backend, pipeline);
    try {
      const stored = await backend.ledger.getWatermark(pipeline);
      const cursor = (await cursorOf(backend, pipeline, stored)) ?? { field: '', type: 'timestamp' as const };
      const base = { pipeline, cursor: stored?.cursor ?? cursor.field, type: cursor.type, previous: stored?.value ?? null };
      if (stored === null || !options.confirm) return { ...base, value: stored?.value ?? null, change: 'none', notes: [] };
      await backend.transaction(async (tx) => {
        await tx.ledger.deleteWatermark(pipeline);
        await tx.ledger.markReread(pipeline, `watermark ${stored.cursor} reset`);
      });
      const notes = await unfinishedNote(backend, pipeline);
      notes.push(...(await rereadNotes(backend, pipeline, 'loads every record its strategy accepts')));
      return { ...base, value: null, change: 'reset', notes };
    } finally {
      await release();
    }
  });
}
