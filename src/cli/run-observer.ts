import type { RunObserver, RunProgress } from '../index.js';
import { EXIT } from './exit-codes.js';
import { say } from './output.js';

export interface CliObserver extends RunObserver {
  armCrash(after: number | null): void;
  done(): void;
}

/**
 * The CLI's side of a run: progress on stderr (a live line on a terminal, one line per
 * checkpoint otherwise), SIGINT/SIGTERM as a request to stop at the next checkpoint (a second
 * signal exits at once; the database rolls the open transaction back), and --simulate-crash.
 */
export function cliObserver(options: { quiet: boolean }): CliObserver {
  const started = Date.now();
  const live = process.stderr.isTTY === true;
  let crashAfter: number | null = null;
  let read = 0;
  let stop = false;
  let liveShown = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stop) process.exit(EXIT.interrupted);
    stop = true;
    say(`\n${signal}: finishing the batch in flight, then stopping (press Ctrl-C again to stop at once)`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    warn: (message) => {
      if (!options.quiet) say(`note: ${message}`);
    },
    progress: (p) => {
      if (options.quiet) return;
      const line = progressLine(p, Date.now() - started, live);
      if (live) {
        process.stderr.write(`\r\u001b[2K${line}`);
        liveShown = true;
      } else {
        say(line);
      }
    },
    recordRead: () => {
      read += 1;
      // Like kill -9: no cleanup, no rollback beyond what the database does by itself.
      if (crashAfter !== null && read >= crashAfter) process.kill(process.pid, 'SIGKILL');
    },
    stopRequested: () => stop,
    armCrash: (after) => {
      crashAfter = after;
    },
    done: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (liveShown) process.stderr.write('\r\u001b[2K');
      liveShown = false;
    },
  };
}

function progressLine(p: RunProgress, elapsedMs: number, live: boolean): string {
  const percent = p.bytesTotal > 0 ? Math.min(100, (100 * p.bytesRead) / p.bytesTotal) : 100;
  const rate = elapsedMs > 0 ? Math.round((p.records * 1000) / elapsedMs) : 0;
  const base = `progress: ${percent.toFixed(1)}% of bytes, ${p.records} records, ${rate} records/s`;
  if (!live) return base;
  const remaining = percent > 0 ? (elapsedMs * (100 - percent)) / percent / 1000 : 0;
  return `${base}, files ${p.filesDone}/${p.filesTotal}, ETA ${remaining.toFixed(0)} s`;
}
