/**
 * Builds a CSV record's fields for one header. Measured (Node 20): a null-prototype object built
 * key by key with Object.create(null) is in V8's slow dictionary mode and costs 3-5× more to
 * create, and 2× more to read later, than an object literal with the keys written in the code,
 * re-parented to a null prototype. So for each header we generate that literal once.
 *
 * Safe with any header text: each name is a JSON string literal inside a computed key
 * (`["__proto__"]: v` defines an own property, unlike `__proto__: v`), and names are unique
 * (csv-header.ts renamed duplicates).
 */
import type { Fields } from '../../core/record.js';
import type { NextIndex } from './next-index.js';

export interface FieldBuilder {
  /**
   * Fields from the row text `text[start, end)`, which has no quote, split at commas; null when
   * the row has more or fewer fields than the header.
   */
  split(text: string, start: number, end: number, commas: NextIndex): Fields | null;
  /** Fields from values parsed by the state machine (as many as header names). */
  fromValues(values: readonly string[]): Fields;
}

function literal(names: readonly string[], value: (index: number) => string): string {
  const entries = names.map((name, index) => `[${JSON.stringify(name)}]: ${value(index)}`);
  return `const fields = { ${entries.join(', ')} };\nObject.setPrototypeOf(fields, null);\nreturn fields;`;
}

export function fieldBuilder(names: readonly string[]): FieldBuilder {
  const last = names.length - 1;
  const lines = ['let comma;'];
  for (let k = 0; k < last; k++) {
    lines.push(`comma = commas.from(from); if (comma >= end) return null; const v${k} = text.slice(from, comma); from = comma + 1;`);
  }
  lines.push(`if (commas.from(from) < end) return null; const v${last} = text.slice(from, end);`);
  lines.push(literal(names, (k) => `v${k}`));
  return {
    split: new Function('text', 'from', 'end', 'commas', lines.join('\n')) as FieldBuilder['split'],
    fromValues: new Function('values', literal(names, (k) => `values[${k}]`)) as FieldBuilder['fromValues'],
  };
}
