import path from 'node:path';
import type { Backend } from '../backends/backend.js';
import type { LoadedFile, RereadMark, RunFileRow } from '../ledger/ledger.js';

/**
 * `watermark reset` (or a watermark moved back) leaves a re-read mark after the newest run: runs
 * started after it read again what runs up to it loaded, so the next run reloads everything the
 * strategy accepts. A run started before the mark (an unfinished run resumed) keeps its plan.
 */
export function forgets(mark: RereadMark | null, runId: number, loadedBy: number): boolean {
  return mark !== null && runId > mark.afterRun && loadedBy <= mark.afterRun;
}

/**
 * The pipeline's loaded files by absolute path. Earlier versions stored a path as given,
 * relative to the working directory of its run: resolved from this one, a file they loaded is
 * still known (the newest entry wins where both forms were stored).
 */
export async function loadedFilesByPath(backend: Backend, pipeline: string): Promise<Map<string, LoadedFile>> {
  return byAbsolutePath(await backend.ledger.loadedFiles(pipeline));
}

export function byAbsolutePath<T extends { runId: number }>(stored: Map<string, T>): Map<string, T> {
  const byPath = new Map<string, T>();
  for (const [file, entry] of stored) {
    const absolute = path.resolve(file);
    const known = byPath.get(absolute);
    if (known === undefined || entry.runId >= known.runId) byPath.set(absolute, entry);
  }
  return byPath;
}

/**
 * The ids of paths an earlier version stored relative, mapped to the id of the same file (by its
 * absolute path, resolved from this working directory) in run `runId`: the letters waiting under
 * the old path are still found when the file is read again.
 */
export async function legacyFileIds(backend: Backend, runId: number): Promise<Map<number, number>> {
  const aliases = new Map<number, number>();
  const legacy = await backend.ledger.relativePaths();
  if (legacy.length === 0) return aliases;
  const current = new Map((await backend.ledger.runFiles(runId)).map((file) => [path.resolve(file.path), file.fileId]));
  for (const stored of legacy) {
    const id = current.get(path.resolve(stored.path));
    if (id !== undefined && id !== stored.id) aliases.set(stored.id, id);
  }
  return aliases;
}

/** The files earlier loads leave for run `runId` to skip (unchanged) or read on (failed part-way). */
export async function earlierLoads(
  backend: Backend,
  pipeline: string,
  runId: number,
  partlyFailed: boolean,
): Promise<{ loaded: Map<string, LoadedFile>; partlyFailed: Map<string, RunFileRow> }> {
  const mark = await backend.ledger.rereadMark(pipeline);
  const loaded = await loadedFilesByPath(backend, pipeline);
  for (const [file, entry] of loaded) if (forgets(mark, runId, entry.runId)) loaded.delete(file);
  const failed = partlyFailed ? byAbsolutePath(await backend.ledger.partlyFailedFiles(pipeline)) : new Map<string, RunFileRow>();
  for (const [file, entry] of failed) if (forgets(mark, runId, entry.runId)) failed.delete(file);
  return { loaded, partlyFailed: failed };
}

/** What a new run says when a re-read mark makes it read files loaded before again. */
export async function rereadNote(backend: Backend, pipeline: string, runId: number, paths: readonly string[]): Promise<string | null> {
  const mark = await backend.ledger.rereadMark(pipeline);
  if (mark === null || runId <= mark.afterRun) return null;
  const loaded = await loadedFilesByPath(backend, pipeline);
  const forgotten = paths.filter((file) => {
    const entry = loaded.get(file);
    return entry !== undefined && forgets(mark, runId, entry.runId);
  }).length;
  if (forgotten === 0) return null;
  return `${mark.reason} (${mark.createdAt}): reading ${forgotten} file(s) loaded before again, from their start`;
}

/** What `sluice status` shows of a re-read mark: the files the next run reads again. */
export interface PendingReread {
  reason: string;
  created_at: string;
  files: number;
}

export async function pendingReread(backend: Backend, pipeline: string): Promise<PendingReread | null> {
  // status only reads: a ledger from before re-read marks has no such table, and none is made.
  if (!(await backend.tableExists('_sluice_rereads'))) return null;
  const mark = await backend.ledger.rereadMark(pipeline);
  if (mark === null) return null;
  const loaded = await loadedFilesByPath(backend, pipeline);
  // Whatever the next run's id is, it is after the mark.
  const files = [...loaded.values()].filter((file) => forgets(mark, mark.afterRun + 1, file.runId)).length;
  return files === 0 ? null : { reason: mark.reason, created_at: mark.createdAt, files };
}
