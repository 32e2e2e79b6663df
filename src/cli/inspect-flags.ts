import { InvalidArgumentError, type Command } from 'commander';
import { defaultDb, redact, withSchema } from '../index.js';
import { reportError } from './output.js';

/** The flags every inspection command takes. */
export interface CommonFlags {
  db?: string;
  schemaName?: string;
  pipeline?: string;
  json?: boolean;
}

/** Adds --db, --pipeline (unless the command has no use for it) and --json. */
export function commonFlags(command: Command, options: { pipeline?: string } = {}): Command {
  command.option('--db <path>', 'SQLite file or postgres:// URL (default $SLUICE_DB, else ./sluice.db)');
  command.option('--schema-name <name>', 'PostgreSQL: schema of the targets and the ledger (default public)');
  if (options.pipeline !== undefined) command.option('--pipeline <name>', options.pipeline);
  return command.option('--json', 'print the result as JSON on stdout');
}

export const ALL_PIPELINES = 'only this pipeline (default: every pipeline)';
export const ONE_PIPELINE = 'the pipeline (default: the only one in the ledger)';

export function dbOf(flags: CommonFlags): string {
  return withSchema(flags.db ?? defaultDb(), flags.schemaName);
}

/** A commander parser for ids and limits: whole numbers from 1. */
export function positiveInt(value: string): number {
  const number = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(number) || number < 1) throw new InvalidArgumentError(`expected a whole number from 1, found "${value}"`);
  return number;
}

/** Runs a command's body; a thrown error becomes its message and exit code. */
export function action<A extends unknown[]>(setExit: (code: number) => void, body: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      setExit(await body(...args));
    } catch (error) {
      setExit(reportError(error));
    }
  };
}

/** The database as messages show it: a PostgreSQL URL's password as ***. */
export function shownDb(flags: CommonFlags): string {
  return redact(dbOf(flags));
}

/** Where a flag is shown back to the user in a command they can paste (a password as ***). */
export function where(flags: CommonFlags, pipeline?: string): string {
  const db = shownDb(flags);
  return `--db ${quote(db)}${pipeline === undefined ? '' : ` --pipeline ${quote(pipeline)}`}`;
}

/** POSIX shell quoting where needed, so a printed command can be pasted as it is. */
export function quote(arg: string): string {
  return /^[\w./:=,@%+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}
