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
    throw yamlError(file, text, error);
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

/** Where the YAML breaks, with that line of the file: the parser's own message ends in a dangling excerpt. */
function yamlError(file: string, text: string, error: unknown): SluiceError {
  const linePos = (error as { linePos?: { line: number; col: number }[] }).linePos?.[0];
  const reason = (error as Error).message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? 'cannot be parsed';
  if (linePos === undefined) return new SluiceError('CONFIG_FILE', `config file ${file} is not valid YAML: ${reason}`, { file });
  const source = text.split(/\r?\n/)[linePos.line - 1] ?? '';
  return new SluiceError('CONFIG_FILE', `config file ${file}, line ${linePos.line}, column ${linePos.col}: not valid YAML: ${reason}`, {
    file,
    line: linePos.line,
    // The parser notices at this line what may have gone wrong before it (an unclosed bracket).
    hint: `check line ${linePos.line} and the lines before it (line ${linePos.line} reads ${JSON.stringify(source)})`,
  });
}
