import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildRunSettings, isSluiceError, openBackend, runPipeline, type RunOptions } from '../../src/index.js';
import type { TargetRow, TargetSpec } from '../../src/backends/backend.js';
import { ROOT, sluice, tempDir } from '../support/cli.js';
import { HAVE_PG, PG_SKIPPED, PG_URL, freshPgSchema, schemaUrl, type PgScratch } from '../support/pg.js';

/** What only PostgreSQL has: connections, SQLSTATEs, 63-byte identifiers, advisory locks. */
describe.skipIf(!HAVE_PG)(HAVE_PG ? 'PostgreSQL backend' : `PostgreSQL backend [${PG_SKIPPED}]`, () => {
  let pg: PgScratch;
  let dir: string;
  beforeEach(async () => {
    pg = await freshPgSchema('pg');
    dir = tempDir('sluice-pg-');
  });
  afterEach(async () => {
    await pg.drop();
  });

  const run = (options: RunOptions): ReturnType<typeof runPipeline> => runPipeline(buildRunSettings({ db: pg.url, ...options }));
  const failure = (promise: Promise<unknown>): Promise<Error> =>
    promise.then(
      () => {
        throw new Error('expected a failure');
      },
      (error: unknown) => error as Error,
    );
  const withUrl = (change: (url: URL) => void): string => {
    const url = new URL(PG_URL);
    change(url);
    return url.toString();
  };

  it('connection problems are one-line messages that name the server without its password', async () => {
    const refused = await failure(openBackend(withUrl((u) => (u.port = '1'))));
    expect(isSluiceError(refused) && refused.code).toBe('BACKEND_CONNECTION');
    expect(refused.message).toMatch(/^cannot connect to PostgreSQL at postgres:\/\/sluice:\*\*\*@127\.0\.0\.1:1\/.*: connection refused/);
    const password = await failure(openBackend(withUrl((u) => (u.password = 'wrong-secret'))));
    expect(password.message).toMatch(/refused the login of user sluice: password authentication failed \(SQLSTATE 28P01\)$/);
    const database = await failure(openBackend(withUrl((u) => (u.pathname = '/no_such_db'))));
    expect(database.message).toContain('database no_such_db does not exist (SQLSTATE 3D000)');
    for (const error of [refused, password, database]) {
      expect(error.message).not.toContain('wrong-secret');
      expect(error.message).not.toContain(new URL(PG_URL).password || '\u0000');
      expect(error.message).not.toContain('\n');
    }
    const cli = sluice(['export', '--db', withUrl((u) => (u.password = 'wrong-secret')), '--table', 't', '--output', path.join(dir, 'x.json')]);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain('password authentication failed (SQLSTATE 28P01)');
    expect(cli.stderr).not.toContain('wrong-secret');
    expect(cli.stderr).not.toMatch(/\n\s+at /);
  });

  it('a value that does not fit a typed column of the table is a dead letter, not a failed batch', async () => {
    const file = path.join(dir, 'n.csv');
    writeFileSync(file, 'id,n\n1,5\n');
    await run({ input: [file], type: ['n=integer'] });
    writeFileSync(file, 'id,n\n2,abc\n3,7\n');
    expect(await run({ input: [file] })).toMatchObject({ loaded: 1, rejected: 1 });
    expect(await pg.query('SELECT n FROM records ORDER BY _sluice_rowid')).toEqual([{ n: '5' }, { n: '7' }]);
  });

  it('a --type the typed column cannot hold is refused before the run starts, with the statement that changes the column', async () => {
    const file = path.join(dir, 'n.csv');
    writeFileSync(file, 'id,n\n1,5\n');
    await run({ input: [file], key: 'id', strategy: 'update', type: ['n=integer'] });
    writeFileSync(file, 'id,n\n2,x\n');
    const refused = await failure(run({ input: [file], key: 'id', strategy: 'update', type: ['n=string'] }));
    expect(isSluiceError(refused) && refused.code).toBe('CONFIG_INVALID');
    expect(refused.message).toContain('--type n=string: column n of table records holds integer values only');
    expect(isSluiceError(refused) && refused.hint).toContain('ALTER TABLE "records" ALTER COLUMN "n" TYPE text');
    expect(await pg.query('SELECT count(*)::int AS n FROM _sluice_runs')).toEqual([{ n: 1 }]);
    // Done as the hint says, the same command loads the text.
    await pg.query('ALTER TABLE records ALTER COLUMN n TYPE text');
    expect(await run({ input: [file], key: 'id', strategy: 'update', type: ['n=string'] })).toMatchObject({ loaded: 1, rejected: 0 });
  });

  it('a table the user made types its fields by its columns, modifiers and all (numeric(10,2))', async () => {
    await pg.query('CREATE TABLE made (id integer PRIMARY KEY, amount numeric(10,2), n smallint, note varchar(20))');
    const file = path.join(dir, 'made.csv');
    writeFileSync(file, 'id,amount,n,note\n1,,3,empty amount\n2,abc,4,not a number\n3,12.5,x,not an integer\n4,7.25,5,fine\n');
    expect(await run({ input: [file], table: 'made', key: 'id', strategy: 'update' })).toMatchObject({ loaded: 2, rejected: 2 });
    expect(await pg.query('SELECT id, amount, n FROM made ORDER BY id')).toEqual([
      { id: 1, amount: null, n: 3 },
      { id: 4, amount: '7.25', n: 5 },
    ]);
  });

  // A value the column cannot hold is a refusal (the pipeline makes its record a dead letter).
  it('a server error is one line naming its SQLSTATE, and its transaction leaves nothing', async () => {
    const backend = await openBackend(pg.url);
    const spec: TargetSpec = { table: 'typed', columns: [{ name: 'id', type: 'any' }, { name: 'n', type: 'integer' }], key: 'id', cursor: null, rowHash: false };
    const row = (id: string, n: unknown): TargetRow => ({ values: [id, n], key: id, cursor: null, rowHash: null, seq: 1, file: 'test', line: 1 });
    try {
      await backend.transaction(async (tx) => {
        await tx.ensureTarget(spec);
        await tx.writeRows('typed', spec, 1, 'last-wins', [row('a', 1)]);
      });
      const error = await failure(backend.transaction(async (tx) => tx.writeRows('typed', spec, 1, 'last-wins', [row('b', 'abc')])));
      expect(isSluiceError(error) && error.code).toBe('BACKEND_REFUSED');
      expect(error.message).toMatch(/^table typed refused the row: invalid input syntax for type bigint.*SQLSTATE 22P02 invalid_text_representation/);
      expect(error.message).not.toContain('\n');
      expect(await backend.countRows('typed')).toBe(1);
    } finally {
      await backend.close();
    }
  });

  it('a key lookup probes the key index, never scans the table (a batch of 1,000 keys once got a hash join over the whole table)', async () => {
    const spec: TargetSpec = { table: 'keyed', columns: [{ name: 'id', type: 'any' }], key: 'id', cursor: 'text', rowHash: false };
    const row = (i: number): TargetRow => ({ values: [`k${i}`], key: `k${i}`, cursor: '2025-01-01', rowHash: null, seq: i, file: 'test', line: i });
    const scans = async (): Promise<{ seq: number; idx: number }> => {
      const [stats] = await pg.query<{ seq: number; idx: number }>("SELECT seq_scan::int AS seq, idx_scan::int AS idx FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'keyed'", [pg.schema]);
      return stats as { seq: number; idx: number };
    };
    const setup = await openBackend(pg.url);
    await setup.transaction(async (tx) => {
      await tx.ensureTarget(spec);
      await tx.writeRows('keyed', spec, 1, 'newer-wins', Array.from({ length: 5000 }, (_, i) => row(i)));
    });
    await setup.close(); // a closing session hands its statistics over
    const before = await scans();
    const backend = await openBackend(pg.url);
    const keys = Array.from({ length: 1000 }, (_, i) => `k${i * 4}`);
    const found = await backend.transaction(async (tx) => tx.lookupExisting('keyed', 'id', keys));
    await backend.close();
    expect(found.map((r) => r.key).sort()).toEqual([...keys].sort());
    const after = await scans();
    expect(after.seq - before.seq).toBe(0);
    expect(after.idx - before.idx).toBeGreaterThanOrEqual(1000);
  });

  it('63-byte identifiers: a long header keeps its full name; two equal in 63 bytes are refused by name', async () => {
    const long = 'a'.repeat(60) + 'ü-first-column';
    const file = path.join(dir, 'long.csv');
    writeFileSync(file, `id,"${long}"\n1,x\n`);
    expect(await run({ input: [file], key: 'id', strategy: 'update' })).toMatchObject({ loaded: 1 });
    const backend = await openBackend(pg.url);
    try {
      expect((await backend.tableColumns('records')).map((c) => c.name)).toContain(long);
    } finally {
      await backend.close();
    }
    writeFileSync(file, `id,"${long}"\n1,y\n2,z\n`);
    expect(await run({ input: [file], key: 'id', strategy: 'update' })).toMatchObject({ loaded: 2, target_rows: 2 });

    const twin = 'a'.repeat(60) + 'ü-second-column';
    writeFileSync(file, `id,"${twin}"\n3,w\n`);
    const clash = await failure(run({ input: [file], key: 'id', strategy: 'update' }));
    expect(isSluiceError(clash) && clash.code).toBe('BACKEND_SCHEMA');
    expect(clash.message).toContain(`columns ${JSON.stringify(long)} and ${JSON.stringify(twin)} of table records are equal in their first 63 bytes`);
    const fresh = path.join(dir, 'both.csv');
    writeFileSync(fresh, `id,"${long}","${twin}"\n1,x,y\n`);
    const both = await failure(run({ input: [fresh], table: 'other', pipeline: 'other' }));
    expect(isSluiceError(both) && both.code).toBe('BACKEND_SCHEMA');
    expect(await pg.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'other'")).toEqual([{ n: 0 }]);
    // A table name is refused with the settings, before anything is opened (exit 2).
    expect(() => buildRunSettings({ db: pg.url, input: [file], table: 't'.repeat(64), pipeline: 'long-table' })).toThrow('PostgreSQL keeps only the first 63');
  });

  it('the pipeline lock is per schema, and a lock whose row was deleted still names its holder', async () => {
    const other = await freshPgSchema('pg2');
    const file = path.join(dir, 'a.csv');
    writeFileSync(file, 'id\n1\n');
    const holder = await openBackend(pg.url);
    try {
      const since = new Date().toISOString();
      expect(await holder.ledger.acquireLock({ pipeline: 'default', runId: null, pid: 4242, host: 'elsewhere', since, heartbeatAt: since }, () => true)).toBeNull();
      // Same pipeline name, another schema: not blocked.
      expect(await runPipeline(buildRunSettings({ db: other.url, input: [file] }))).toMatchObject({ status: 'succeeded' });
      await pg.query('DELETE FROM _sluice_locks');
      const refused = await failure(run({ input: [file] }));
      expect(isSluiceError(refused) && refused.code).toBe('BACKEND_LOCKED');
      expect(refused.message).toMatch(/pid \d+ on 127\.0\.0\.1 \(server session\)/);
    } finally {
      await holder.close();
      await other.drop();
    }
    // The holder's session ended: the server released the lock.
    expect(await run({ input: [file] })).toMatchObject({ status: 'succeeded' });
  });

  it('--schema-name via the URL: targets and ledger live in that schema only', async () => {
    const file = path.join(dir, 'a.csv');
    writeFileSync(file, 'id\n1\n');
    await run({ input: [file], table: 'things' });
    const tables = await pg.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename", [pg.schema]);
    expect(tables.map((t) => t.tablename)).toEqual(expect.arrayContaining(['_sluice_runs', '_sluice_lineage', 'things']));
    const inPublic = await pg.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename = 'things'");
    expect(inPublic).toEqual([{ n: 0 }]);
    expect(schemaUrl(pg.schema)).toBe(pg.url);
  });

  it('no command shows the password: tables, hints, errors and the commands they suggest all say ***', () => {
    const secret = new URL(pg.url).password;
    expect(secret.length).toBeGreaterThan(0);
    cpSync(path.join(ROOT, 'examples', 'capstone'), dir, { recursive: true });
    const commands: string[][] = [
      ['run', '--config', 'sluice.yaml', '--report'],
      ['runs'],
      ['runs', '--pipeline', 'nothing-here'],
      ['status'],
      ['status', '--pipeline', 'nothing-here'],
      ['lineage', '--run', '1'],
      ['lineage', '--key', 'evt-005'],
      ['lineage', '--key', 'no-such-key'],
      ['lineage', '--pipeline', 'nothing-here'],
      ['dead-letters', 'list'],
      ['dead-letters', 'list', '--reason', 'transform_error'],
      ['dead-letters', 'show', '999'],
      ['dead-letters', 'purge', '--run', '1'],
      ['dead-letters', 'purge'],
      ['dead-letters', 'replay', '--pipeline', 'nothing-here'],
      ['watermark', 'show', '--pipeline', 'nothing-here'],
      ['watermark', 'set', '2000-01-01T00:00:00Z', '--pipeline', 'capstone'],
      ['watermark', 'reset', '--pipeline', 'capstone'],
      ['export', '--table', 'no_such_table', '--output', 'out.csv'],
    ];
    const shown = commands.map((args) => {
      const result = sluice([...args, '--db', pg.url], { cwd: dir });
      return { args: args.join(' '), code: result.code, out: result.stdout + result.stderr };
    });
    // Each command said something (a table, a hint or an error), none of it the password.
    for (const { args, out } of shown) expect(out.trim(), args).not.toBe('');
    expect(shown.filter(({ out }) => out.includes(secret)).map(({ args, out }) => `${args}: ${out}`)).toEqual([]);
    expect(shown.filter(({ out }) => out.includes(':***@')).length).toBeGreaterThan(5);
    // --report reads the lineage back with the real URL, not the one shown.
    expect(shown[0]?.out).not.toContain('cannot read the lineage back');
    expect(shown[0]?.out).toMatch(/events\.json +5 +5 +2/);
  });
});
