import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { durabilitySettings, openSqlite } from './connection.js';

describe('durability settings', () => {
  it('hold on every open, not only on the first one that switched the file to WAL', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'sluice-durable-')), 'd.db');
    const first = openSqlite(file);
    const second = openSqlite(file);
    const third = openSqlite(file);
    for (const db of [first, second, third]) expect(durabilitySettings(db)).toEqual({ journalMode: 'wal', synchronous: 2 });
    // A plain connection shows why: synchronous is per connection and falls back to its default.
    const plain = new Database(file);
    expect(durabilitySettings(plain).synchronous).not.toBe(2);
    for (const db of [first, second, third, plain]) db.close();
  });

  it('in memory there is no WAL, and that is accepted', () => {
    const db = openSqlite(':memory:');
    expect(durabilitySettings(db)).toEqual({ journalMode: 'memory', synchronous: 2 });
    db.close();
  });
});

describe('opening something that is not a database', () => {
  it('says so in one line (exit 2), without touching the file', async () => {
    const { writeFileSync, readFileSync } = await import('node:fs');
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'sluice-notdb-')), 'notes.db');
    writeFileSync(file, 'this is a text file, not a database, and it is long enough to have a header\n'.repeat(20));
    const before = readFileSync(file);
    expect(() => openSqlite(file)).toThrow(/notes\.db is not a SQLite database/);
    expect(readFileSync(file)).toEqual(before);
  });
});

describe('the lineage view of a ledger an older version made', () => {
  it('is made anew with today\'s steps on the next open', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'sluice-view-')), 'old.db');
    openSqlite(file).close();
    const old = new Database(file);
    // The view as versions before `discard` made it.
    old.exec(`DROP VIEW _sluice_lineage_steps;
      CREATE VIEW "_sluice_lineage_steps" AS SELECT run_id, file_id, line, key, step FROM _sluice_lineage WHERE step <> 'stage'
        UNION ALL SELECT run_id, file_id, line, key, 'stage' FROM _sluice_lineage WHERE step IN ('load', 'skip-stale', 'skip-duplicate');
      INSERT INTO _sluice_lineage (run_id, file_id, line, key, step) VALUES (1, 1, 2, 'k', 'discard');`);
    old.close();
    const db = openSqlite(file);
    const steps = db.prepare('SELECT step FROM _sluice_lineage_steps ORDER BY step').all() as { step: string }[];
    expect(steps.map((row) => row.step)).toEqual(['discard', 'stage']);
    db.close();
  });
});
