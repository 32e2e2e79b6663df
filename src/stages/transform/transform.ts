import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SluiceError } from '../../core/errors.js';
import { toFields, type Fields } from '../../core/record.js';
import { textStats } from './text-stats.js';

/** What a user transform sees besides the record. */
export interface TransformContext {
  file: string;
  line: number;
  /** 0-based ordinal of the record in its file. */
  index: number;
}

export type TransformResult = Fields | Fields[] | null | undefined;
export type TransformFn = (record: Fields, context: TransformContext) => TransformResult;

const BUILT_INS: Record<string, TransformFn> = { 'text-stats': textStats };

/** Loads a built-in transform by name, or a user module whose default export is the function. */
export async function loadTransform(spec: string): Promise<TransformFn> {
  const builtIn = BUILT_INS[spec];
  if (builtIn) return builtIn;
  // The module's content hash in the URL: a long-lived process that loads a fixed transform
  // again (replay after a fix) gets the new code, not the cached module. (Its modification time
  // was not enough: two writes within one clock tick keep the same one.)
  const file = path.resolve(spec);
  const version = existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16) : '0';
  const url = `${pathToFileURL(file).href}?content=${version}`;
  let module: { default?: unknown };
  try {
    module = (await import(url)) as { default?: unknown };
  } catch (error) {
    throw new SluiceError('CONFIG_FILE', `cannot load transform ${spec}: ${(error as Error).message}`, {
      file: spec,
      hint: `use a built-in (${Object.keys(BUILT_INS).join(', ')}) or a .js/.mjs module with a default export`,
    });
  }
  if (typeof module.default !== 'function') {
    throw new SluiceError('CONFIG_FILE', `transform ${spec} has no default export function (found ${typeof module.default})`, { file: spec });
  }
  return module.default as TransformFn;
}

export type Transformed = { ok: true; records: Fields[] } | { ok: false; message: string };

/**
 * Applies a transform to one record. A throw or a non-object result concerns that record
 * only: it becomes a dead letter and the run goes on. null/undefined drops the record.
 */
export function applyTransform(fn: TransformFn, fields: Fields, context: TransformContext): Transformed {
  let result: TransformResult;
  try {
    result = fn(fields, context);
  } catch (error) {
    return { ok: false, message: `transform threw: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (result === null || result === undefined) return { ok: true, records: [] };
  const list = Array.isArray(result) ? result : [result];
  const records: Fields[] = [];
  for (const item of list) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      return { ok: false, message: `transform returned ${Array.isArray(item) ? 'an array' : typeof item} where a record object was expected` };
    }
    records.push(toFields(item));
  }
  return { ok: true, records };
}
