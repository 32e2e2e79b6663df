import { Command, Option } from 'commander';
import { buildRunSettings, lineageByStep, RunExportFailed, RunInterrupted, runPipeline, type LineageReport, type RunOptions, type RunSummary } from '../../index.js';
import { EXIT } from '../exit-codes.js';
import { printJson, reportError, say } from '../output.js';
import { failedLine, formatSummary } from '../format-summary.js';
import { cliObserver } from '../run-observer.js';
import { formatByStep } from './lineage.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerRun(program: Command, setExit: (code: number) => void): void {
  program
    .command('run')
    .description('load input files into a table, exactly once')
    .option('--config <file>', 'read settings from a YAML file (flags override it)')
    .option('--db <path>', 'SQLite file (default ./sluice.db; :memory: allowed)')
    .option('--schema-name <name>', 'PostgreSQL: schema of the targets and the ledger (default public)')
    .option('--pipeline <name>', 'pipeline name: watermark and file ledger are per pipeline (default "default")')
    .option('--table <name>', 'target table (default "records")')
    .option('--input <file>', 'input file (repeatable)', collect)
    .option('--source-dir <dir>', 'directory of input files')
    .option('--pattern <glob>', 'file pattern within --source-dir (default "*")')
    .addOption(new Option('--format <format>', 'input format (default auto, by extension)').choices(['auto', 'csv', 'json', 'ndjson', 'lines']))
    .option('--key <field>', 'field that identifies a record')
    .option('--cursor <field>', 'field whose larger value is newer (watermark, upsert-newer)')
    .option('--strategy <strategy>', 'append | deduplicate | update | upsert-newer | replace (default append)')
    .option('--require <fields>', 'comma-separated fields that must be present and non-empty', collect)
    .option('--type <field=type>', 'declare a field type: string|number|integer|boolean|timestamp (repeatable)', collect)
    .option('--schema <file>', 'JSON Schema every record must satisfy')
    .option('--transform <module>', 'JS module (default export) or built-in (text-stats) applied to each record')
    .option('--batch-size <n>', 'records per checkpointed batch (default 1000)')
    .option('--on-file-error <mode>', 'skip | fail: what a malformed or unreadable file does (default skip)')
    .option('--no-normalize', 'keep keys and values exactly as in the input')
    .option('--max-record-bytes <n>', 'largest single record accepted (default 16 MiB)')
    .option('--output <file>', 'after a successful run, export the target table to this file (.json, .csv, .ndjson), atomically')
    .option('--dry-run', 'do everything but commit; print what would happen')
    .option('--restart', 'abandon an unfinished run of the pipeline instead of resuming it')
    .option('--workers <n>', 'load with n worker processes sharing the files; the same command on other machines (PostgreSQL) joins in')
    .option('--simulate-crash <n>', 'test aid: die like kill -9 after n records have been read (with --workers: worker 1 dies)')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--quiet', 'no progress or summary on stderr')
    .option('--report', 'after the summary, print the run\'s lineage counted by step and file (in --json: a "lineage" member)')
    .action(async (options: RunFlags & { normalize?: boolean }, command: Command) => {
      setExit(await runCommand(options, command));
    });
}

type RunFlags = RunOptions & { json?: boolean; quiet?: boolean; report?: boolean };

async function runCommand(options: RunFlags, command: Command): Promise<number> {
  const normalize = command.getOptionValueSource('normalize') === 'cli' ? false : undefined;
  let summary: RunSummary;
  // The database as given, password and all: the summary's is redacted, which cannot log in.
  let db = '';
  const observer = cliObserver({ quiet: options.quiet ?? false });
  try {
    const settings = buildRunSettings({ ...options, normalize });
    db = settings.db;
    // With --workers the crash is worker 1's, not this process's (see pipeline/workers.ts).
    observer.armCrash(settings.workers === null || settings.dryRun ? settings.simulateCrash : null);
    summary = await runPipeline(settings, observer);
  } catch (error) {
    observer.done();
    if (error instanceof RunInterrupted) {
      await show(error.summary, options, db);
      say(`interrupted: run ${error.summary.run_id} stopped after a clean checkpoint; run the same command again to resume it`);
      return EXIT.interrupted;
    }
    // The load is committed: its summary first, then why the file was not written (exit 1).
    if (error instanceof RunExportFailed) await show(error.summary, options, db);
    return reportError(error);
  } finally {
    observer.done();
  }
  await show(summary, options, db);
  if (summary.status === 'failed') return EXIT.failed;
  return summary.files_failed > 0 ? EXIT.partial : EXIT.ok;
}

async function show(summary: RunSummary, options: RunFlags, db: string): Promise<void> {
  const report = options.report === true ? await lineageReport(summary, db) : undefined;
  if (options.json) printJson(report === undefined ? summary : { ...summary, lineage: typeof report === 'string' ? null : report });
  if (!options.quiet) say(formatSummary(summary));
  // --quiet keeps errors: a file that failed (exit 3, or 1 with --on-file-error fail) says why.
  else for (const file of summary.files) if (file.status === 'failed') say(failedLine(file));
  if (typeof report === 'string') say(`--report: ${report}`);
  else if (report !== undefined && !options.json) process.stdout.write(`${formatByStep(report)}\n`);
}

/** --report: the run's lineage read back from the ledger, or why there is none to read. */
async function lineageReport(summary: RunSummary, db: string): Promise<LineageReport | string> {
  if (summary.dry_run) return 'a dry run commits no lineage';
  if (db === ':memory:') return 'the ledger of an in-memory database is gone with the run';
  try {
    return (await lineageByStep({ db, runId: summary.run_id })) ?? `run ${summary.run_id} not found`;
  } catch (error) {
    return `cannot read the lineage back: ${error instanceof Error ? error.message : String(error)}`;
  }
}
