// The equality check: sluice's target table against the anchor's, row for row by key, and the
// run's counters against the anchor's, so the timings compare the same work.
import { createReadStream } from 'node:fs';
import Database from 'better-sqlite3';

const TEXT = ['name', 'ts', 'region', 'note'];
const NUMBERS = ['value', 'amount'];
const SHOWN = 5;

/** Numbers compare as REAL within a relative 1e-12 (two decimal parsers may differ in the last bit). */
const numberDiffers = (a, b) => `(CASE WHEN ${a} IS NULL OR ${b} IS NULL THEN (${a} IS NULL) <> (${b} IS NULL)
  ELSE abs(CAST(${a} AS REAL) - CAST(${b} AS REAL)) > 1e-12 * max(1.0, abs(CAST(${b} AS REAL))) END)`;

/**
 * Compares table `table` of sluiceDb with the anchor's (same name in anchorDb).
 * Returns { ok, sluiceRows, anchorRows, missingInAnchor, missingInSluice, differing, examples[] }.
 */
export function compareTargets(sluiceDb, anchorDb, table = 'events') {
  const db = new Database(sluiceDb, { fileMustExist: true });
  try {
    db.prepare('ATTACH DATABASE ? AS a').run(anchorDb);
    const t = `"${table.replaceAll('"', '""')}"`;
    const count = (schema) => db.prepare(`SELECT count(*) AS n FROM ${schema}.${t}`).get().n;
    const differs = [...TEXT.map((c) => `s.${c} IS NOT x.${c}`), ...NUMBERS.map((c) => numberDiffers(`s.${c}`, `x.${c}`))].join(' OR ');
    const cols = ['key', ...TEXT, ...NUMBERS];
    const pick = (alias) => cols.map((c) => `${alias}.${c} AS ${alias}_${c}`).join(', ');
    const missingInAnchor = db.prepare(`SELECT count(*) AS n FROM main.${t} s WHERE NOT EXISTS (SELECT 1 FROM a.${t} x WHERE x.key = s.key)`).get().n;
    const missingInSluice = db.prepare(`SELECT count(*) AS n FROM a.${t} x WHERE NOT EXISTS (SELECT 1 FROM main.${t} s WHERE s.key = x.key)`).get().n;
    const differing = db.prepare(`SELECT count(*) AS n FROM main.${t} s JOIN a.${t} x ON x.key = s.key WHERE ${differs}`).get().n;
    const examples = [];
    if (missingInAnchor > 0) {
      for (const row of db.prepare(`SELECT ${pick('s')} FROM main.${t} s WHERE NOT EXISTS (SELECT 1 FROM a.${t} x WHERE x.key = s.key) ORDER BY s.key LIMIT ${SHOWN}`).all()) {
        examples.push({ kind: 'only in sluice', key: row.s_key, sluice: strip(row, 's_'), anchor: null });
      }
    }
    if (missingInSluice > 0) {
      for (const row of db.prepare(`SELECT ${pick('x')} FROM a.${t} x WHERE NOT EXISTS (SELECT 1 FROM main.${t} s WHERE s.key = x.key) ORDER BY x.key LIMIT ${SHOWN}`).all()) {
        examples.push({ kind: 'only in anchor', key: row.x_key, sluice: null, anchor: strip(row, 'x_') });
      }
    }
    if (differing > 0) {
      for (const row of db.prepare(`SELECT ${pick('s')}, ${pick('x')}, x._source AS x_source FROM main.${t} s JOIN a.${t} x ON x.key = s.key WHERE ${differs} ORDER BY s.key LIMIT ${SHOWN}`).all()) {
        examples.push({ kind: 'different', key: row.s_key, sluice: strip(row, 's_'), anchor: { ...strip(row, 'x_'), source: row.x_source } });
      }
    }
    const sluiceRows = count('main');
    const anchorRows = count('a');
    const ok = missingInAnchor === 0 && missingInSluice === 0 && differing === 0 && sluiceRows === anchorRows;
    return { ok, sluiceRows, anchorRows, missingInAnchor, missingInSluice, differing, examples };
  } finally {
    db.close();
  }
}

function strip(row, prefix) {
  return Object.fromEntries(Object.entries(row).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}

const COUNTERS = ['input_records', 'staged', 'loaded', 'rejected', 'skipped_watermark', 'skipped_stale', 'skipped_duplicate', 'dead_letters', 'lineage_entries'];

/**
 * The anchor's run row and dead letters by reason against sluice's summary and dead letters.
 * Returns { ok, mismatches: [{ what, sluice, anchor }] }.
 */
export function compareCounters(summary, sluiceDb, anchorDb, table = 'events') {
  const mismatches = [];
  const anchor = new Database(anchorDb, { fileMustExist: true });
  const sluice = new Database(sluiceDb, { fileMustExist: true });
  try {
    const run = anchor.prepare('SELECT * FROM runs ORDER BY id DESC LIMIT 1').get();
    for (const c of COUNTERS) if (summary[c] !== run[c]) mismatches.push({ what: c, sluice: summary[c], anchor: run[c] });
    if (summary.watermark !== run.watermark_after) mismatches.push({ what: 'watermark', sluice: summary.watermark, anchor: run.watermark_after });
    const t = `"${table.replaceAll('"', '""')}"`;
    const targetRows = anchor.prepare(`SELECT count(*) AS n FROM ${t}`).get().n;
    if (summary.target_rows !== targetRows) mismatches.push({ what: 'target_rows', sluice: summary.target_rows, anchor: targetRows });
    const reasons = (db, tableName) =>
      Object.fromEntries(db.prepare(`SELECT reason || ':' || coalesce(field, '') AS r, count(*) AS n FROM ${tableName} GROUP BY 1 ORDER BY 1`).all().map((r) => [r.r, r.n]));
    const a = reasons(anchor, 'dead_letters');
    const s = reasons(sluice, '_sluice_dead_letters');
    for (const r of new Set([...Object.keys(a), ...Object.keys(s)])) {
      if (a[r] !== s[r]) mismatches.push({ what: `dead letters ${r}`, sluice: s[r] ?? 0, anchor: a[r] ?? 0 });
    }
    const steps = (db, tableName) => Object.fromEntries(db.prepare(`SELECT step, count(*) AS n FROM ${tableName} GROUP BY 1`).all().map((r) => [r.step, r.n]));
    // sluice stores one lineage row per record; the view adds the stage step it implies.
    const ls = steps(sluice, '_sluice_lineage_steps');
    const la = steps(anchor, 'lineage');
    for (const step of new Set([...Object.keys(la), ...Object.keys(ls)])) {
      if (la[step] !== ls[step]) mismatches.push({ what: `lineage ${step}`, sluice: ls[step] ?? 0, anchor: la[step] ?? 0 });
    }
    return { ok: mismatches.length === 0, mismatches, anchorCounters: run };
  } finally {
    anchor.close();
    sluice.close();
  }
}

/** Records in a CSV export, by counting line ends (the generator writes no newlines in fields). */
export async function csvRecords(path) {
  let lines = 0;
  for await (const chunk of createReadStream(path)) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines += 1;
  }
  return Math.max(0, lines - 1);
}
