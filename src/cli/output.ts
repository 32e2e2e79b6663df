import { isSluiceError, isUsageError, type SluiceError } from '../index.js';
import { EXIT, type ExitCode } from './exit-codes.js';

/** Human messages and progress go to stderr; stdout is for data and `--json`. */
export function say(message: string): void {
  process.stderr.write(message.endsWith('\n') ? message : `${message}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function formatError(error: SluiceError): string {
  const lines = [`error: ${error.message}`];
  if (error.hint) lines.push(`  fix: ${error.hint}`);
  return lines.join('\n');
}

/**
 * Prints an error the user can act on and returns the exit code for it. A SluiceError is the
 * user's business (one clear message, no stack); anything else is a bug in sluice and shows it.
 */
export function reportError(error: unknown): ExitCode {
  if (isSluiceError(error)) {
    say(formatError(error));
    return isUsageError(error) ? EXIT.usage : EXIT.failed;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  say(`sluice: internal error (please report it): ${detail}`);
  return EXIT.failed;
}
