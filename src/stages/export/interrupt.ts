export interface Interrupt {
  /** Aborted by the first SIGINT/SIGTERM, with an Error saying which signal. */
  signal: AbortSignal;
  /** Removes the signal handlers; call it once the export is over. */
  dispose(): void;
}

const EXPORT_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * Turns SIGINT/SIGTERM into an abort while an export runs, so the writer stops at the next
 * record, removes its temp file and fails with one line, instead of the process dying with the
 * temp file left behind. A second signal means "now": the handlers step aside and the signal is
 * raised again with its default action (its temp file is then swept by a later export).
 */
export function interruptOnSignals(): Interrupt {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals): void => {
    if (!controller.signal.aborted) {
      const reason = new Error(`interrupted by ${name}`);
      reason.name = 'ExportInterrupted';
      controller.abort(reason);
      return;
    }
    dispose();
    process.kill(process.pid, name);
  };
  const dispose = (): void => {
    for (const name of EXPORT_SIGNALS) process.off(name, onSignal);
  };
  for (const name of EXPORT_SIGNALS) process.on(name, onSignal);
  return { signal: controller.signal, dispose };
}
