import { emptyFields, type Fields } from '../../core/record.js';
import type { TransformContext } from './transform.js';

/**
 * The checkpoint seed's item processing as a built-in: for a text line, its length, word count
 * and upper-case form. Reads the `line` field that `--format lines` produces.
 */
export function textStats(record: Fields, context: TransformContext): Fields {
  const text = String(record.line ?? record.text ?? '');
  const out = emptyFields();
  out.index = context.index;
  out.original = text;
  out.length = text.length;
  out.word_count = text.split(/\s+/).filter((word) => word !== '').length;
  out.uppercase = text.toUpperCase();
  return out;
}
