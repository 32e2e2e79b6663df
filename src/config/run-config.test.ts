import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildRunSettings } from './run-config.js';

describe('buildRunSettings', () => {
  it('fills in the defaults', () => {
    const s = buildRunSettings({ input: ['a.csv'] });
    expect(s).toMatchObject({ db: './sluice.db', pipeline: 'default', table: 'records', strategy: 'append', batchSize: 1000, onFileError: 'skip', normalize: true, format: 'auto' });
    expect(Object.isFrozen(s)).toBe(true);
  });

  it('refuses a batch size that is not a positive whole number', () => {
    for (const bad of ['0', '-5', 'abc', '1.5', '']) {
      expect(() => buildRunSettings({ input: ['a.csv'], batchSize: bad }), bad).toThrow(/--batch-size must be a positive whole number/);
    }
    expect(() => buildRunSettings({ input: ['a.csv'], workers: '0' })).toThrow(expect.objectContaining({ hint: 'for example --workers 2' }));
  });

  it('an empty --db is refused; an empty SLUICE_DB counts as unset', () => {
    expect(() => buildRunSettings({ input: ['a'], db: '' })).toThrow('--db must not be empty');
    const saved = process.env.SLUICE_DB;
    process.env.SLUICE_DB = '';
    try {
      expect(buildRunSettings({ input: ['a'] }).db).toBe('./sluice.db');
    } finally {
      if (saved === undefined) delete process.env.SLUICE_DB;
      else process.env.SLUICE_DB = saved;
    }
  });

  it('says which strategies need a key or cursor', () => {
    expect(() => buildRunSettings({ input: ['a'], strategy: 'update' })).toThrow(/needs --key/);
    expect(() => buildRunSettings({ input: ['a'], strategy: 'upsert-newer', key: 'id' })).toThrow(/needs --cursor/);
    expect(() => buildRunSettings({ input: ['a'], strategy: 'merge' })).toThrow(/--strategy must be one of/);
  });

  it('parses --type and --require lists', () => {
    const s = buildRunSettings({ input: ['a'], type: ['value=number', 'n=integer,ok=boolean'], require: ['a,b', 'c'] });
    expect({ ...s.types }).toEqual({ value: 'number', n: 'integer', ok: 'boolean' });
    expect(s.require).toEqual(['a', 'b', 'c']);
    expect(() => buildRunSettings({ input: ['a'], type: ['value'] })).toThrow(/FIELD=TYPE/);
    expect(() => buildRunSettings({ input: ['a'], type: ['value=float'] })).toThrow(/must be one of/);
  });

  it('reads a YAML config relative to its folder; flags override it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sluice-config-'));
    const file = path.join(dir, 'sluice.yaml');
    writeFileSync(file, 'db: my.db\ninput: [data.csv]\nbatch-size: 50\nstrategy: update\nkey: id\ntype: { value: number }\n');
    const s = buildRunSettings({ config: file, batchSize: '7' });
    expect(s).toMatchObject({ db: path.join(dir, 'my.db'), inputs: [path.join(dir, 'data.csv')], batchSize: 7, strategy: 'update', key: 'id' });
    expect({ ...s.types }).toEqual({ value: 'number' });
    writeFileSync(file, 'bach-size: 5\n');
    expect(() => buildRunSettings({ config: file })).toThrow(/unknown setting "bach-size"/);
  });

  it('a config value of the wrong shape names its setting, and never counts as something else', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sluice-config-'));
    const file = path.join(dir, 'sluice.yaml');
    const settings = (yaml: string): unknown => {
      writeFileSync(file, `input: [a.csv]\n${yaml}\n`);
      return buildRunSettings({ config: file });
    };
    // YAML 1.2 reads `no` as text: it used to switch normalizing on.
    expect(() => settings('normalize: no')).toThrow(`config file ${file}: normalize must be true or false; found "no"`);
    expect(settings('normalize: false')).toMatchObject({ normalize: false });
    expect(() => settings('key: [a, b]')).toThrow(`config file ${file}: key must be a single value; found ["a","b"]`);
    expect(() => settings('require: [{a: 1}]')).toThrow(/require must be a value or a list of values/);
    expect(() => settings('type: { v: number }\ntypes: { w: number }')).toThrow(/"type" and "types" are the same setting/);
    expect(() => settings('no-normalize: true')).toThrow(/unknown setting "no-normalize"/);
    // A number is a name where a name is asked for; it stays a number where one is.
    expect(settings('pipeline: 2025\ntable: 5\nkey: 7\nbatch-size: 50')).toMatchObject({ pipeline: '2025', table: '5', key: '7', batchSize: 50 });
    expect(() => settings('key: _sluice_source\nstrategy: update')).toThrow('--key _sluice_source: fields named _sluice_* are not stored');
    expect(() => settings('type: { v: float }')).toThrow(`config file ${file}: type must be a mapping of fields to string, number, integer, boolean, timestamp (v: float is none)`);
    writeFileSync(file, 'db: x.db\ninput: [a.csv\ntable: t\n');
    expect(() => buildRunSettings({ config: file })).toThrow(
      expect.objectContaining({
        message: `config file ${file}, line 3, column 1: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]`,
        hint: 'check line 3 and the lines before it (line 3 reads "table: t")',
      }),
    );
  });

  it('--input or --source-dir on the command line replaces what the config file reads', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sluice-config-'));
    const file = path.join(dir, 'sluice.yaml');
    writeFileSync(file, 'input: [data.csv]\ntable: t\n');
    expect(buildRunSettings({ config: file, sourceDir: 'drops' })).toMatchObject({ inputs: [], sourceDir: 'drops', table: 't' });
    writeFileSync(file, 'source-dir: drops\npattern: "*.json"\n');
    expect(buildRunSettings({ config: file, input: ['x.csv'] })).toMatchObject({ inputs: ['x.csv'], sourceDir: null, pattern: '*' });
  });
});
