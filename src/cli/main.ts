#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { EXIT } from './exit-codes.js';
import { reportError, say } from './output.js';
import { registerExport } from './commands/export.js';
import { registerRun } from './commands/run.js';
import { registerRuns } from './commands/runs.js';
import { registerStatus } from './commands/status.js';
import { registerLineage } from './commands/lineage.js';
import { registerDeadLetters } from './commands/dead-letters.js';
import { registerReplay } from './commands/dead-letters-replay.js';
import { registerWatermark } from './commands/watermark.js';

/** The installed package's version (dist/cli/main.js and src/cli/main.ts both sit two levels down). */
function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

/** argv → command → exit code. Each command file registers itself and uses the public API only. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('sluice')
    .description('Fail-safe, incremental file-to-database loader')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  let exitCode: number = EXIT.ok;
  const setExit = (code: number): void => {
    exitCode = code;
  };
  registerRun(program, setExit);
  registerExport(program, setExit);
  registerRuns(program, setExit);
  registerStatus(program, setExit);
  registerLineage(program, setExit);
  registerReplay(registerDeadLetters(program, setExit), setExit);
  registerWatermark(program, setExit);
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      const helpShown = error.code === 'commander.helpDisplayed' || error.code === 'commander.version';
      return helpShown ? EXIT.ok : EXIT.usage;
    }
    return reportError(error);
  }
  return exitCode;
}

/**
 * Node prints a library's process warning as a block of text with a hint about
 * --trace-warnings: the PostgreSQL driver's about `sslmode=require` takes 9 lines before the
 * connection's own error. A command prints each one as one `note:` line instead: its first line,
 * which says what it is about.
 */
function warningsAsNotes(): void {
  const shown = new Set<string>();
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    const line = warning.message.split('\n')[0] ?? warning.name;
    if (shown.has(line)) return; // a URL parsed again on each reconnect warns again
    shown.add(line);
    say(`note: ${line}`);
  });
}

warningsAsNotes();
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    say(String(error));
    process.exitCode = EXIT.failed;
  },
);
