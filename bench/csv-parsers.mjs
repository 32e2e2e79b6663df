#!/usr/bin/env node
// Chooses the CSV parser by measurement (see src/stages/decode/CSV-CHOICE.md).
//
// For each contender: throughput end to end, file on disk → records with provenance (null-prototype
// fields named by the header, line, position, raw text and byte offset where the parser gives them),
// on a generated 1M-row, 7-column CSV with quoted fields holding commas and doubled quotes; then
// the correctness cases the decode stage must get right, each read with 1-, 7- and 65536-byte chunks.
//
//   npm run build && node bench/csv-parsers.mjs [--rows 1000000] [--runs 3]
//     [--decode dist/stages/decode/index.js]   the sluice decode module to measure
//     [--libs /tmp/csvbench/node_modules]       where papaparse and udsv are installed, e.g. with
//                                               `npm install --no-save papaparse udsv` in a scratch dir
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { createReadStream, existsSync, mkdirSync, statSync, writeFileSync, createWriteStream } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []),
);
const ROWS = Number(args.rows ?? 1_000_000);
const RUNS = Number(args.runs ?? 3);
const decodeModule = resolve(args.decode ?? new URL('../dist/stages/decode/index.js', import.meta.url).pathname);
const LIMITS = { maxRecordBytes: 16 * 1024 * 1024, maxDecompressedBytes: 64 * 1024 ** 3 };
const dir = join(tmpdir(), 'sluice-bench-csv');
mkdirSync(dir, { recursive: true });

async function load(name) {
  const require = createRequire(args.libs ? join(resolve(args.libs), 'x.js') : import.meta.url);
  try {
    const module = await import(pathToFileURL(require.resolve(name)).href);
    return module.default ?? module;
  } catch {
    return null;
  }
}

// ---- data: deterministic, ~10% of rows with quoted fields (commas, doubled quotes) ----
async function generate(rows) {
  const path = join(dir, `rows-${rows}.csv`);
  if (existsSync(path) && statSync(path).size > 0) return path;
  const out = createWriteStream(path);
  out.write('id,name,email,amount,created_at,status,note\n');
  const statuses = ['active', 'closed', 'pending'];
  let chunk = '';
  for (let i = 1; i <= rows; i++) {
    const name = i % 20 === 0 ? `"Smith, Jane ${i}"` : `name ${i}`;
    const note = i % 10 === 0 ? `"said ""hi"", then left"` : `note ${i % 977}`;
    const day = String((i % 28) + 1).padStart(2, '0');
    chunk += `${i},${name},user${i}@example.com,${(i * 1.37).toFixed(2)},2024-01-${day}T10:00:00Z,${statuses[i % 3]},${note}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  return path;
}

// ---- contenders: each reads a file and calls emit(record) with a DecodedRecord-shaped object ----
function fieldsOf(header, values) {
  const fields = Object.create(null);
  for (let k = 0; k < header.length; k++) fields[header[k]] = values[k];
  return fields;
}

const contenders = {
  async 'sluice decodeBatches'(path, chunkSize, emit) {
    const { decodeBatches } = await import(pathToFileURL(decodeModule).href);
    for await (const batch of decodeBatches(path, { format: 'csv', limits: LIMITS, chunkSize })) {
      for (const record of batch) emit(record.problem ? { ragged: true } : record);
    }
  },
  async 'sluice decodeFile'(path, chunkSize, emit) {
    const { decodeFile } = await import(pathToFileURL(decodeModule).href);
    for await (const record of decodeFile(path, { format: 'csv', limits: LIMITS, chunkSize })) {
      emit(record.problem ? { ragged: true } : record);
    }
  },
  async 'csv-parse 6'(path, chunkSize, emit) {
    const { parse } = await import('csv-parse');
    const parser = createReadStream(path, { highWaterMark: chunkSize }).pipe(
      parse({ bom: true, raw: true, info: true, relax_column_count: true, skip_empty_lines: true }),
    );
    let header = null;
    let position = 0;
    for await (const { record, raw, info } of parser) {
      if (!header) header = record;
      else if (record.length !== header.length) emit({ ragged: true });
      else emit({ fields: fieldsOf(header, record), line: info.lines, position: ++position, endOffset: info.bytes, raw });
    }
  },
  // The same without provenance (no line, raw text or offset): what csv-parse costs at its fastest.
  async 'csv-parse 6, no provenance'(path, chunkSize, emit) {
    const { parse } = await import('csv-parse');
    const parser = createReadStream(path, { highWaterMark: chunkSize }).pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: true }));
    let header = null;
    let position = 0;
    parser.on('data', (record) => {
      if (!header) header = record;
      else if (record.length !== header.length) emit({ ragged: true });
      else emit({ fields: fieldsOf(header, record), line: null, position: ++position, endOffset: null, raw: null });
    });
    await once(parser, 'end');
  },
  async 'papaparse 5'(path, chunkSize, emit) {
    const Papa = await load('papaparse');
    if (!Papa) throw new Error('not installed (see --libs)');
    let header = null;
    let position = 0;
    await new Promise((resolvePromise, reject) => {
      Papa.parse(createReadStream(path, { highWaterMark: chunkSize }), {
        skipEmptyLines: true,
        step({ data, meta }) {
          if (!header) header = data;
          else if (data.length !== header.length) emit({ ragged: true });
          else emit({ fields: fieldsOf(header, data), line: null, position: ++position, endOffset: meta.cursor, raw: null });
        },
        complete: resolvePromise,
        error: reject,
      });
    });
  },
  async 'udsv 0.7'(path, chunkSize, emit) {
    const uDSV = await load('udsv');
    if (!uDSV) throw new Error('not installed (see --libs)');
    let parser = null;
    let header = null;
    let position = 0;
    const onRow = (row) => {
      if (!header) header = row;
      else if (row.length !== header.length) emit({ ragged: true });
      else emit({ fields: fieldsOf(header, row), line: null, position: ++position, endOffset: null, raw: null });
      return true;
    };
    for await (const text of createReadStream(path, { highWaterMark: chunkSize, encoding: 'utf8' })) {
      parser ??= uDSV.initParser({ ...uDSV.inferSchema(text), skip: 0 });
      parser.chunk(text, parser.stringArrs, onRow);
    }
    parser?.end();
  },
};

// ---- correctness: expected data rows (arrays of values), 'ragged', or an error naming a line ----
const emoji = Array.from({ length: 300 }, (_, i) => `${i},é日本😀${i},"ça, 🎉"`).join('\n');
const cases = [
  ['RFC 4180: BOM, CRLF, quoted comma, doubled quote, quoted newline', '\uFEFFid,name,note\r\n1,"Smith, J","said ""hi"""\r\n2,"two\nlines",x\r\n', [['1', 'Smith, J', 'said "hi"'], ['2', 'two\nlines', 'x']]],
  ['short row, then a full row (must not merge)', 'a,b,c\n1,2\n3,4,5\n', ['ragged', ['3', '4', '5']]],
  ['short last row (must not hang or merge)', 'a,b,c\n1,2,3\n4,5\n', [['1', '2', '3'], 'ragged']],
  ['long row', 'a,b\n1,2,3\n4,5\n', ['ragged', ['4', '5']]],
  ['blank lines, CRLF', 'a,b\r\n\r\n1,2\r\n\r\n', [['1', '2']]],
  ['multibyte characters at every chunk edge', `n,text,quoted\n${emoji}\n`, emoji.split('\n').map((l) => { const [n, text] = l.split(','); return [n, text, 'ça, 🎉']; })],
  ['unclosed quote at the end of the file', 'a,b\n1,"oops\n2,3\n', 'error: line 2'],
];

async function runCase(name, input, chunkSize) {
  const path = join(dir, 'case.csv');
  writeFileSync(path, input);
  const rows = [];
  const emit = (r) => rows.push(r.ragged ? 'ragged' : Object.values(r.fields));
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('timed out (hang?)')), 5000).unref());
  try {
    await Promise.race([contenders[name](path, chunkSize, emit), timeout]);
    return rows;
  } catch (error) {
    return `error: ${error.message}`;
  }
}

function verdict(got, expected) {
  if (typeof expected === 'string') return typeof got === 'string' && /line 2\b/.test(got) ? 'ok' : `FAIL (${JSON.stringify(got).slice(0, 110)})`;
  return JSON.stringify(got) === JSON.stringify(expected) ? 'ok' : `FAIL (${JSON.stringify(got).slice(0, 110)})`;
}

async function correctness(name) {
  const failures = [];
  for (const [title, input, expected] of cases) {
    for (const chunkSize of [1, 7, 65536]) {
      const result = verdict(await runCase(name, input, chunkSize), expected);
      if (result !== 'ok') failures.push(`${title} [chunk ${chunkSize}]: ${result}`);
    }
  }
  return failures;
}

async function throughput(name, path) {
  const times = [];
  for (let run = 0; run < RUNS; run++) {
    let count = 0;
    let check = 0;
    const started = performance.now();
    await contenders[name](path, 65536, (r) => {
      count++;
      check += r.fields ? r.fields.id.length : 0;
    });
    times.push(performance.now() - started);
    if (count !== ROWS) throw new Error(`${name}: ${count} records, expected ${ROWS} (checksum ${check})`);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const path = await generate(ROWS);
console.log(`data: ${path} (${(statSync(path).size / 2 ** 20).toFixed(0)} MiB, ${ROWS} rows, 7 columns); Node ${process.version}; median of ${RUNS} runs`);
for (const name of Object.keys(contenders)) {
  let speed;
  try {
    const ms = await throughput(name, path);
    speed = `${(ms / 1000).toFixed(2)} s  ${Math.round(ROWS / (ms / 1000)).toLocaleString('en-US')} rows/s`;
  } catch (error) {
    speed = `not measured: ${error.message}`;
  }
  const failures = await correctness(name);
  console.log(`\n${name}: ${speed}`);
  console.log(failures.length === 0 ? '  correctness: all cases ok' : failures.map((f) => `  ${f}`).join('\n'));
}
