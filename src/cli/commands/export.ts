import { Option, type Command } from 'commander';
import { convertFile, EXPORT_FORMATS, exportTable, FORMATS, SluiceError, type ExportFormat, type ExportResult, type Format } from '../../index.js';
import { exportedLine } from '../format-summary.js';
import { dbOf } from '../inspect-flags.js';
import { EXIT } from '../exit-codes.js';
import { printJson, reportError, say } from '../output.js';

interface ExportFlags {
  db?: string;
  schemaName?: string;
  table?: string;
  input?: string;
  inputFormat?: Format;
  output: string;
  format?: ExportFormat;
  require?: string[];
  backup?: boolean;
  dryRun?: boolean;
  withMeta?: boolean;
  formulaGuard: boolean;
  json?: boolean;
}

/** `sluice export`: a table (or an input file) to JSON, CSV or NDJSON, atomically. */
export function registerExport(program: Command, setExit: (code: number) => void): void {
  program
    .command('export')
    .description('write a table, or convert an input file, to JSON, CSV or NDJSON atomically')
    .option('--db <path>', 'SQLite file or postgres:// URL (default $SLUICE_DB, else ./sluice.db)')
    .option('--schema-name <name>', 'PostgreSQL: schema of the table (default public)')
    .option('--table <name>', 'table to export')
    .option('--input <file>', 'convert this file (JSON array, NDJSON or CSV) instead of a table')
    .addOption(new Option('--input-format <format>', 'format of --input (default: from its extension)').choices(FORMATS.filter((f) => f !== 'auto')))
    .requiredOption('--output <file>', 'file to write (replaced atomically)')
    .addOption(new Option('--format <format>', 'output format (default: from the output extension)').choices(EXPORT_FORMATS))
    .option('--require <fields>', 'comma-separated fields every record must have non-empty', commaList)
    .option('--backup', 'keep an existing output as FILE.bak before replacing it')
    .option('--dry-run', 'validate and report; write nothing')
    .option('--with-meta', 'include the bookkeeping columns (_sluice_*)')
    .option('--no-formula-guard', 'write CSV cells starting with = + - @ as they are')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (flags: ExportFlags) => {
      try {
        const result = await runExport(flags);
        report(result, flags.json === true);
        setExit(EXIT.ok);
      } catch (error) {
        setExit(reportError(error));
      }
    });
}

function runExport(flags: ExportFlags): Promise<ExportResult> {
  if ((flags.table === undefined) === (flags.input === undefined)) {
    throw new SluiceError('CONFIG_INVALID', 'sluice export needs exactly one source: --table NAME (with --db) or --input FILE', {
      hint: 'sluice export --db sluice.db --table NAME --output FILE',
    });
  }
  const common = {
    output: flags.output,
    format: flags.format,
    require: flags.require,
    backup: flags.backup === true,
    dryRun: flags.dryRun === true,
    formulaGuard: flags.formulaGuard,
  };
  if (flags.input !== undefined) return convertFile({ ...common, input: flags.input, inputFormat: flags.inputFormat });
  return exportTable({ ...common, db: dbOf(flags), table: flags.table as string, withMeta: flags.withMeta === true });
}

function report(result: ExportResult, json: boolean): void {
  if (json) {
    printJson({ status: result.status, exported: result.exported, format: result.format, path: result.path, backup: result.backup });
    return;
  }
  say(exportedLine(result));
  if (result.status === 'dry-run') return;
  if (result.backup !== null) say(`Previous file kept as ${result.backup}`);
}

/** `--require a,b --require c` → [a, b, c]. */
function commaList(value: string, previous: string[] = []): string[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  return [...previous, ...names];
}
