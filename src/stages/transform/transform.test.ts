import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { toFields } from '../../core/record.js';
import { applyTransform, loadTransform } from './transform.js';

const context = { file: 'a.txt', line: 3, index: 2 };

describe('transforms', () => {
  it('text-stats describes a line', async () => {
    const fn = await loadTransform('text-stats');
    const result = applyTransform(fn, toFields({ line: 'Hello  big world' }), context);
    expect(result).toEqual({ ok: true, records: [{ index: 2, original: 'Hello  big world', length: 16, word_count: 3, uppercase: 'HELLO  BIG WORLD' }] });
  });

  it('a user module maps to one record, several, or none; a throw concerns one record', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sluice-transform-'));
    const file = path.join(dir, 't.mjs');
    writeFileSync(file, `export default (r) => { if (r.n === 'boom') throw new Error('bad n'); if (r.n === 'skip') return null; if (r.n === 'two') return [{ n: 1 }, { n: 2 }]; return { ...r, seen: true }; };`);
    const fn = await loadTransform(file);
    expect(applyTransform(fn, toFields({ n: 'x' }), context)).toEqual({ ok: true, records: [{ n: 'x', seen: true }] });
    expect(applyTransform(fn, toFields({ n: 'two' }), context)).toMatchObject({ ok: true, records: [{ n: 1 }, { n: 2 }] });
    expect(applyTransform(fn, toFields({ n: 'skip' }), context)).toEqual({ ok: true, records: [] });
    expect(applyTransform(fn, toFields({ n: 'boom' }), context)).toEqual({ ok: false, message: 'transform threw: bad n' });
  });

  it('a module that cannot be loaded is a configuration error naming it', async () => {
    await expect(loadTransform('/nope/missing.mjs')).rejects.toMatchObject({ code: 'CONFIG_FILE', message: expect.stringContaining('/nope/missing.mjs') });
  });
});
