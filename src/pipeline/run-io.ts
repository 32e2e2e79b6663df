import type { Backend } from '../backends/backend.js';
import { isSluiceError, SluiceError } from '../core/errors.js';
import type { RunSettings } from '../core/settings.js';
import { exportBackendTable } from './export.js';
import { markInterrupted } from './run-state.js';
import type { RunSummary } from './summary.js';

/** How a run talks to whoever started it (the CLI: stderr, signals, --simulate-crash). */
export interface RunObserver {
  warn(message: string): void;
  /** After each committed batch. */
  progress(progress: RunProgress): void;
  /** Called for every record read; the CLI's --simulate-crash ends the process here. */
  recordRead(): void;
  /** True once a signal asked the run to stop at the next checkpoint. */
  stopRequested(): boolean;
}

export interface RunProgress {
  filesDone: number;
  filesTotal: number;
  records: number;
  bytesRead: number;
  bytesTotal: number;
}

export const silentObserver: RunObserver = { warn: () => {}, progress: () => {}, recordRead: () => {}, stopRequested: () => false };

/** Thrown when a signal stopped the run at a checkpoint; the run is `interrupted` and resumable. */
export class RunInterrupted extends SluiceError {
  constructor(readonly summary: RunSummary) {
    super('RUN_INTERRUPTED', `run ${summary.run_id} of pipeline ${summary.pipeline} was interrupted after a clean checkpoint`, {
      hint: 'run the same command again to resume it',
    });
  }
}

/**
 * `run --output`: the run completed and is committed, and then its export failed (or a signal
 * stopped it; the file is left as it was). Carries the run's summary, so it is still shown.
 */
export class RunExportFailed extends SluiceError {
  constructor(
    readonly summary: RunSummary,
    output: string,
    exportError: SluiceError,
  ) {
    super(exportError.code, `run ${summary.run_id} completed, but its export failed: ${exportError.message}`, {
      hint: `${exportError.hint !== undefined ? `${exportError.hint}; then ` : ''}export again without loading: sluice export --db ${summary.db} --table ${summary.table} --output ${output}`,
      cause: exportError,
    });
  }
}

/** `run --output`: the table exported once the run succeeded; a failure keeps the summary. */
export async function exportAfterRun(backend: Backend, settings: RunSettings, summary: RunSummary): Promise<void> {
  if (settings.output === null || summary.status !== 'succeeded') return;
  try {
    summary.export = await exportBackendTable(backend, { table: settings.table, output: settings.output, dryRun: settings.dryRun });
  } catch (error) {
    throw isSluiceError(error) ? new RunExportFailed(summary, settings.output, error) : error;
  }
}

/** The observer, with the warnings collected for the summary and the run's start time. */
export interface RunIo {
  observer: RunObserver;
  warn: (message: string) => void;
  warnings: string[];
  started: number;
}

export function runIo(observer: RunObserver): RunIo {
  const warnings: string[] = [];
  const warn = (message: string): void => {
    // Parallel workers each note what they meet: the summary says it once.
    if (warnings.includes(message)) return;
    warnings.push(message);
    observer.warn(message);
  };
  return { observer, warnings, warn, started: Date.now() };
}

/**
 * A run stopped by its environment (disk full, I/O error, lost connection) stays resumable:
 * its committed batches are consistent, so it is marked interrupted and the next run of the
 * same command continues it once the cause is fixed.
 */
export async function markResumable(backend: Backend, runId: number, error: unknown): Promise<unknown> {
  // A refused lock says nothing about the run's data: it is not a reason to mark it interrupted.
  if (!isSluiceError(error) || !error.code.startsWith('BACKEND_') || error.code === 'BACKEND_LOCKED') return error;
  await markInterrupted(backend, runId, error.message).catch(() => undefined);
  const hint = error.hint ?? 'fix the cause, then run the same command again: it resumes from the last checkpoint';
  return new SluiceError(error.code, `run ${runId} stopped: ${error.message}`, { hint, cause: error });
}
