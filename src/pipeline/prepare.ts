import { SluiceError } from '../core/errors.js';
import type { FieldType, Format, RunSettings } from '../core/settings.js';
import type { ValidateRules } from '../stages/validate/index.js';
import { compileSchemaFile } from '../stages/validate/index.js';
import { detectFormat } from '../stages/decode/index.js';
import { discoverFiles, noFilesMatched, type DiscoveredFile } from '../stages/discover/index.js';
import { Normalizer } from '../stages/normalize/index.js';
import { loadTransform, type TransformFn } from '../stages/transform/index.js';
import type { CursorSpec } from '../stages/watermark/index.js';
import { exportFormatOf } from './export.js';
import { reading } from './inspect-common.js';
import { refuseDatabaseAsOutput, requireOutputDirectory } from './output-guard.js';

/** What a run needs before it touches the database; every problem here is exit 2. */
export interface PreparedRun {
  files: DiscoveredFile[];
  formatOf: (path: string) => Format;
  normalizer: Normalizer;
  transform: TransformFn | null;
  rules: ValidateRules;
  key: string | null;
  cursor: CursorSpec | null;
  /** Notes for the run's summary (a renamed field, a field not stored). */
  warn: (message: string) => void;
}

export async function prepareRun(settings: RunSettings, warn: (message: string) => void): Promise<PreparedRun> {
  const flow = await prepareRules(settings, warn);
  if (settings.output !== null) {
    exportFormatOf(settings.output);
    requireOutputDirectory(settings.output);
    refuseDatabaseAsOutput(settings.db, settings.output);
  }
  const files = await discoverFiles(settings);
  if (files.length === 0) await allowEmptySourceDir(settings, warn);
  return { ...flow, files, warn };
}

/**
 * A drop directory with nothing in it is the normal state between deliveries, once the pipeline
 * has loaded from it: a scheduled run then ends with nothing to do (exit 0) and says so. Before
 * its first load, it is exit 2 as any other setting that finds no input: most likely the
 * directory or the pattern is wrong, and the user is there to see it.
 */
async function allowEmptySourceDir(settings: RunSettings, warn: (message: string) => void): Promise<void> {
  if (!(await loadedBefore(settings))) throw noFilesMatched(settings);
  warn(`no files in ${settings.sourceDir ?? ''} match ${settings.pattern}: nothing new to load`);
}

/** Whether the pipeline has loaded a file: read-only, so a first run that stops here writes nothing. */
async function loadedBefore(settings: RunSettings): Promise<boolean> {
  const loaded = reading(settings.db, false, async (backend) => (await backend.ledger.loadedFiles(settings.pipeline)).size > 0);
  // No database yet (or none reachable): nothing was loaded that the run could know of.
  return loaded.catch(() => false);
}

/** The record rules of a pipeline (normalize, transform, validate, key, cursor), without its files. */
export async function prepareRules(settings: RunSettings, warn: (message: string) => void): Promise<Omit<PreparedRun, 'files' | 'warn'>> {
  const normalizer = new Normalizer(settings.normalize, warn);
  const name = (field: string): string => normalizer.fieldName(field);
  // Null prototype: a field named "constructor" must not find Object's constructor. Re-parented
  // rather than built on Object.create(null), which V8 keeps in slow dictionary mode: validation
  // walks these types once per record.
  const entries = Object.entries(settings.types).map(([field, type]) => [name(field), type]);
  const types = Object.setPrototypeOf(Object.fromEntries(entries), null) as Record<string, FieldType>;
  const schema = settings.schemaFile === null ? null : await compileSchemaFile(settings.schemaFile);
  const transform = settings.transform === null ? null : await loadTransform(settings.transform);
  const cursor = settings.cursor === null ? null : cursorSpec(name(settings.cursor), types[name(settings.cursor)]);
  return {
    formatOf: formatResolver(settings.format),
    normalizer,
    transform,
    rules: { require: settings.require.map(name), types, schema },
    key: settings.key === null ? null : name(settings.key),
    cursor,
  };
}

function cursorSpec(field: string, declared: string | undefined): CursorSpec {
  if (declared === undefined || declared === 'timestamp') return { field, type: 'timestamp' };
  if (declared === 'number' || declared === 'integer') return { field, type: declared };
  throw new SluiceError('CONFIG_INVALID', `--cursor ${field} is declared ${declared}; a cursor must be a timestamp, number or integer`, {
    hint: `declare it with --type ${field}=timestamp (the default) or --type ${field}=number`,
  });
}

function formatResolver(format: RunSettings['format']): (path: string) => Format {
  if (format !== 'auto') return () => format;
  return (path) => {
    const detected = detectFormat(path);
    if (detected === null) {
      // The advice is in the message too: the run's summary lists a failed file by its message.
      throw new SluiceError('DECODE_IO', `cannot tell the format of ${path} from its extension (expected .csv, .json, .ndjson, .jsonl or .txt, optionally .gz; or pass --format)`, {
        file: path,
        hint: 'pass --format csv|json|ndjson|lines',
      });
    }
    return detected;
  };
}
