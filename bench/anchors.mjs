// The anchors: what the `sqlite3` command-line shell does with the same data, in pure SQL.
//
// 1. rawImportScript: `.import` of the CSV alone into a fresh database (the floor).
// 2. pipelineScript: the same job as the measured `sluice run`, in one transaction:
//    stage the CSV, reject invalid rows into a dead-letter table, upsert-newer into the target,
//    one lineage row per record per step, the watermark, a run row with its counters.
// 3. exportScript: `sqlite3 -csv` of the target's columns (for the export ratio).
//
// The pipeline applies sluice's rules (src/stages/normalize, validate, watermark, merge), so the
// two targets can be compared row for row:
// - text is trimmed (sluice normalizes string values; SQL trim() strips spaces, the only
//   whitespace the generator pads with);
// - required key,name,value,ts: empty after trimming is missing (`missing_required`), checked in
//   that order, then the declared types: value, and amount when not empty, must match sluice's
//   number syntax ^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$ (`invalid_type`); an empty amount is NULL;
//   then the cursor must be a date-time SQLite can read (`invalid_cursor`). First failing rule wins.
// - numbers are stored as REAL (sluice's declared-number columns have REAL affinity);
// - the cursor is compared as an instant: julianday(ts), as sluice compares canonical UTC text
//   (sluice's ISO-8601 parser is stricter about impossible dates such as 02-30, which SQLite rolls
//   over; the generator writes only valid UTC timestamps, to the second);
// - upsert-newer, in file order: a record loads when its ts is newer than the key's current one
//   (from the target or from earlier records of this run); an equal ts is a duplicate (the first
//   seen stays), an older one is stale. The target ends with, per key, the greatest ts, ties to
//   the first seen. Records older than a stored watermark are skipped (none on a fresh database).
// - the watermark becomes the largest cursor loaded, as written in the input.
// Not done by the anchor (sluice does it): the file ledger's SHA-256 of the input, checkpoints.

/** Quote a value as an SQL string literal. */
export function sqlString(text) {
  return `'${String(text).replaceAll("'", "''")}'`;
}

/** Quote an argument of a shell dot-command. */
function dotArg(text) {
  if (/["\\\n]/.test(text)) throw new Error(`path not supported by the sqlite3 shell's dot-commands: ${text}`);
  return `"${text}"`;
}

export function rawImportScript(csvPath) {
  return `.bail on\n.import --csv ${dotArg(csvPath)} events\n`;
}

const NUMBER_RE = "'^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$'"; // [-+]: the shell's regexp reads [+-] as an unclosed range

export function pipelineScript(csvPath, { pipeline = 'default', table = 'events' } = {}) {
  const file = sqlString(csvPath);
  const pipe = sqlString(pipeline);
  const t = `"${table.replaceAll('"', '""')}"`;
  return `.bail on
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY AUTOINCREMENT, pipeline TEXT NOT NULL, status TEXT NOT NULL,
  started_at TEXT NOT NULL, finished_at TEXT, watermark_before TEXT, watermark_after TEXT,
  input_records INTEGER NOT NULL DEFAULT 0, staged INTEGER NOT NULL DEFAULT 0, loaded INTEGER NOT NULL DEFAULT 0,
  rejected INTEGER NOT NULL DEFAULT 0, skipped_watermark INTEGER NOT NULL DEFAULT 0, skipped_stale INTEGER NOT NULL DEFAULT 0,
  skipped_duplicate INTEGER NOT NULL DEFAULT 0, dead_letters INTEGER NOT NULL DEFAULT 0, lineage_entries INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS paths (id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS files (pipeline TEXT NOT NULL, path TEXT NOT NULL, size INTEGER, run_id INTEGER NOT NULL,
  loaded_at TEXT NOT NULL, PRIMARY KEY (pipeline, path));
CREATE TABLE IF NOT EXISTS watermarks (pipeline TEXT PRIMARY KEY, cursor TEXT NOT NULL, type TEXT NOT NULL, value TEXT NOT NULL,
  sortable REAL NOT NULL, updated_at TEXT NOT NULL, run_id INTEGER);
CREATE TABLE IF NOT EXISTS lineage (run_id INTEGER NOT NULL, file_id INTEGER NOT NULL, line INTEGER NOT NULL, key TEXT, step TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dead_letters (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER NOT NULL, pipeline TEXT NOT NULL,
  file_id INTEGER NOT NULL, file TEXT NOT NULL, line INTEGER NOT NULL, raw TEXT NOT NULL, reason TEXT NOT NULL, field TEXT,
  message TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ${t} (key, name, value REAL, ts, region, amount REAL, note,
  _run_id INTEGER, _source TEXT, _seq INTEGER, _cursor REAL);
CREATE UNIQUE INDEX IF NOT EXISTS events_key ON ${t} (key);

BEGIN;
INSERT INTO runs (pipeline, status, started_at, watermark_before)
  VALUES (${pipe}, 'running', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), (SELECT value FROM watermarks WHERE pipeline = ${pipe}));
INSERT OR IGNORE INTO paths (path) VALUES (${file});
CREATE TEMP TABLE ctx AS SELECT
  (SELECT max(id) FROM runs) AS run_id,
  (SELECT id FROM paths WHERE path = ${file}) AS file_id,
  (SELECT sortable FROM watermarks WHERE pipeline = ${pipe}) AS wm,
  strftime('%Y-%m-%dT%H:%M:%fZ', 'now') AS now;

-- stage: the CSV as text, one row per record, rowid in file order (line = rowid + 1: the header is line 1)
CREATE TEMP TABLE staging (key TEXT, name TEXT, value TEXT, ts TEXT, region TEXT, amount TEXT, note TEXT);
.import --csv --skip 1 ${dotArg(csvPath)} staging

-- normalize and validate: trimmed text, the cursor as an instant (julianday: NULL when not a
-- date-time), and the first rule a record breaks, in sluice's order
CREATE TEMP TABLE checked (line INTEGER PRIMARY KEY, key, name, value, ts, region, amount, note, cursor, problem);
INSERT INTO checked
SELECT t.*,
  CASE
    WHEN key = '' THEN 'missing_required key'
    WHEN name = '' THEN 'missing_required name'
    WHEN value = '' THEN 'missing_required value'
    WHEN ts = '' THEN 'missing_required ts'
    WHEN NOT (value REGEXP ${NUMBER_RE}) THEN 'invalid_type value'
    WHEN amount <> '' AND NOT (amount REGEXP ${NUMBER_RE}) THEN 'invalid_type amount'
    WHEN cursor IS NULL THEN 'invalid_cursor ts'
  END
FROM (SELECT rowid + 1 AS line, trim(key) AS key, trim(name) AS name, trim(value) AS value, trim(ts) AS ts,
        trim(region) AS region, trim(amount) AS amount, trim(note) AS note, julianday(trim(ts)) AS cursor
      FROM staging) AS t;

-- judge upsert-newer in file order: the key's current cursor is the largest of the target's and
-- this run's earlier valid records' (a key's cursor only grows); newer loads, equal is a
-- duplicate, older is stale; older than the stored watermark is skipped. The running maximum is
-- computed over (key, line, cursor) only and joined back by line: cheaper than sorting whole rows.
CREATE TEMP TABLE judged AS
SELECT c.line, c.key, c.name, c.value, c.ts, c.region, c.amount, c.note, c.cursor, c.problem,
  CASE
    WHEN c.problem IS NOT NULL THEN 'reject'
    WHEN (SELECT wm FROM ctx) IS NOT NULL AND c.cursor < (SELECT wm FROM ctx) THEN 'skip-watermark'
    WHEN coalesce(max(b.before, e._cursor), b.before, e._cursor) IS NULL THEN 'load'
    WHEN c.cursor > coalesce(max(b.before, e._cursor), b.before, e._cursor) THEN 'load'
    WHEN c.cursor = coalesce(max(b.before, e._cursor), b.before, e._cursor) THEN 'skip-duplicate'
    ELSE 'skip-stale'
  END AS step
FROM (SELECT line, max(CASE WHEN problem IS NULL THEN cursor END)
                     OVER (PARTITION BY key ORDER BY line ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before
      FROM checked) AS b
JOIN checked AS c ON c.line = b.line
LEFT JOIN ${t} AS e ON c.problem IS NULL AND e.key = c.key;

-- dead letters: reason, field, message and the record as JSON
INSERT INTO dead_letters (run_id, pipeline, file_id, file, line, raw, reason, field, message, created_at)
SELECT (SELECT run_id FROM ctx), ${pipe}, (SELECT file_id FROM ctx), ${file}, line,
  json_object('key', key, 'name', name, 'value', value, 'ts', ts, 'region', region, 'amount', amount, 'note', note),
  substr(problem, 1, instr(problem, ' ') - 1), substr(problem, instr(problem, ' ') + 1),
  CASE substr(problem, 1, instr(problem, ' ') - 1)
    WHEN 'missing_required' THEN 'required field ' || substr(problem, instr(problem, ' ') + 1) || ' is missing or empty'
    WHEN 'invalid_type' THEN 'field ' || substr(problem, instr(problem, ' ') + 1) || ': expected a number, found "' ||
      iif(problem = 'invalid_type value', value, amount) || '"'
    ELSE 'cursor field ts: expected an ISO-8601 timestamp, found "' || ts || '"'
  END,
  (SELECT now FROM ctx)
FROM judged WHERE step = 'reject';

-- lineage: stage + outcome per valid record, reject per invalid one
INSERT INTO lineage (run_id, file_id, line, key, step)
SELECT (SELECT run_id FROM ctx), (SELECT file_id FROM ctx), line, key, 'stage' FROM judged WHERE step NOT IN ('reject', 'skip-watermark')
UNION ALL
SELECT (SELECT run_id FROM ctx), (SELECT file_id FROM ctx), line, nullif(key, ''), step FROM judged;

-- upsert-newer into the target: every record judged 'load', guarded so an older row never
-- overwrites a newer one (a key's loads have strictly growing cursors, so the order of the
-- inserts does not matter: the newest, first seen among equals, stays)
INSERT INTO ${t} (key, name, value, ts, region, amount, note, _run_id, _source, _seq, _cursor)
SELECT key, name, CAST(value AS REAL), ts, region, CAST(nullif(amount, '') AS REAL), note,
  (SELECT run_id FROM ctx), ${file} || ':' || line, line - 1, cursor
FROM judged WHERE step = 'load'
ON CONFLICT (key) DO UPDATE SET name = excluded.name, value = excluded.value, ts = excluded.ts, region = excluded.region,
  amount = excluded.amount, note = excluded.note, _run_id = excluded._run_id, _source = excluded._source,
  _seq = excluded._seq, _cursor = excluded._cursor
WHERE excluded._cursor > ${t}._cursor;

-- watermark: the largest cursor loaded, as written in the input
INSERT INTO watermarks (pipeline, cursor, type, value, sortable, updated_at, run_id)
SELECT ${pipe}, 'ts', 'timestamp', ts, cursor, (SELECT now FROM ctx), (SELECT run_id FROM ctx)
FROM judged WHERE step = 'load' AND ((SELECT wm FROM ctx) IS NULL OR cursor > (SELECT wm FROM ctx))
ORDER BY cursor DESC LIMIT 1
ON CONFLICT (pipeline) DO UPDATE SET value = excluded.value, sortable = excluded.sortable, updated_at = excluded.updated_at,
  run_id = excluded.run_id;

INSERT OR REPLACE INTO files (pipeline, path, size, run_id, loaded_at)
  VALUES (${pipe}, ${file}, NULL, (SELECT run_id FROM ctx), (SELECT now FROM ctx));
UPDATE runs SET status = 'succeeded', finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
  watermark_after = (SELECT value FROM watermarks WHERE pipeline = ${pipe}),
  (input_records, staged, loaded, rejected, skipped_watermark, skipped_stale, skipped_duplicate) =
    (SELECT count(*), count(*) FILTER (WHERE step NOT IN ('reject', 'skip-watermark')), count(*) FILTER (WHERE step = 'load'),
       count(*) FILTER (WHERE step = 'reject'), count(*) FILTER (WHERE step = 'skip-watermark'),
       count(*) FILTER (WHERE step = 'skip-stale'), count(*) FILTER (WHERE step = 'skip-duplicate')
     FROM judged),
  dead_letters = (SELECT count(*) FROM dead_letters WHERE run_id = (SELECT run_id FROM ctx)),
  lineage_entries = (SELECT count(*) FROM lineage WHERE run_id = (SELECT run_id FROM ctx))
WHERE id = (SELECT run_id FROM ctx);
COMMIT;
`;
}

export function exportScript(outPath, table = 'events') {
  return `.bail on\n.headers on\n.once ${dotArg(outPath)}\nSELECT key, name, value, ts, region, amount, note FROM "${table.replaceAll('"', '""')}";\n`;
}
