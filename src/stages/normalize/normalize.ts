import { emptyFields, type Fields } from '../../core/record.js';

/**
 * Normalizes a record the ETL runner's way: keys trimmed and lower-cased, string values trimmed.
 * Two keys that become equal (`id` and `ID`) are not merged: the later one is renamed `id_2`
 * (then `id_3`...), deterministically by field order, and the rename is reported once.
 */
export class Normalizer {
  private readonly names = new Map<string, string>();
  private readonly reported = new Set<string>();

  constructor(
    private readonly enabled: boolean,
    private readonly warn: (message: string) => void,
  ) {}

  normalize(fields: Fields, file: string): Fields {
    if (!this.enabled) return fields;
    const out = emptyFields();
    for (const key of Object.keys(fields)) {
      let name = this.names.get(key);
      if (name === undefined) {
        name = key.trim().toLowerCase();
        this.names.set(key, name);
      }
      if (name in out) name = this.rename(name, key, out, file);
      const value = fields[key];
      out[name] = typeof value === 'string' ? value.trim() : value;
    }
    return out;
  }

  /** Normalizes a field name given on the command line the same way the data's keys are. */
  fieldName(name: string): string {
    return this.enabled ? name.trim().toLowerCase() : name;
  }

  private rename(name: string, original: string, taken: Fields, file: string): string {
    let n = 2;
    while (`${name}_${n}` in taken) n += 1;
    const renamed = `${name}_${n}`;
    const note = `${file}: field "${original}" collides with "${name}" after lower-casing; stored as "${renamed}"`;
    if (!this.reported.has(note)) {
      this.reported.add(note);
      this.warn(note);
    }
    return renamed;
  }
}
