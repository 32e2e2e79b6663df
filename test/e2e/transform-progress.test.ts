import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { json, rows, sluice, tempDir } from '../support/cli.js';

describe('per-item isolation with --transform', () => {
  it('a throwing record is dead-lettered, null drops, the run goes on', () => {
    const dir = tempDir();
    const input = path.join(dir, 'items.txt');
    writeFileSync(input, 'one\nexplode\nskip me\nfour\n');
    const module = path.join(dir, 't.mjs');
    writeFileSync(module, `export default (r) => { if (r.line === 'explode') throw new Error('cannot process item'); if (r.line.startsWith('skip')) return null; return { text: r.line.toUpperCase() }; };`);
    const db = path.join(dir, 't.db');
    const r = sluice(['run', '--db', db, '--input', input, '--transform', module, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ input_records: 4, staged: 2, loaded: 2, rejected: 1, dropped: 1, dead_letters: 1 });
    expect(rows(db, 'SELECT text FROM records ORDER BY rowid')).toEqual([{ text: 'ONE' }, { text: 'FOUR' }]);
    expect(rows(db, 'SELECT line, reason, message FROM _sluice_dead_letters')).toEqual([{ line: 2, reason: 'transform_error', message: 'transform threw: cannot process item' }]);
  });
});

describe('progress', () => {
  const input = (): { db: string; file: string } => {
    const dir = tempDir();
    const file = path.join(dir, 'a.csv');
    writeFileSync(file, 'id\n' + Array.from({ length: 25 }, (_, i) => i).join('\n') + '\n');
    return { db: path.join(dir, 't.db'), file };
  };

  it('off a terminal: one line per checkpoint on stderr, never on stdout', () => {
    const { db, file } = input();
    const r = sluice(['run', '--db', db, '--input', file, '--batch-size', '10', '--json']);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('progress:'));
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/^progress: 100\.0% of bytes, 25 records, \d+ records\/s$/);
    expect(r.stdout).not.toContain('progress');
  });

  it('--quiet silences progress and the summary', () => {
    const { db, file } = input();
    const r = sluice(['run', '--db', db, '--input', file, '--batch-size', '10', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });
});
