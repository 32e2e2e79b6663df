// Deterministic, seeded event data for the benchmark: the same seed and size give the same bytes.
//
// Columns key,name,value,ts,region,amount,note. What the rows exercise:
// - about 2% invalid: an empty (or blank) key, a non-numeric value, or an empty ts;
// - about 20% repeat a key seen before (anywhere earlier in the file, so across batches); a repeat
//   gets a fresh random ts (so about half are older than what the key holds: stale), and one
//   repeat in ten copies the key's last ts exactly (a tie: the first seen must stay);
// - quoted CSV fields holding commas and doubled quotes, padded text (sluice trims it),
//   numbers written as integers, decimals and exponents, some negative, some amounts empty.
// The three formats hold the same records: CSV text, NDJSON objects, one JSON array. In JSON a
// valid value is a JSON number written with the same digits as the CSV text, an empty amount is
// null, everything else is a string.
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Bump when the data's shape changes, so cached files from an older generator are not reused. */
export const GENERATOR_VERSION = 3;
export const COLUMNS = ['key', 'name', 'value', 'ts', 'region', 'amount', 'note'];

/** mulberry32: small, fast, good enough for test data, identical on every platform. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REGIONS = ['eu-west', 'eu-central', 'us-east', 'us-west', 'ap-south', 'ap-northeast', 'sa-east', 'af-south'];
const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Ken', 'Dennis', 'Margaret', 'Linus', 'Frances', 'John'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Thompson', 'Ritchie', 'Hamilton', 'Torvalds', 'Allen', "O'Neil"];
const WORDS = ['checkout', 'refund', 'signup', 'login', 'upgrade', 'cancel', 'renewal', 'transfer', 'invoice', 'trial'];
const BAD_VALUES = ['n/a', '12abc', 'NaN', '1,234', 'twelve', '--5', '3.1.4', '0x1F'];
const TS_BASE = Date.UTC(2024, 0, 1) / 1000;
const TS_SPAN = 366 * 24 * 3600;

function isoSeconds(seconds) {
  return new Date(seconds * 1000).toISOString().slice(0, 19) + 'Z';
}

function csvField(text) {
  return /[",\n\r]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * Yields one record at a time as { csv, json }: the CSV line and the JSON object text.
 * Memory: two typed arrays of `rows` entries (key ids and each key's last ts), nothing per row.
 */
export function* records(rows, seed) {
  const rand = prng(seed);
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const keyOfRow = new Int32Array(rows); // key id of each valid-keyed row emitted so far
  const lastTs = new Int32Array(Math.ceil(rows * 0.85) + 16); // each key id's last ts offset
  let emitted = 0;
  let keys = 0;
  for (let i = 0; i < rows; i++) {
    // key: a new one, or (20%) one seen before
    let keyId;
    let repeat = false;
    if (emitted > 0 && rand() < 0.2) {
      keyId = keyOfRow[Math.floor(rand() * emitted)];
      repeat = true;
    } else {
      keyId = keys++;
    }
    let tsOffset = Math.floor(rand() * TS_SPAN);
    if (repeat && rand() < 0.1) tsOffset = lastTs[keyId]; // a tie with the key's last ts
    lastTs[keyId] = tsOffset;
    keyOfRow[emitted++] = keyId;

    let key = `k${String(keyId).padStart(8, '0')}`;
    if (rand() < 0.005) key = `  ${key} `; // padded: sluice trims text, so this is the same key
    let name = `${pick(FIRST)} ${pick(LAST)}`;
    const nameRoll = rand();
    if (nameRoll < 0.05) name = `${pick(LAST)}, ${pick(FIRST)}`;
    else if (nameRoll < 0.07) name = `${pick(FIRST)} "${pick(WORDS)}" ${pick(LAST)}`;
    const valueRoll = rand();
    const cents = Math.floor(rand() * 10_000_000) - 1_000_000;
    let value;
    let valueIsNumber = true;
    if (valueRoll < 0.6) value = (cents / 100).toFixed(2);
    else if (valueRoll < 0.95) value = String(Math.trunc(cents / 100));
    else value = `${(cents / 1000).toFixed(3)}e2`;
    let ts = isoSeconds(TS_BASE + tsOffset);
    const region = pick(REGIONS);
    const amountRoll = rand();
    const amount = amountRoll < 0.03 ? null : ((Math.floor(rand() * 500_000) - 50_000) / 100).toFixed(2);
    const noteRoll = rand();
    let note;
    if (noteRoll < 0.05) note = `${pick(WORDS)}, then ${pick(WORDS)}`;
    else if (noteRoll < 0.08) note = `said "${pick(WORDS)}", left`;
    else if (noteRoll < 0.1) note = `  ${pick(WORDS)}  `; // padded: trimmed by sluice
    else if (noteRoll < 0.12) note = '';
    else note = `${pick(WORDS)} #${i % 997}`;

    // about 2% invalid, one reason each
    if (rand() < 0.02) {
      const kind = Math.floor(rand() * 3);
      if (kind === 0) key = rand() < 0.8 ? '' : '   ';
      else if (kind === 1) {
        value = pick(BAD_VALUES);
        valueIsNumber = false;
      } else ts = '';
    }

    const csv = [key, name, value, ts, region, amount ?? '', note].map(csvField).join(',');
    const json =
      `{"key":${JSON.stringify(key)},"name":${JSON.stringify(name)},"value":${valueIsNumber ? value : JSON.stringify(value)},` +
      `"ts":${JSON.stringify(ts)},"region":${JSON.stringify(region)},"amount":${amount ?? 'null'},"note":${JSON.stringify(note)}}`;
    yield { csv, json };
  }
}

class Sink {
  constructor(path) {
    this.path = path;
    this.out = createWriteStream(path);
    this.chunk = '';
  }
  async write(text) {
    this.chunk += text;
    if (this.chunk.length >= 1 << 20) {
      const chunk = this.chunk;
      this.chunk = '';
      if (!this.out.write(chunk)) await once(this.out, 'drain');
    }
  }
  async end() {
    this.out.end(this.chunk);
    await once(this.out, 'finish');
  }
}

/**
 * Writes (or reuses) `events-<rows>-s<seed>.{csv,ndjson,json}` under dir. A file set is reused
 * only when its manifest says it was completed by this generator version with this seed and size.
 * Returns { csv, ndjson, json, rows, reused }.
 */
export async function ensureDataset(dir, rows, seed) {
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `events-${rows}-s${seed}-g${GENERATOR_VERSION}`);
  const paths = { csv: `${base}.csv`, ndjson: `${base}.ndjson`, json: `${base}.json` };
  const manifest = `${base}.manifest.json`;
  if (existsSync(manifest)) {
    try {
      const m = JSON.parse(readFileSync(manifest, 'utf8'));
      if (m.rows === rows && m.seed === seed && m.version === GENERATOR_VERSION && Object.values(paths).every((p) => existsSync(p))) {
        return { ...paths, rows, reused: true };
      }
    } catch {
      // regenerate
    }
  }
  rmSync(manifest, { force: true });
  const tmp = Object.fromEntries(Object.entries(paths).map(([k, p]) => [k, `${p}.part`]));
  const csv = new Sink(tmp.csv);
  const ndjson = new Sink(tmp.ndjson);
  const json = new Sink(tmp.json);
  await csv.write(COLUMNS.join(',') + '\n');
  await json.write('[\n');
  let first = true;
  for (const record of records(rows, seed)) {
    await csv.write(record.csv + '\n');
    await ndjson.write(record.json + '\n');
    await json.write((first ? '' : ',\n') + record.json);
    first = false;
  }
  await json.write('\n]\n');
  await Promise.all([csv.end(), ndjson.end(), json.end()]);
  for (const k of Object.keys(paths)) renameSync(tmp[k], paths[k]);
  writeFileSync(manifest, JSON.stringify({ rows, seed, version: GENERATOR_VERSION, created: new Date().toISOString() }));
  return { ...paths, rows, reused: false };
}

/**
 * Many small CSV files for the "nothing new" re-run: `count` files of `rowsEach` rows, named so
 * path order is file order. Reused when complete.
 */
export async function ensureSmallFiles(dir, count, rowsEach, seed) {
  const folder = join(dir, `small-${count}x${rowsEach}-s${seed}-g${GENERATOR_VERSION}`);
  const done = join(dir, `small-${count}x${rowsEach}-s${seed}-g${GENERATOR_VERSION}.done`);
  if (existsSync(done) && existsSync(folder)) return { dir: folder, files: count, rows: count * rowsEach, reused: true };
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  const all = records(count * rowsEach, seed);
  for (let f = 0; f < count; f++) {
    let text = COLUMNS.join(',') + '\n';
    for (let r = 0; r < rowsEach; r++) text += all.next().value.csv + '\n';
    writeFileSync(join(folder, `part-${String(f).padStart(5, '0')}.csv`), text);
  }
  writeFileSync(done, '');
  return { dir: folder, files: count, rows: count * rowsEach, reused: false };
}
