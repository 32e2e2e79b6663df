import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { SluiceError, describeErrno } from '../core/errors.js';

/** Reads a `sluice.yaml`: a mapping of the same settings as the flags, in kebab-case. */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SluiceError('CONFIG_FILE', `cannot read config file ${file}: ${describeErrno(error)}`, { file });
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new SluiceError('CONFIG_FILE', `config file ${file} is not valid YAML: ${(error as Error).message.split('\n')[0]}`, { file });
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new SluiceError('CONFIG_FILE', `config file ${file} must be a mapping of settings (like "table: events"), found ${Array.isArray(value) ? 'a list' : typeof value}`, { file });
  }
  return value as Record<string, unknown>;
}

/**
 * The YAML parser, loaded when a config file is read: about 40 ms of every command's start-up
 * otherwise (`sluice export` of 1M rows takes 1.2 s). Synchronous, as reading the file is.
 */
function parseYaml(text: string): unknown {
  const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml.parse(text);
}
