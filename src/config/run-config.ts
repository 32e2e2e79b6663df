import { dirname, isAbsolute, join } from 'node:path';
import { checkTableNameFor, withSchema } from '../backends/open-backend.js';
import { SluiceError } from '../core/errors.js';
import {
  DEFAULT_LIMITS,
  FIELD_TYPES,
  FORMATS,
  STRATEGIES,
  type FieldType,
  type FormatOption,
  type OnFileError,
  type RunSettings,
  type Strategy,
} from '../core/settings.js';
import { readConfigFile } from './config-file.js';

/** Settings as they come from flags or a config file: loose, all optional. */
export interface RunOptions {
  config?: string;
  db?: string;
  /** PostgreSQL: the schema of the targets and the ledger. */
  schemaName?: string;
  pipeline?: string;
  table?: string;
  input?: string[] | string;
  sourceDir?: string;
  pattern?: string;
  format?: string;
  key?: string;
  cursor?: string;
  strategy?: string;
  require?: string[] | string;
  type?: string[] | Record<string, string> | string;
  schema?: string;
  transform?: string;
  batchSize?: string | number;
  sliceSize?: number;
  onFileError?: string;
  normalize?: boolean;
  dryRun?: boolean;
  maxRecordBytes?: string | number;
  simulateCrash?: string | number;
  restart?: boolean;
  output?: string;
  workers?: string | number;
}

const FILE_KEYS: Record<string, keyof RunOptions> = {
  db: 'db',
  'schema-name': 'schemaName',
  pipeline: 'pipeline',
  table: 'table',
  input: 'input',
  'source-dir': 'sourceDir',
  pattern: 'pattern',
  format: 'format',
  key: 'key',
  cursor: 'cursor',
  strategy: 'strategy',
  require: 'require',
  type: 'type',
  types: 'type',
  schema: 'schema',
  transform: 'transform',
  'batch-size': 'batchSize',
  'on-file-error': 'onFileError',
  normalize: 'normalize',
  'max-record-bytes': 'maxRecordBytes',
  output: 'output',
  workers: 'workers',
};

/** Flags override the config file, which overrides the defaults. The result is frozen. */
export function buildRunSettings(flags: RunOptions): RunSettings {
  const file = flags.config === undefined ? {} : fromFile(flags.config);
  // Flags win, and what to read is one setting: --input or --source-dir replaces the file's either.
  if (flags.input !== undefined || flags.sourceDir !== undefined) {
    delete file.input;
    delete file.sourceDir;
    delete file.pattern;
  }
  const o: RunOptions = { ...file, ...definedOnly(flags) };
  const strategy = oneOf<Strategy>('--strategy', o.strategy ?? 'append', STRATEGIES);
  const settings: RunSettings = {
    db: withSchema(nonEmpty('--db', o.db ?? defaultDb()), o.schemaName),
    pipeline: nonEmpty('--pipeline', o.pipeline ?? 'default'),
    table: nonEmpty('--table', o.table ?? 'records'),
    inputs: list(o.input),
    sourceDir: o.sourceDir ?? null,
    pattern: o.pattern ?? '*',
    format: oneOf<FormatOption>('--format', o.format ?? 'auto', FORMATS),
    key: o.key ?? null,
    cursor: o.cursor ?? null,
    strategy,
    require: list(o.require).flatMap((r) => r.split(',')).map((r) => r.trim()).filter((r) => r !== ''),
    types: parseTypes(o.type),
    schemaFile: o.schema ?? null,
    transform: o.transform ?? null,
    batchSize: positiveInteger('--batch-size', o.batchSize ?? 1000),
    sliceSize: o.sliceSize === undefined ? null : positiveInteger('sliceSize', o.sliceSize),
    onFileError: oneOf<OnFileError>('--on-file-error', o.onFileError ?? 'skip', ['skip', 'fail']),
    normalize: o.normalize ?? true,
    dryRun: o.dryRun ?? false,
    limits: { ...DEFAULT_LIMITS, maxRecordBytes: positiveInteger('--max-record-bytes', o.maxRecordBytes ?? DEFAULT_LIMITS.maxRecordBytes) },
    simulateCrash: o.simulateCrash === undefined ? null : positiveInteger('--simulate-crash', o.simulateCrash),
    restart: o.restart ?? false,
    output: o.output ?? null,
    workers: o.workers === undefined ? null : positiveInteger('--workers', o.workers),
  };
  checkInputs(settings);
  checkStrategy(settings);
  return Object.freeze(settings);
}

/** Settings of a config file that take a list (or one value); `type` also takes a mapping. */
const LIST_KEYS = new Set<keyof RunOptions>(['input', 'require', 'type']);
/** Settings that are numbers; every other single value is text (`pipeline: 2025` is a name). */
const NUMBER_KEYS = new Set<keyof RunOptions>(['batchSize', 'maxRecordBytes', 'workers']);

function fromFile(path: string): RunOptions {
  const raw = readConfigFile(path);
  const options: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    const key = FILE_KEYS[name];
    if (key === undefined) {
      const hint = name === 'no-normalize' ? 'write normalize: false' : undefined;
      throw new SluiceError('CONFIG_FILE', `config file ${path}: unknown setting "${name}" (known: ${Object.keys(FILE_KEYS).join(', ')})`, { file: path, hint });
    }
    if (key in options) throw new SluiceError('CONFIG_FILE', `config file ${path}: "type" and "types" are the same setting; give one`, { file: path });
    options[key] = fileValue(path, name, key, value);
  }
  return resolvePaths(options as RunOptions, path);
}

/** A config value as the flag would give it; a value of the wrong shape names the setting. */
function fileValue(path: string, name: string, key: keyof RunOptions, value: unknown): unknown {
  const wrong = (expected: string): SluiceError =>
    new SluiceError('CONFIG_FILE', `config file ${path}: ${name} must be ${expected}; found ${JSON.stringify(value)}`, { file: path });
  if (key === 'normalize') {
    // YAML 1.2 reads `no` and `off` as text, which would have counted as true.
    if (typeof value !== 'boolean') throw wrong('true or false');
    return value;
  }
  if (LIST_KEYS.has(key)) {
    if (key === 'type' && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [field, type] of Object.entries(value)) {
        if (!(FIELD_TYPES as readonly unknown[]).includes(type)) throw wrong(`a mapping of fields to ${FIELD_TYPES.join(', ')} (${field}: ${String(type)} is none)`);
      }
      return value;
    }
    const items = Array.isArray(value) ? value : [value];
    if (items.some((item) => typeof item === 'object' || item === undefined)) throw wrong('a value or a list of values');
    return Array.isArray(value) ? value.map(String) : String(value);
  }
  if (typeof value === 'object' || value === undefined) throw wrong('a single value');
  return typeof value === 'number' && NUMBER_KEYS.has(key) ? value : String(value);
}

/** Paths in a config file are relative to the file, so `--config x/sluice.yaml` works from anywhere. */
function resolvePaths(options: RunOptions, configFile: string): RunOptions {
  const base = dirname(configFile);
  const at = (p: string | undefined): string | undefined => (p === undefined || p === ':memory:' || /^postgres(ql)?:/.test(p) || isAbsolute(p) ? p : join(base, p));
  return {
    ...options,
    db: at(options.db),
    input: options.input === undefined ? undefined : list(options.input).map((p) => at(p) as string),
    sourceDir: at(options.sourceDir),
    schema: at(options.schema),
    transform: options.transform !== undefined && /[/.]/.test(options.transform) ? at(options.transform) : options.transform,
    output: at(options.output),
  };
}

/** The database when --db is not given: SLUICE_DB, unless unset or empty; else ./sluice.db. */
export function defaultDb(): string {
  const fromEnv = process.env.SLUICE_DB;
  return fromEnv === undefined || fromEnv === '' ? './sluice.db' : fromEnv;
}

function definedOnly(flags: RunOptions): RunOptions {
  return Object.fromEntries(Object.entries(flags).filter(([name, value]) => value !== undefined && name !== 'config')) as RunOptions;
}

function list(value: string[] | string | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

function nonEmpty(flag: string, value: string): string {
  if (value.trim() === '') throw new SluiceError('CONFIG_INVALID', `${flag} must not be empty`);
  return value;
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new SluiceError('CONFIG_INVALID', `${flag} must be one of ${allowed.join(', ')}; found "${value}"`);
}

/** A sensible value to show for each numeric flag (--workers 1000 would be a bad example). */
const EXAMPLES: Record<string, number> = { '--workers': 2, '--simulate-crash': 5, '--max-record-bytes': DEFAULT_LIMITS.maxRecordBytes };

/** Batch sizes, caps and crash points: whole numbers from 1, checked before anything opens. */
function positiveInteger(flag: string, value: string | number): number {
  const text = String(value).trim();
  const number = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(number) || number < 1) {
    throw new SluiceError('CONFIG_INVALID', `${flag} must be a positive whole number; found "${text}"`, { hint: `for example ${flag} ${EXAMPLES[flag] ?? 1000}` });
  }
  return number;
}

function parseTypes(value: RunOptions['type']): Record<string, FieldType> {
  const entries: [string, string][] =
    value === undefined
      ? []
      : typeof value === 'object' && !Array.isArray(value)
        ? Object.entries(value).map(([k, v]) => [k, String(v)])
        : list(value).flatMap((item) => item.split(',')).map((item) => splitType(item));
  const types: Record<string, FieldType> = Object.create(null) as Record<string, FieldType>;
  for (const [field, type] of entries) types[field.trim()] = oneOf<FieldType>(`--type ${field}`, type.trim(), FIELD_TYPES);
  return types;
}

function splitType(item: string): [string, string] {
  const at = item.indexOf('=');
  if (at <= 0) {
    throw new SluiceError('CONFIG_INVALID', `--type expects FIELD=TYPE (for example value=number); found "${item}"`);
  }
  return [item.slice(0, at), item.slice(at + 1)];
}

function checkInputs(s: RunSettings): void {
  if (s.inputs.length > 0 && s.sourceDir !== null) {
    throw new SluiceError('CONFIG_INVALID', 'use either --input FILE or --source-dir DIR, not both');
  }
  if (s.inputs.length === 0 && s.sourceDir === null) {
    throw new SluiceError('CONFIG_NO_INPUT', 'no input given', { hint: 'pass --input FILE (repeatable) or --source-dir DIR [--pattern GLOB]' });
  }
}

function checkStrategy(s: RunSettings): void {
  const needsKey = s.strategy === 'deduplicate' || s.strategy === 'update' || s.strategy === 'upsert-newer';
  if (needsKey && s.key === null) {
    throw new SluiceError('CONFIG_INVALID', `--strategy ${s.strategy} needs --key FIELD (the field that identifies a record)`, {
      hint: `for example: sluice run --strategy ${s.strategy} --key id ...`,
    });
  }
  if (s.strategy === 'upsert-newer' && s.cursor === null) {
    throw new SluiceError('CONFIG_INVALID', '--strategy upsert-newer needs --cursor FIELD (the field whose larger value is newer)', {
      hint: 'for example: --cursor updated_at',
    });
  }
  if (s.workers !== null && (s.db === ':memory:' || s.db === '')) {
    throw new SluiceError('CONFIG_INVALID', `--workers ${s.workers} needs a database the worker processes can share; --db is ${s.db === '' ? 'empty' : ':memory:'}`, {
      hint: 'pass a SQLite file or a postgres:// URL as --db',
    });
  }
  for (const [flag, field] of [['--key', s.key], ['--cursor', s.cursor]] as const) {
    if (field !== null && field.startsWith('_sluice_')) {
      throw new SluiceError('CONFIG_INVALID', `${flag} ${field}: fields named _sluice_* are not stored (sluice writes its own columns of those names)`, {
        hint: `name a field of the data as ${flag}`,
      });
    }
  }
  if (s.table.startsWith('_sluice_')) {
    throw new SluiceError('CONFIG_INVALID', `--table ${s.table}: names starting with _sluice_ are reserved for the ledger`);
  }
  checkTableNameFor(s.db, s.table);
}
