import { existsSync } from 'node:fs';
import type { Backend } from '../backends/backend.js';
import { isPostgresUrl, openBackend } from '../backends/open-backend.js';
import type { RunSettings } from '../core/settings.js';
import type { CommitContext } from './commit-batch.js';
import { loadFile, type LoadObserver } from './load-file.js';
import { acquirePipelineLock } from './lock.js';
import { prepareRun, type PreparedRun } from './prepare.js';
import { fileInput, readPlan, runContext, type ReadPlan, type RunContext } from './run-context.js';
import { exportAfterRun, markResumable, RunInterrupted, runIo, silentObserver, type RunIo, type RunObserver, type RunProgress } from './run-io.js';
import { finishRun, markInterrupted, startOrResume, summarize, type RunStart } from './run-state.js';
import type { FileReport, RunSummary } from './summary.js';
import { UnchangedFiles } from './unchanged-files.js';
import { runWorkers } from './workers.js';

export { RunExportFailed, RunInterrupted, silentObserver, type RunObserver, type RunProgress } from './run-io.js';

/**
 * `sluice run`: loads the input files into the target table exactly once. Everything that can
 * be checked without the database is checked first (exit 2, nothing written). With `workers`,
 * worker processes share the files (pipeline/workers.ts).
 */
export async function runPipeline(settings: RunSettings, observer: RunObserver = silentObserver): Promise<RunSummary> {
  if (settings.workers !== null && !settings.dryRun) return runWorkers(settings, observer);
  const io = runIo(observer);
  if (settings.workers !== null) io.warn(`--dry-run runs in one process: --workers ${settings.workers} does not apply`);
  const prepared = await prepareRun(settings, io.warn);
  // A dry run against a database that does not exist yet must not create it.
  const dryRunInMemory = settings.dryRun && settings.db !== ':memory:' && !isPostgresUrl(settings.db) && !existsSync(settings.db);
  const backend = await openBackend(dryRunInMemory ? ':memory:' : settings.db, { dryRun: settings.dryRun });
  try {
    if (settings.dryRun) return await dryRun(backend, settings, prepared, io);
    const release = await acquirePipelineLock(backend, settings.pipeline);
    try {
      return await execute(backend, settings, prepared, io);
    } finally {
      await release();
    }
  } finally {
    await backend.close();
  }
}

class DryRunRollback extends Error {
  constructor(readonly summary: RunSummary) {
    super('dry run rolled back');
  }
}

/** A dry run does everything inside one transaction, then rolls it back. */
async function dryRun(backend: Backend, settings: RunSettings, prepared: PreparedRun, io: RunIo): Promise<RunSummary> {
  try {
    await backend.transaction(async () => {
      throw new DryRunRollback(await execute(backend, settings, prepared, io));
    });
  } catch (error) {
    if (error instanceof DryRunRollback) return { ...error.summary, dry_run: true };
    throw error;
  }
  throw new Error('a dry run must roll back');
}

async function execute(backend: Backend, settings: RunSettings, prepared: PreparedRun, io: RunIo): Promise<RunSummary> {
  const start = await startOrResume(backend, settings, prepared, io.warn);
  const runId = start.run.id;
  const context = await runContext(backend, settings, prepared, start);
  const plan = await readPlan(backend, settings, runId);
  let loaded: Awaited<ReturnType<typeof loadFiles>>;
  try {
    loaded = await backend.bulkLoad(() => loadFiles(context, settings, plan, io, start));
  } catch (error) {
    throw settings.dryRun ? error : await markResumable(backend, runId, error);
  }
  const { reports, read } = loaded;
  const swap = settings.strategy === 'replace' && read;
  const summary = await finishRun(backend, settings, context.commit, { start, reports, warnings: io.warnings, started: io.started, swap });
  await exportAfterRun(backend, settings, summary);
  return summary;
}

async function loadFiles(context: RunContext, settings: RunSettings, plan: ReadPlan, io: RunIo, start: RunStart): Promise<{ reports: FileReport[]; read: boolean }> {
  const { commit } = context;
  const files = plan.files;
  const progress: RunProgress = { filesDone: 0, filesTotal: files.length, records: 0, bytesRead: 0, bytesTotal: files.reduce((n, f) => n + f.size, 0) };
  const observer = loadObserver(progress, io);
  const reports: FileReport[] = [];
  const unchanged = new UnchangedFiles(commit);
  let read = false;
  for (const file of files) {
    if (file.status === 'loaded' || file.status === 'unchanged' || file.status === 'failed') {
      reports.push({ path: file.path, status: file.status === 'failed' ? 'failed' : file.status, records: 0, error: file.error, new_columns: [], missing_columns: [] });
      read ||= file.status === 'loaded';
      progress.filesDone += 1;
      continue;
    }
    if (io.observer.stopRequested()) throw await interrupted(commit, settings, start, reports, io, unchanged);
    const { stopped, ...report } = await loadFile(commit, context.flow, { ...fileInput(context, settings, plan, file), unchanged }, observer);
    if (stopped) throw await interrupted(commit, settings, start, reports, io, unchanged);
    progress.filesDone += 1;
    reports.push(report);
    if (report.status !== 'unchanged') await unchanged.flush();
    read ||= report.status !== 'unchanged';
    if (report.status === 'failed' && settings.onFileError === 'fail') break;
  }
  await unchanged.flush();
  return { reports, read };
}

function loadObserver(progress: RunProgress, io: RunIo): LoadObserver {
  return {
    onRecordRead: () => {
      progress.records += 1;
      io.observer.recordRead();
    },
    onBytes: (count) => {
      progress.bytesRead += count;
    },
    onCheckpoint: () => io.observer.progress(progress),
    stopRequested: () => io.observer.stopRequested(),
    warn: io.warn,
  };
}

async function interrupted(commit: CommitContext, settings: RunSettings, start: RunStart, reports: FileReport[], io: RunIo, unchanged: UnchangedFiles): Promise<RunInterrupted> {
  await unchanged.flush();
  const run = await markInterrupted(commit.backend, start.run.id);
  return new RunInterrupted(await summarize(commit.backend, settings, run, { start, reports, warnings: io.warnings, started: io.started }));
}
