import { emptyFields, type Fields } from '../../core/record.js';

/**
 * Normalizes a record the ETL runner's way: keys trimmed and lower-cased, string values trimmed.
 * Two keys that become equal (`id` and `ID`) are not merged: the later one is renamed `id_2`
 * (then `id_3`...), deterministically by field order, and the rename is reported once.
 */
export class Normalizer {
  private readonly names = new Map<string, string>();
  private readonly reported = new Set<string>();
  /** Per record shape (DecodedRecord.shape): whether its names are all normalized already. */
  private readonly cleanShapes = new WeakMap<readonly string[], boolean>();

  constructor(
    private readonly enabled: boolean,
    private readonly warn: (message: string) => void,
  ) {}

  /**
   * With the record's `shape` (its names, shared by records of one header), the names are checked
   * once per shape instead of once per record: a CSV record's fields are then only trimmed.
   */
  normalize(fields: Fields, file: string, shape?: readonly string[]): Fields {
    if (!this.enabled) return fields;
    // Most drops already have clean keys: then only values are trimmed, in place, with no copy.
    const clean = shape !== undefined ? this.isClean(shape) : this.hasCleanKeys(fields);
    if (!clean) return this.rebuild(fields, file);
    for (const key in fields) {
      const value = fields[key];
      if (typeof value === 'string') fields[key] = value.trim();
    }
    return fields;
  }

  private hasCleanKeys(fields: Fields): boolean {
    for (const key in fields) if (this.nameOf(key) !== key) return false;
    return true;
  }

  private isClean(shape: readonly string[]): boolean {
    let clean = this.cleanShapes.get(shape);
    if (clean === undefined) {
      clean = shape.every((key) => this.nameOf(key) === key);
      this.cleanShapes.set(shape, clean);
    }
    return clean;
  }

  /** Normalizes a field name given on the command line the same way the data's keys are. */
  fieldName(name: string): string {
    return this.enabled ? name.trim().toLowerCase() : name;
  }

  private nameOf(key: string): string {
    let name = this.names.get(key);
    if (name === undefined) {
      name = key.trim().toLowerCase();
      this.names.set(key, name);
    }
    return name;
  }

  private rebuild(fields: Fields, file: string): Fields {
    const out = emptyFields();
    for (const key in fields) {
      let name = this.nameOf(key);
      if (name in out) name = this.rename(name, key, out, file);
      const value = fields[key];
      out[name] = typeof value === 'string' ? value.trim() : value;
    }
    return out;
  }

  private rename(name: string, original: string, taken: Fields, file: string): string {
    let n = 2;
    while (`${name}_${n}` in taken) n += 1;
    const renamed = `${name}_${n}`;
    const note = `${file}: field "${original}" collides with "${name}" once keys are trimmed and lower-cased; stored as "${renamed}"`;
    if (!this.reported.has(note)) {
      this.reported.add(note);
      this.warn(note);
    }
    return renamed;
  }
}

