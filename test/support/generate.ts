import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

/** A small seeded PRNG (mulberry32): the same seed gives the same data and the same kills. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface EventOptions {
  files: number;
  perFile: number;
  seed: number;
  /** Write the last file gzipped (no byte offsets: resume skips by position). */
  gzipLast?: boolean;
}

/**
 * Event files as a drop would bring them: about 2% invalid rows (empty key, non-numeric value),
 * repeated keys, some with an older ts than an earlier copy. Alternates NDJSON and CSV.
 */
export function writeEvents(dir: string, options: EventOptions): string[] {
  mkdirSync(dir, { recursive: true });
  const next = random(options.seed);
  const paths: string[] = [];
  let n = 0;
  for (let f = 0; f < options.files; f += 1) {
    const records: Record<string, string>[] = [];
    for (let i = 0; i < options.perFile; i += 1, n += 1) {
      const repeat = next() < 0.2 && n > 10;
      const keyNumber = repeat ? Math.floor(next() * n) : n;
      const minutes = repeat && next() < 0.5 ? Math.floor(next() * keyNumber) : n;
      const invalid = next() < 0.02;
      records.push({
        key: invalid && next() < 0.5 ? '' : `k${keyNumber}`,
        name: `event "${n}", with comma`,
        value: invalid ? 'not_a_number' : String(Math.round(next() * 10000) / 100),
        ts: new Date(Date.UTC(2025, 0, 1) + minutes * 60_000).toISOString().slice(0, 19),
      });
    }
    const csv = f % 2 === 1;
    const body = csv ? toCsv(records) : records.map((r) => JSON.stringify(r)).join('\n') + '\n';
    const name = `part-${String(f).padStart(3, '0')}.${csv ? 'csv' : 'ndjson'}`;
    const gz = options.gzipLast === true && f === options.files - 1;
    const file = path.join(dir, gz ? `${name}.gz` : name);
    writeFileSync(file, gz ? gzipSync(body) : body);
    paths.push(file);
  }
  return paths;
}

function toCsv(records: Record<string, string>[]): string {
  const quote = (v: string): string => (/[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
  const lines = ['key,name,value,ts', ...records.map((r) => [r.key, r.name, r.value, r.ts].map((v) => quote(v ?? '')).join(','))];
  return lines.join('\r\n') + '\r\n';
}
