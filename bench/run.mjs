#!/usr/bin/env node
// npm run bench: sluice against the sqlite3 shell doing the same job, side by side, in one session.
//
//   npm run build && npm run bench [-- options]
//     --sizes 100k,1m        data sizes (k/m suffixes; 10m is opt-in: about 4 GB of temp files)
//     --formats csv,ndjson,json
//     --repeat 3             runs of each command; the median is reported
//     --budget 9             minutes: fewer repeats of the larger sizes rather than run longer
//                            (0: no limit). Reduced repeats are printed and recorded.
//     --small-files 1000     files for the "nothing new" re-run (0 to skip)
//     --seed 20240101        data seed
//     --data-dir DIR         where data is generated and reused (default: $TMPDIR/sluice-bench/data)
//     --keep                 keep the databases and exports (their folder is printed)
//     --no-write             do not write bench/results/*.json
//
// Every figure is measured in this run: nothing is hard-coded. See bench/README.md.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipelineScript, rawImportScript, exportScript } from './anchors.mjs';
import { compareCounters, compareTargets, csvRecords } from './compare.mjs';
import { ensureDataset, ensureSmallFiles, GENERATOR_VERSION } from './generate.mjs';
import { measure, median, rssMethod } from './measure.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const SQLITE3 = process.env.SQLITE3 ?? 'sqlite3';
const TABLE = 'events';

// ---------- options ----------
function parseArgs(argv) {
  const o = {
    sizes: '100k,1m',
    formats: 'csv,ndjson,json',
    repeat: 3,
    budget: 9,
    smallFiles: 1000,
    seed: 20240101,
    dataDir: join(os.tmpdir(), 'sluice-bench', 'data'),
    keep: false,
    write: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) fail(`${arg} needs a value`);
      return v;
    };
    const [flag, inline] = arg.includes('=') ? arg.split(/=(.*)/s) : [arg, undefined];
    const get = () => inline ?? value();
    switch (flag) {
      case '--sizes': o.sizes = get(); break;
      case '--formats': o.formats = get(); break;
      case '--repeat': o.repeat = positiveInt(get(), flag); break;
      case '--budget': o.budget = Number(get()); break;
      case '--small-files': o.smallFiles = Number(get()); break;
      case '--seed': o.seed = positiveInt(get(), flag); break;
      case '--data-dir': o.dataDir = resolve(get()); break;
      case '--keep': o.keep = true; break;
      case '--no-write': o.write = false; break;
      case '-h':
      case '--help':
        console.log(readHelp());
        process.exit(0);
        break;
      default:
        fail(`unknown option ${arg} (see --help)`);
    }
  }
  o.sizes = o.sizes.split(',').map(parseSize);
  o.formats = o.formats.split(',').map((f) => f.trim().toLowerCase());
  for (const f of o.formats) if (!['csv', 'ndjson', 'json'].includes(f)) fail(`unknown format ${f}`);
  if (!Number.isFinite(o.budget) || o.budget < 0) fail('--budget takes minutes (0: no limit)');
  return o;
}

function readHelp() {
  const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1);
  const head = lines.slice(0, lines.findIndex((l) => !l.startsWith('//')));
  return head.map((l) => l.replace(/^\/\/ ?/, '')).join('\n');
}

function positiveInt(text, flag) {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) fail(`${flag} takes a positive integer`);
  return n;
}

function parseSize(text) {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([km]?)\s*$/i.exec(text);
  if (!m) fail(`bad size ${text} (e.g. 100k, 1m, 250000)`);
  const n = Math.round(Number(m[1]) * { '': 1, k: 1e3, m: 1e6 }[m[2].toLowerCase()]);
  if (n < 1) fail(`bad size ${text}`);
  return n;
}

function fail(message) {
  console.error(`bench: ${message}`);
  process.exit(2);
}

// ---------- machine ----------
function machineInfo() {
  const cpus = os.cpus();
  const sqliteVersion = spawnSync(SQLITE3, ['--version'], { encoding: 'utf8' }).stdout?.trim().split(' ')[0] ?? null;
  let sluiceCommit = null;
  try {
    sluiceCommit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim() || null;
    const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
    if (sluiceCommit && dirty) sluiceCommit += ' (src modified)';
  } catch {
    // not a git checkout
  }
  return {
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: os.availableParallelism?.() ?? cpus.length,
    memory_gb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    sqlite3: sqliteVersion,
    sqlite_in_sluice: bundledSqlite(),
    sluice_commit: sluiceCommit,
    dist_built: existsSync(CLI) ? statSync(CLI).mtime.toISOString() : null,
    rss_method: rssMethod(),
    loadavg_start: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** The SQLite that sluice links (better-sqlite3 bundles its own), beside the shell's. */
function bundledSqlite() {
  try {
    const db = new Database(':memory:');
    const version = db.prepare('SELECT sqlite_version()').pluck().get();
    db.close();
    return version;
  } catch {
    return null;
  }
}

// ---------- formatting ----------
const fmtS = (ms) => (Number.isFinite(ms) ? (ms / 1000).toFixed(ms < 10_000 ? 3 : 2) : '-');
const fmtMB = (kb) => (Number.isFinite(kb) ? (kb / 1024).toFixed(1) : '-');
const fmtRate = (rows, ms) => {
  if (!Number.isFinite(ms) || ms <= 0) return '-';
  const r = rows / (ms / 1000);
  return r >= 1e6 ? `${(r / 1e6).toFixed(2)}M` : r >= 1e3 ? `${(r / 1e3).toFixed(1)}k` : r.toFixed(0);
};
const fmtX = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : '-');
const fmtRows = (n) => n.toLocaleString('en-US');
const sizeLabel = (n) => (n % 1e6 === 0 ? `${n / 1e6}M` : n % 1e3 === 0 ? `${n / 1e3}k` : String(n));
const mb = (bytes) => `${(bytes / 1024 ** 2).toFixed(1)} MB`;

function table(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows.map((r, i) => r.map((cell, c) => (c === 0 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c]))).join('  ') + (i === 0 ? `\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : '')).join('\n');
}

function log(message = '') {
  process.stdout.write(`${message}\n`);
}

// ---------- commands ----------
function sluiceRunArgs(db, inputArgs) {
  return [CLI, 'run', '--db', db, ...inputArgs, '--table', TABLE, '--key', 'key', '--cursor', 'ts', '--strategy', 'upsert-newer',
    '--require', 'key,name,value,ts', '--type', 'value=number', '--type', 'amount=number', '--batch-size', '10000', '--quiet', '--json'];
}

function removeDb(path) {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(path + suffix, { force: true });
}

class Runner {
  constructor(scratch) {
    this.scratch = scratch;
    this.failures = [];
  }

  /** Runs one measured command; a failure is recorded and shown, and the sample is dropped. */
  async run(label, cmd, args, { stdinFile = null, expect = [0] } = {}) {
    const result = await measure(cmd, args, { stdinFile, cwd: this.scratch, scratch: this.scratch, env: process.env });
    if (!expect.includes(result.code)) {
      const detail = (result.stderr || result.stdout).trim().split('\n').slice(-8).join('\n    ');
      this.failures.push({ label, code: result.code, detail });
      log(`  ! ${label} exited ${result.code}\n    ${detail}`);
      return { ...result, failed: true };
    }
    return result;
  }

  script(name, text) {
    const path = join(this.scratch, name);
    writeFileSync(path, text);
    return path;
  }
}

function sample() {
  return { wall_ms: [], cpu_ms: [], peak_rss_kb: [] };
}
function add(s, r) {
  if (r.failed) return;
  s.wall_ms.push(Math.round(r.wallMs * 10) / 10);
  s.cpu_ms.push(Math.round(r.cpuMs));
  s.peak_rss_kb.push(r.peakRssKb);
}
function summarize(s, rows) {
  const wall = median(s.wall_ms);
  const peaks = s.peak_rss_kb.filter(Number.isFinite);
  return { ...s, runs: s.wall_ms.length, median_wall_ms: wall, median_cpu_ms: median(s.cpu_ms), median_peak_rss_kb: median(peaks), max_peak_rss_kb: peaks.length ? Math.max(...peaks) : NaN, records_per_s: Number.isFinite(wall) ? Math.round(rows / (wall / 1000)) : null };
}

// ---------- one size ----------
async function benchSize(rows, opts, runner, budget) {
  const t0 = Date.now();
  log(`\n== ${fmtRows(rows)} rows ==`);
  const data = await ensureDataset(opts.dataDir, rows, opts.seed);
  const bytes = { csv: statSync(data.csv).size, ndjson: statSync(data.ndjson).size, json: statSync(data.json).size };
  log(`  data: ${data.reused ? 'reused' : `generated in ${fmtS(Date.now() - t0)} s`} (csv ${mb(bytes.csv)}, ndjson ${mb(bytes.ndjson)}, json ${mb(bytes.json)}) under ${opts.dataDir}`);

  const dir = join(runner.scratch, `n${rows}`);
  mkdirSync(dir, { recursive: true });
  const importSql = runner.script(`import-${rows}.sql`, rawImportScript(data.csv));
  const pipelineSql = runner.script(`pipeline-${rows}.sql`, pipelineScript(data.csv));

  const r = {
    rows,
    bytes,
    anchors: { raw_import: sample(), sql_pipeline: sample(), sqlite3_csv_export: sample() },
    sluice: Object.fromEntries(opts.formats.map((f) => [f, { run: sample(), summary: null }])),
    sluice_export: sample(),
    checks: {},
    repeats_planned: opts.repeat,
  };

  let repeats = opts.repeat;
  for (let round = 1; round <= repeats; round++) {
    const roundStart = Date.now();
    const keepRound = opts.keep; // round 1's databases are checked before they go
    const db = (name) => join(dir, `r${round}-${name}.db`);

    // anchors first, then sluice per format: the order is the same every round
    const rawDb = db('sqlite3-import');
    removeDb(rawDb);
    add(r.anchors.raw_import, await runner.run('sqlite3 .import', SQLITE3, [rawDb], { stdinFile: importSql }));
    removeDb(rawDb);

    const anchorDb = db('sqlite3-pipeline');
    removeDb(anchorDb);
    add(r.anchors.sql_pipeline, await runner.run('sqlite3 SQL pipeline', SQLITE3, [anchorDb], { stdinFile: pipelineSql }));

    for (const format of opts.formats) {
      const sdb = db(`sluice-${format}`);
      removeDb(sdb);
      const res = await runner.run(`sluice run ${format}`, process.execPath, sluiceRunArgs(sdb, ['--input', data[format]]));
      add(r.sluice[format].run, res);
      if (!res.failed && round === 1) {
        try {
          r.sluice[format].summary = JSON.parse(res.stdout);
        } catch {
          r.sluice[format].summary = { unparsed_stdout: res.stdout.slice(0, 2000) };
        }
      }
    }

    // export: both sides read the same table (the one sluice loaded from CSV, or the first format)
    const exportDb = db(`sluice-${opts.formats.includes('csv') ? 'csv' : opts.formats[0]}`);
    const sluiceOut = join(dir, `r${round}-sluice-export.csv`);
    const sqliteOut = join(dir, `r${round}-sqlite3-export.csv`);
    rmSync(sluiceOut, { force: true });
    rmSync(sqliteOut, { force: true });
    if (existsSync(exportDb)) {
      add(r.sluice_export, await runner.run('sluice export', process.execPath, [CLI, 'export', '--db', exportDb, '--table', TABLE, '--output', sluiceOut]));
      const exportSql = runner.script(`export-${rows}-${round}.sql`, exportScript(sqliteOut));
      add(r.anchors.sqlite3_csv_export, await runner.run('sqlite3 -csv export', SQLITE3, ['-csv', exportDb], { stdinFile: exportSql }));
    }

    if (round === 1) {
      r.checks = await checkRound(r, opts, dir, anchorDb, db, sluiceOut, sqliteOut);
      // how many rounds fit the budget: this size's remaining rounds, leaving one round of each
      // later size (estimated by rows)
      if (budget.deadline !== null) {
        const roundMs = Date.now() - roundStart;
        const laterMs = budget.laterRows(rows) * (roundMs / rows);
        const left = budget.deadline - Date.now() - laterMs - budget.reserveMs;
        const fit = 1 + Math.max(0, Math.floor(left / roundMs));
        if (fit < repeats) {
          repeats = fit;
          log(`  (budget: ${repeats} run${repeats === 1 ? '' : 's'} of each command at this size instead of ${opts.repeat}; one round took ${fmtS(roundMs)} s)`);
        }
      }
    }
    if (!keepRound) {
      for (const name of ['sqlite3-pipeline', ...opts.formats.map((f) => `sluice-${f}`)]) removeDb(db(name));
      rmSync(sluiceOut, { force: true });
      rmSync(sqliteOut, { force: true });
    }
  }
  r.repeats = repeats;

  r.anchors = Object.fromEntries(Object.entries(r.anchors).map(([k, s]) => [k, summarize(s, rows)]));
  for (const f of opts.formats) r.sluice[f].run = summarize(r.sluice[f].run, rows);
  r.sluice_export = summarize(r.sluice_export, r.checks.target_rows ?? rows);
  r.anchors.sqlite3_csv_export = summarize(r.anchors.sqlite3_csv_export, r.checks.target_rows ?? rows);
  r.elapsed_s = Math.round((Date.now() - t0) / 100) / 10;
  printSize(r, opts);
  return r;
}

async function checkRound(r, opts, dir, anchorDb, db, sluiceOut, sqliteOut) {
  const checks = { formats: {} };
  if (!existsSync(anchorDb)) return checks;
  for (const format of opts.formats) {
    const sdb = db(`sluice-${format}`);
    if (!existsSync(sdb) || r.sluice[format].summary === null) {
      checks.formats[format] = { ok: false, error: 'sluice run failed' };
      continue;
    }
    const target = compareTargets(sdb, anchorDb, TABLE);
    const counters = compareCounters(r.sluice[format].summary, sdb, anchorDb, TABLE);
    checks.formats[format] = { ok: target.ok && counters.ok, target, counters: { ok: counters.ok, mismatches: counters.mismatches } };
    checks.target_rows = target.anchorRows;
    checks.anchor_counters = counters.anchorCounters;
  }
  if (existsSync(sluiceOut) && existsSync(sqliteOut)) {
    const [s, a] = await Promise.all([csvRecords(sluiceOut), csvRecords(sqliteOut)]);
    checks.export = { ok: s === a && s === checks.target_rows, sluice_records: s, sqlite3_records: a, sluice_bytes: statSync(sluiceOut).size, sqlite3_bytes: statSync(sqliteOut).size };
  }
  return checks;
}

function printSize(r, opts) {
  const rows = r.rows;
  const sql = r.anchors.sql_pipeline.median_wall_ms;
  const raw = r.anchors.raw_import.median_wall_ms;
  const csv = r.sluice.csv?.run.median_wall_ms;
  const head = ['', 'wall s', 'cpu s', 'records/s', 'peak RSS MB', 'vs SQL script', 'vs raw import', 'vs sluice csv'];
  const lines = [head];
  const line = (label, s, n, ...ratios) => [label, fmtS(s.median_wall_ms), fmtS(s.median_cpu_ms), fmtRate(n, s.median_wall_ms), fmtMB(s.max_peak_rss_kb), ...ratios];
  lines.push(line('sqlite3 .import (floor)', r.anchors.raw_import, rows, fmtX(raw / sql), '1.00x', ''));
  lines.push(line('sqlite3 SQL script', r.anchors.sql_pipeline, rows, '1.00x', fmtX(sql / raw), ''));
  for (const f of opts.formats) {
    const s = r.sluice[f].run;
    lines.push(line(`sluice run ${f}`, s, rows, fmtX(s.median_wall_ms / sql), fmtX(s.median_wall_ms / raw), f === 'csv' || csv === undefined ? '' : fmtX(s.median_wall_ms / csv)));
  }
  const ex = r.sluice_export.median_wall_ms;
  const sx = r.anchors.sqlite3_csv_export.median_wall_ms;
  const target = r.checks.target_rows ?? rows;
  lines.push(line('sqlite3 -csv export', r.anchors.sqlite3_csv_export, target, '', '', ''));
  lines.push(line('sluice export csv', r.sluice_export, target, `${fmtX(ex / sx)} of -csv`, '', ''));
  log(`\n${fmtRows(rows)} rows, median of ${r.repeats} run${r.repeats === 1 ? '' : 's'} (cpu: user + system; peak RSS: max over runs; export: ${fmtRows(target)} target rows)`);
  log(table(lines));
  log('');
  for (const f of opts.formats) {
    const c = r.checks.formats?.[f];
    if (!c) continue;
    if (c.ok) {
      log(`  check ${f}: OK: target equals the SQL script's (${fmtRows(c.target.sluiceRows)} rows), counters and dead letters agree`);
      continue;
    }
    if (c.error) {
      log(`  check ${f}: NOT OK: ${c.error}`);
      continue;
    }
    const t = c.target;
    log(`  check ${f}: NOT OK: sluice ${fmtRows(t.sluiceRows)} rows, SQL script ${fmtRows(t.anchorRows)}; only in sluice ${t.missingInAnchor}, only in the script ${t.missingInSluice}, different ${t.differing}`);
    for (const e of t.examples) log(`    ${e.kind} ${JSON.stringify(e.key)}: sluice ${JSON.stringify(e.sluice)} / script ${JSON.stringify(e.anchor)}`);
    for (const m of c.counters.mismatches) log(`    ${m.what}: sluice ${m.sluice}, script ${m.anchor}`);
  }
  if (r.checks.export) {
    const e = r.checks.export;
    log(`  check export: ${e.ok ? 'OK' : 'NOT OK'}: sluice ${fmtRows(e.sluice_records)} records (${mb(e.sluice_bytes)}), sqlite3 -csv ${fmtRows(e.sqlite3_records)} (${mb(e.sqlite3_bytes)})`);
  }
}

// ---------- many small files, nothing new ----------
async function benchSmallFiles(opts, runner) {
  log(`\n== re-run with nothing new: ${fmtRows(opts.smallFiles)} files ==`);
  const files = await ensureSmallFiles(opts.dataDir, opts.smallFiles, 10, opts.seed);
  const db = join(runner.scratch, 'small-files.db');
  removeDb(db);
  const args = sluiceRunArgs(db, ['--source-dir', files.dir, '--pattern', '*.csv']);
  const first = await runner.run('sluice run (first, 1,000 files)', process.execPath, args, { expect: [0] });
  const firstSummary = safeJson(first.stdout);
  const again = sample();
  let summary = null;
  for (let i = 0; i < opts.repeat; i++) {
    const res = await runner.run('sluice run (unchanged re-run)', process.execPath, args);
    add(again, res);
    if (!res.failed) summary = safeJson(res.stdout);
  }
  const s = summarize(again, files.files);
  const checkOk = summary !== null && summary.files_unchanged === files.files && summary.loaded === 0 && summary.input_records === 0;
  log(table([
    ['', 'wall s', 'cpu s', 'peak RSS MB', 'files loaded', 'files unchanged', 'records read'],
    ['first run', fmtS(first.wallMs), fmtS(first.cpuMs), fmtMB(first.peakRssKb), firstSummary?.files_loaded ?? '-', firstSummary?.files_unchanged ?? '-', firstSummary?.input_records ?? '-'],
    [`re-run (median of ${s.runs})`, fmtS(s.median_wall_ms), fmtS(s.median_cpu_ms), fmtMB(s.max_peak_rss_kb), summary?.files_loaded ?? '-', summary?.files_unchanged ?? '-', summary?.input_records ?? '-'],
  ]));
  log(`  check: ${checkOk ? 'OK: every file unchanged, nothing read' : 'NOT OK: the re-run did not skip every file'}`);
  if (!opts.keep) removeDb(db);
  return { files: files.files, rows_each: 10, first_run_ms: Math.round(first.wallMs), first_summary: pick(firstSummary), rerun: s, rerun_summary: pick(summary), check_ok: checkOk };
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function pick(summary) {
  if (summary === null) return null;
  const { files: _files, ...rest } = summary;
  return rest;
}

// ---------- targets ----------

/**
 * The ratio round by round, beside the ratio of the medians that decides the target: both
 * commands of a round ran minutes apart, so the host's speed, which drifts by 20% and more
 * between rounds, weighs on them alike.
 */
function perRound(measured, anchor) {
  if (!measured || !anchor || measured.length < 2 || measured.length !== anchor.length) return '';
  return ` (rounds ${measured.map((m, i) => fmtX(m / anchor[i])).join(', ')})`;
}
function targets(results, small, opts) {
  const out = [];
  const bySize = new Map(results.map((r) => [r.rows, r]));
  const ref = bySize.get(1_000_000) ?? results[results.length - 1];
  const at = ref ? `at ${sizeLabel(ref.rows)} rows` : '';
  const note = ref && ref.rows !== 1_000_000 ? ' (1M not measured)' : '';
  const met = (ok) => (ok === null ? 'not measured' : ok ? 'met' : 'NOT met');
  if (ref) {
    const csv = ref.sluice.csv?.run.median_wall_ms;
    const sql = ref.anchors.sql_pipeline.median_wall_ms;
    const ratio = csv / sql;
    const csvRounds = perRound(ref.sluice.csv?.run.wall_ms, ref.anchors.sql_pipeline.wall_ms);
    out.push({ target: 'run CSV <= 1.0x sqlite3 SQL script', where: at + note, measured: fmtX(ratio) + csvRounds, ok: Number.isFinite(ratio) ? ratio <= 1.0 : null });
    const nd = ref.sluice.ndjson?.run.median_wall_ms;
    const ndRatio = nd / csv;
    const ndRounds = perRound(ref.sluice.ndjson?.run.wall_ms, ref.sluice.csv?.run.wall_ms);
    out.push({ target: 'run NDJSON <= 1.3x run CSV', where: at + note, measured: fmtX(ndRatio) + ndRounds, ok: Number.isFinite(ndRatio) ? ndRatio <= 1.3 : null });
    const ex = ref.sluice_export.median_wall_ms / ref.anchors.sqlite3_csv_export.median_wall_ms;
    out.push({ target: 'export <= 1.5x sqlite3 -csv', where: at + note, measured: fmtX(ex), ok: Number.isFinite(ex) ? ex <= 1.5 : null });
  }
  // memory: every size and format measured
  const peaks = [];
  for (const r of results) for (const f of opts.formats) peaks.push({ rows: r.rows, format: f, kb: r.sluice[f].run.max_peak_rss_kb });
  const worst = peaks.reduce((a, b) => (b.kb > (a?.kb ?? -1) ? b : a), null);
  out.push({
    target: 'peak RSS <= 200 MB, every size and format',
    where: results.map((r) => sizeLabel(r.rows)).join(', '),
    measured: worst ? `max ${fmtMB(worst.kb)} MB (${sizeLabel(worst.rows)} ${worst.format})` : '-',
    ok: worst && Number.isFinite(worst.kb) ? peaks.every((p) => p.kb <= 200 * 1024) : null,
  });
  const r1 = bySize.get(1_000_000);
  const r10 = bySize.get(10_000_000);
  if (r1 && r10) {
    // "the same": within 10% (and 16 MB) of the 1M figure, format by format
    const growth = opts.formats.map((f) => ({ f, a: r1.sluice[f].run.max_peak_rss_kb, b: r10.sluice[f].run.max_peak_rss_kb }));
    const ok = growth.every(({ a, b }) => b <= a * 1.1 + 16 * 1024);
    out.push({ target: 'peak RSS at 10M = at 1M (within 10% + 16 MB)', where: '1M vs 10M', measured: growth.map(({ f, a, b }) => `${f} ${fmtMB(a)}->${fmtMB(b)}`).join(', '), ok });
  } else {
    out.push({ target: 'peak RSS at 10M = at 1M (within 10% + 16 MB)', where: 'needs --sizes 1m,10m', measured: '-', ok: null });
  }
  if (small) {
    const ms = small.rerun.median_wall_ms;
    out.push({ target: `unchanged re-run of ${fmtRows(small.files)} files < 1 s`, where: `${fmtRows(small.files)} files`, measured: `${fmtS(ms)} s`, ok: Number.isFinite(ms) && small.check_ok ? ms < 1000 : null });
  }
  return out.map((t) => ({ ...t, status: met(t.ok) }));
}

// ---------- main ----------
async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!existsSync(CLI)) fail(`${CLI} not found: run \`npm run build\` first`);
  if (spawnSync(SQLITE3, ['--version']).status !== 0) fail('the sqlite3 command-line shell is needed (Debian/Ubuntu: apt-get install -y sqlite3)');
  const started = new Date();
  const machine = machineInfo();
  const scratch = join(os.tmpdir(), 'sluice-bench', `work-${process.pid}`);
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  const runner = new Runner(scratch);

  log(`sluice bench: sizes ${opts.sizes.map(sizeLabel).join(', ')}; formats ${opts.formats.join(', ')}; repeat ${opts.repeat}; seed ${opts.seed} (generator v${GENERATOR_VERSION})`);
  log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory_gb} GB; ${machine.os}; node ${machine.node}; sqlite3 shell ${machine.sqlite3}, sluice's SQLite ${machine.sqlite_in_sluice}; load average ${machine.loadavg_start.join(' ')}`);
  log(`sluice: ${machine.sluice_commit ?? 'unknown commit'}, dist built ${machine.dist_built}; peak RSS via ${machine.rss_method}`);
  log(`run: node dist/cli/main.js ${sluiceRunArgs('<fresh db>', ['--input', '<file>']).slice(2).join(' ')}`);

  const deadline = opts.budget > 0 ? started.getTime() + opts.budget * 60_000 : null;
  const sizes = [...opts.sizes].sort((a, b) => a - b);
  const budget = {
    deadline,
    reserveMs: opts.smallFiles > 0 ? 15_000 : 0,
    laterRows: (rows) => sizes.filter((n) => n > rows).reduce((a, b) => a + b, 0),
  };
  const results = [];
  for (const rows of sizes) results.push(await benchSize(rows, opts, runner, budget));
  const small = opts.smallFiles > 0 ? await benchSmallFiles(opts, runner) : null;

  const goals = targets(results, small, opts);
  log('\n== targets ==');
  log(table([['target', 'measured', 'where', 'status'], ...goals.map((t) => [t.target, t.measured, t.where, t.status])]));
  const checksOk = results.every((r) => Object.values(r.checks.formats ?? {}).every((c) => c.ok) && (r.checks.export?.ok ?? true)) && (small?.check_ok ?? true);
  log(`\nequality checks: ${checksOk ? 'all OK' : 'SOME NOT OK (see above)'}${runner.failures.length ? `; ${runner.failures.length} command(s) failed` : ''}`);
  machine.loadavg_end = os.loadavg().map((x) => Math.round(x * 100) / 100);
  log(`load average at the end ${machine.loadavg_end.join(' ')} (other work on this machine shares its ${machine.cores} cores)`);

  const report = {
    started_at: started.toISOString(),
    elapsed_s: Math.round((Date.now() - started.getTime()) / 100) / 10,
    machine,
    options: { ...opts, dataDir: undefined },
    command: sluiceRunArgs('<db>', ['--input', '<file>']).slice(1),
    sizes: results,
    small_files: small,
    targets: goals,
    checks_ok: checksOk,
    failures: runner.failures,
  };
  if (opts.write) {
    const dir = join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const name = `${started.toISOString().replaceAll(':', '-').replace(/\.\d+Z$/, 'Z')}.json`;
    const text = JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
    writeFileSync(join(dir, name), text);
    writeFileSync(join(dir, 'latest.json'), text);
    log(`results: bench/results/${name} (and bench/results/latest.json); total ${report.elapsed_s} s`);
  }
  if (opts.keep) log(`kept: ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
  process.exitCode = runner.failures.length > 0 || !checksOk ? 1 : 0;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
