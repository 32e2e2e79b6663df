import { hostname } from 'node:os';
import type { Backend } from '../backends/backend.js';
import { openBackend, redact } from '../backends/open-backend.js';
import { SluiceError } from '../core/errors.js';
import type { RunSettings, Strategy } from '../core/settings.js';
import type { DeadLetterRow, LetterFilter, LetterPage, RunRow } from '../ledger/ledger.js';
import { Batch } from './batch.js';
import { commitBatch } from './commit-batch.js';
import { isReplayRun, onePipeline, replayMarksOf, requireRun, type ReplayMarks } from './inspect-common.js';
import { acquirePipelineLock } from './lock.js';
import { commitContext, replayFlow, replayLetter } from './replay-letters.js';
import { markInterrupted } from './run-state.js';

export interface ReplayOptions {
  db: string;
  pipeline?: string;
  /** Only the dead letters of this run. */
  runId?: number;
  /** Only the dead letters with this reason code. */
  reason?: string;
  /**
   * Asked before each batch: true stops the replay there (the CLI: SIGINT/SIGTERM). Its run is
   * then interrupted, and the same command continues it.
   */
  stopRequested?: () => boolean;
}

/** The replay run's counts, all of it: a resumed replay's include what it did before. */
export interface ReplaySummary {
  run_id: number | null;
  pipeline: string;
  table: string;
  /** Dead letters taken up. */
  replayed: number;
  /** Loaded now (their letters are marked replayed, never replayed again). */
  loaded: number;
  /** Failing again: their letters stay, waiting for the next fix. */
  still_rejected: number;
  skipped_stale: number;
  skipped_duplicate: number;
  dropped: number;
  target_rows: number;
  /** This replay continued one that was interrupted or killed, from its last commit. */
  resumed: boolean;
  /** Stopped by `stopRequested`: the run is interrupted; the same command continues it. */
  interrupted: boolean;
}

/**
 * `sluice dead-letters replay`: runs stored dead letters through the pipeline's current rules
 * (its last run's settings, with the schema file or transform module as they are now) in a new
 * run. Records that pass are loaded with lineage pointing at their original file and line; the
 * watermark is not applied to them (they were admitted once already) and not moved by them.
 * Each batch commits on its own, so a replay stopped or killed part-way is continued by the
 * same command from its last commit, in the same run.
 */
export async function replayDeadLetters(options: ReplayOptions): Promise<ReplaySummary> {
  const backend = await openBackend(options.db, { mustExist: true });
  try {
    const pipeline = await onePipeline(backend, options.pipeline);
    const release = await acquirePipelineLock(backend, pipeline);
    try {
      return await replay(backend, pipeline, options);
    } finally {
      await release();
    }
  } finally {
    await backend.close();
  }
}

async function replay(backend: Backend, pipeline: string, options: ReplayOptions): Promise<ReplaySummary> {
  const last = await lastRun(backend, pipeline);
  const resumed = unfinishedReplay(last, pipeline, options.db);
  const filter = resumed === null ? { runId: options.runId, reason: options.reason } : resumedFilter(resumed, options);
  // --run N names a run of this pipeline, as for dead-letters list: an unknown one is exit 2.
  if (filter.runId !== undefined) await requireRun(backend, filter.runId, pipeline);
  const settings = replaySettings(last);
  const pages = letterPages(backend, pipeline, filter, resumed, settings.batchSize);
  let page = await pages.next();
  if (resumed === null && page.done === true) return summarize(backend, settings, null, { resumed: false, interrupted: false });
  const flow = await replayFlow(backend, settings);
  const runId = resumed === null ? await createReplayRun(backend, settings, last, filter) : await reopenRun(backend, resumed);
  const commit = commitContext(backend, settings, runId, flow);
  let position = resumed?.counters.input_records ?? 0;
  for (; page.done !== true; page = await pages.next()) {
    // SQLite's statements never give the event loop a turn: without one, a signal's handler
    // would not run before the whole replay had ended.
    await new Promise((resolve) => setImmediate(resolve));
    if (options.stopRequested?.() === true) {
      await markInterrupted(backend, runId);
      return summarize(backend, settings, runId, { resumed: resumed !== null, interrupted: true });
    }
    const batch = new Batch(false);
    for (const letter of page.value) replayLetter(flow, letter, (position += 1), batch);
    await commitBatch(commit, [batch], null);
  }
  await backend.transaction(async (tx) => tx.ledger.finishRun(runId, 'succeeded', last.watermarkAfter ?? last.watermarkBefore, null));
  return summarize(backend, settings, runId, { resumed: resumed !== null, interrupted: false });
}

async function lastRun(backend: Backend, pipeline: string): Promise<RunRow> {
  const last = (await backend.ledger.listRuns({ pipeline, limit: 1 }))[0];
  if (last !== undefined) return last;
  throw new SluiceError('RUN_NOT_FOUND', `pipeline ${pipeline} has no runs in ${backend.location}, so there is nothing to replay`, {
    hint: 'check --db and --pipeline (sluice runs lists the runs)',
  });
}

/** The pipeline's unfinished replay, to continue; an unfinished run of files must finish first. */
function unfinishedReplay(last: RunRow, pipeline: string, db: string): RunRow | null {
  if (last.status !== 'running' && last.status !== 'interrupted') return null;
  if (isReplayRun(last)) return last;
  throw new SluiceError('CONFIG_INVALID', `run ${last.id} of pipeline ${pipeline} is unfinished; finish it before replaying dead letters`, {
    hint: `run the same sluice run command again to resume it (sluice status --db ${redact(db)} shows it), or start over with --restart`,
  });
}

/** An unfinished replay goes on with the letters it started with; other filters wait for it. */
function resumedFilter(run: RunRow, options: ReplayOptions): LetterFilter {
  const stored = replayMarksOf(run).replayFilter ?? {};
  const differs = (options.runId !== undefined && options.runId !== stored.runId) || (options.reason !== undefined && options.reason !== stored.reason);
  if (!differs) return stored;
  const started = [stored.runId === undefined ? '' : ` --run ${stored.runId}`, stored.reason === undefined ? '' : ` --reason ${stored.reason}`].join('');
  throw new SluiceError('CONFIG_INVALID', `replay run ${run.id} of pipeline ${run.pipeline} is unfinished and was started with${started === '' ? ' no filter' : started}; it must finish first`, {
    hint: `continue it with: sluice dead-letters replay --db ${redact(options.db)} --pipeline ${run.pipeline}${started} (then replay the others)`,
  });
}

/**
 * The letters waiting, oldest first, a batch at a time (a replay of millions of letters holds
 * one batch of them). A resumed replay takes them up where it stopped: its committed input
 * count is how many of its letters, in the same order, it has done (those it loaded are no
 * longer waiting, so they are asked for too; nothing else resolves letters while the replay is
 * unfinished). Pages go by id, so the letters each batch resolves do not shift the next page.
 */
async function* letterPages(backend: Backend, pipeline: string, filter: LetterFilter, resumed: RunRow | null, size: number): AsyncGenerator<DeadLetterRow[]> {
  let page: LetterPage = { afterId: 0, limit: size, offset: resumed?.counters.input_records ?? 0, alsoReplayedBy: resumed?.id };
  for (;;) {
    const letters = await backend.ledger.pendingDeadLetters(pipeline, { ...filter, ...page });
    const last = letters.at(-1);
    if (last === undefined) return;
    yield letters;
    page = { afterId: last.id, limit: size };
  }
}

/** The last run's settings; `replace` replays into the live table (keyed: as update). */
function replaySettings(last: RunRow): RunSettings {
  const stored = JSON.parse(last.settings) as RunSettings;
  const strategy: Strategy = stored.strategy === 'replace' ? (stored.key === null ? 'append' : 'update') : stored.strategy;
  return { ...stored, strategy, dryRun: false, restart: false, simulateCrash: null, output: null };
}

async function createReplayRun(backend: Backend, settings: RunSettings, last: RunRow, filter: LetterFilter): Promise<number> {
  const marks: ReplayMarks = { replay: true, replayFilter: filter };
  return backend.transaction(async (tx) =>
    tx.ledger.createRun({
      pipeline: settings.pipeline,
      status: 'running',
      startedAt: new Date().toISOString(),
      pid: process.pid,
      host: hostname(),
      settings: JSON.stringify({ ...settings, ...marks }),
      watermarkBefore: last.watermarkAfter ?? last.watermarkBefore,
    }),
  );
}

async function reopenRun(backend: Backend, run: RunRow): Promise<number> {
  await backend.transaction(async (tx) => tx.ledger.reopenRun(run.id, process.pid, hostname()));
  return run.id;
}

async function summarize(backend: Backend, settings: RunSettings, runId: number | null, end: { resumed: boolean; interrupted: boolean }): Promise<ReplaySummary> {
  const run = runId === null ? null : await backend.ledger.getRun(runId);
  const c = run?.counters;
  return {
    run_id: runId,
    pipeline: settings.pipeline,
    table: settings.table,
    replayed: c?.input_records ?? 0,
    loaded: c?.loaded ?? 0,
    still_rejected: c?.rejected ?? 0,
    skipped_stale: c?.skipped_stale ?? 0,
    skipped_duplicate: c?.skipped_duplicate ?? 0,
    dropped: c?.dropped ?? 0,
    target_rows: await backend.countRows(settings.table),
    ...end,
  };
}
