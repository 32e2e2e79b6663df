/** NDJSON: one JSON object per non-blank line. A bad line is a problem record; the file goes on. */
import type { Fields } from '../../core/record.js';
import { jsonSyntaxReason, objectFields, syntaxErrorIndex } from './json-values.js';
import { Problem } from './problem.js';

export function jsonLine(raw: string, line: number): Fields | Problem {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    const column = syntaxErrorIndex(raw, error) + 1;
    const reason = `${jsonSyntaxReason(error)} at column ${column}`;
    return new Problem('malformed_row', null, `line ${line}: not valid JSON (${reason}); expected one JSON object per line`);
  }
  return objectFields(value, raw, `line ${line}`);
}
