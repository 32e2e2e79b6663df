import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { example, forEachBackend, run, tableRows, userSql, withBackend } from './backends.js';

forEachBackend('contract: merge strategies', (db) => {
  const etl = { pipeline: 'etl', table: 'customers', pattern: '*.csv', key: 'id' };

  for (const c of [
    { strategy: 'append', rows: 6, bob: null },
    { strategy: 'deduplicate', rows: 5, bob: 'bob@example.com' },
    { strategy: 'update', rows: 5, bob: 'bob@newmail.com' },
    { strategy: 'replace', rows: 5, bob: 'bob@newmail.com' },
  ]) {
    it(`etl-runner sources with ${c.strategy}: ${c.rows} rows`, async () => {
      const t = db();
      const sources = path.join(example(t, 'etl-runner'), 'sources');
      const summary = await run(t, { ...etl, sourceDir: sources, strategy: c.strategy });
      expect(summary).toMatchObject({ status: 'succeeded', files_total: 2, files_loaded: 2, input_records: 6, target_rows: c.rows });
      const rows = await tableRows(t, 'customers');
      expect(rows.map((r) => r.id)).toEqual(c.strategy === 'append' ? ['1', '2', '3', '2', '4', '5'] : ['1', '2', '3', '4', '5']);
      if (c.bob !== null) expect(rows.find((r) => r.id === '2')?.email).toBe(c.bob);
      expect(Object.keys(rows[0] ?? {})).toEqual(['id', 'name', 'email', 'region']);
    });
  }

  it('capstone events with key/cursor/upsert-newer/require/type: the seed numbers', async () => {
    const t = db();
    const dir = example(t, 'capstone');
    const options = {
      pipeline: 'capstone',
      table: 'events',
      input: [path.join(dir, 'events.json')],
      key: 'key',
      cursor: 'ts',
      strategy: 'upsert-newer',
      require: 'key,name,value,ts',
      type: ['value=number'],
    };
    const first = await run(t, options);
    expect(first).toMatchObject({
      status: 'succeeded',
      input_records: 7,
      staged: 5,
      loaded: 5,
      rejected: 2,
      dead_letters: 2,
      lineage_entries: 12,
      watermark: '2025-01-15T12:00:00',
      target_rows: 4,
    });
    const rows = await tableRows(t, 'events');
    expect(rows.find((r) => r.key === 'evt-003')).toEqual({ key: 'evt-003', name: 'purchase_updated', value: 59.99, ts: '2025-01-15T12:00:00' });

    const again = await run(t, options);
    expect(again).toMatchObject({ input_records: 0, loaded: 0, files_unchanged: 1, target_rows: 4, watermark: '2025-01-15T12:00:00' });

    const late = { ...options, input: [path.join(dir, 'late-evt-003.json')] };
    expect(await run(t, late)).toMatchObject({ input_records: 1, skipped_watermark: 1, loaded: 0 });
    // Another pipeline has no watermark: the upsert-newer guard keeps the newer row.
    expect(await run(t, { ...late, pipeline: 'other' })).toMatchObject({ staged: 1, skipped_stale: 1, loaded: 0 });
    expect((await tableRows(t, 'events')).find((r) => r.key === 'evt-003')?.name).toBe('purchase_updated');
  });

  it('replace swaps the new table in atomically and drops what the new data lacks', async () => {
    const t = db();
    const file = path.join(t.dir, 'people.csv');
    writeFileSync(file, 'id,name\n1,ann\n2,bob\n3,cid\n');
    await run(t, { input: [file], strategy: 'replace', key: 'id', table: 'people' });
    writeFileSync(file, 'id,name,age\n2,bob,40\n4,dan,31\n');
    const second = await run(t, { input: [file], strategy: 'replace', key: 'id', table: 'people' });
    expect(second).toMatchObject({ status: 'succeeded', loaded: 2, target_rows: 2 });
    expect(await tableRows(t, 'people')).toEqual([
      { id: '2', name: 'bob', age: '40' },
      { id: '4', name: 'dan', age: '31' },
    ]);
    // No shadow table is left behind, and the keyed table still merges by key.
    await withBackend(t, async (backend) => {
      expect(await backend.tableExists(`_sluice_shadow_${second.run_id}`)).toBe(false);
    });
    writeFileSync(file, 'id,name,age\n4,dan,32\n4,dan,33\n');
    expect(await run(t, { input: [file], strategy: 'replace', key: 'id', table: 'people' })).toMatchObject({ target_rows: 1 });
    expect(await tableRows(t, 'people')).toEqual([{ id: '4', name: 'dan', age: '33' }]);
  });

  it('a table kept unique by a key refuses append and another key before the run starts; replace may change it', async () => {
    const t = db();
    const file = path.join(t.dir, 'people.csv');
    writeFileSync(file, 'id,name\n1,ann\n');
    await run(t, { input: [file], strategy: 'update', key: 'id', table: 'people' });
    writeFileSync(file, 'id,name\n1,bob\n');
    await expect(run(t, { input: [file], strategy: 'append', table: 'people' })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: 'table people is kept unique by id (an earlier load merged it by --key id); --strategy append would add a second row for a key it holds',
    });
    await expect(run(t, { input: [file], strategy: 'upsert-newer', key: 'name', cursor: 'id', table: 'people' })).rejects.toMatchObject({
      message: 'table people is merged by key id; this run asks for --key name',
    });
    await expect(run(t, { input: [file], strategy: 'update', key: 'ID', table: 'people', normalize: false })).rejects.toMatchObject({
      message: '--key ID differs only in case from column id of table people, which SQLite does not tell apart',
    });
    expect(await tableRows(t, 'people')).toEqual([{ id: '1', name: 'ann' }]);
    await withBackend(t, async (backend) => expect(await backend.keyColumns('people')).toEqual(['id']));
    // replace builds a new table: keyed by name from then on.
    expect(await run(t, { input: [file], strategy: 'replace', key: 'name', table: 'people' })).toMatchObject({ status: 'succeeded', target_rows: 1 });
    await withBackend(t, async (backend) => expect(await backend.keyColumns('people')).toEqual(['name']));
    writeFileSync(file, 'id,name\n2,bob\n');
    expect(await run(t, { input: [file], strategy: 'update', key: 'name', table: 'people' })).toMatchObject({ target_rows: 1 });
    expect(await tableRows(t, 'people')).toEqual([{ id: '2', name: 'bob' }]);
  });

  it('a table with duplicate values in the key is refused before the first keyed run starts, naming one', async () => {
    const t = db();
    const file = path.join(t.dir, 'dup.csv');
    writeFileSync(file, 'id,v\n1,a\n1,b\n');
    await run(t, { input: [file], table: 'people' });
    writeFileSync(file, 'id,v\n1,c\n');
    await expect(run(t, { input: [file], strategy: 'update', key: 'id', table: 'people' })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: 'table people holds "1" more than once in column id, so it cannot be merged by key id',
    });
    await withBackend(t, async (backend) => {
      expect((await backend.ledger.listRuns({ limit: 5 })).map((r) => r.status)).toEqual(['succeeded']);
    });
  });

  it('replace swaps nothing in while a file fails: the table keeps its rows until every file loads', async () => {
    const t = db();
    const [a, b] = [path.join(t.dir, 'a.csv'), path.join(t.dir, 'b.csv')];
    writeFileSync(a, 'id,name\n1,ann\n');
    writeFileSync(b, 'id,name\n3,cid\n');
    const options = { input: [a, b], strategy: 'replace', key: 'id', table: 'people' };
    await run(t, options);
    writeFileSync(b, 'id,name\n3,"cid\n'); // a quote never closed: the file fails
    writeFileSync(a, 'id,name\n1,ANN\n');
    const failed = await run(t, options);
    expect(failed).toMatchObject({ status: 'succeeded', files_failed: 1, target_rows: 2, table_kept: true });
    expect(failed.warnings.join('\n')).toContain('table people was not replaced');
    expect(await tableRows(t, 'people')).toEqual([
      { id: '1', name: 'ann' },
      { id: '3', name: 'cid' },
    ]);
    await withBackend(t, async (backend) => {
      expect(await backend.tableExists(`_sluice_shadow_${failed.run_id}`)).toBe(false);
      // Lineage does not say ANN was loaded: the table never got it.
      const ann = await backend.queries.lineageForKey('1', { runId: failed.run_id });
      expect(ann.map((e) => e.step)).toEqual(['stage', 'discard']);
    });
    writeFileSync(b, 'id,name\n3,CID\n');
    const fixed = await run(t, options);
    expect(fixed).toMatchObject({ files_loaded: 2, target_rows: 2 });
    expect(fixed.table_kept).toBeUndefined();
    expect(await tableRows(t, 'people')).toEqual([
      { id: '1', name: 'ANN' },
      { id: '3', name: 'CID' },
    ]);
    // A failed file then removed: the files the failed run read still reach the table.
    writeFileSync(a, 'id,name\n1,AL\n');
    writeFileSync(b, 'id,name\n3,"x\n');
    expect(await run(t, options)).toMatchObject({ files_failed: 1, target_rows: 2 });
    const onlyA = await run(t, { ...options, input: [a] });
    expect(onlyA).toMatchObject({ files_loaded: 1, files_unchanged: 0, target_rows: 1 });
    expect(await tableRows(t, 'people')).toEqual([{ id: '1', name: 'AL' }]);
  });

  it('append: a file failed after committing part of it is read on from there by the next run, not loaded twice', async () => {
    const t = db();
    const file = path.join(t.dir, 'broken.csv');
    const good = Array.from({ length: 20_000 }, (_, i) => `k${i},${i}`).join('\n');
    writeFileSync(file, Buffer.concat([Buffer.from(`id,v\n${good}\nk9,`), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]));
    const options = { input: [file], strategy: 'append', table: 'parts', pipeline: 'parts' };
    const first = await run(t, options);
    expect(first).toMatchObject({ files_failed: 1 });
    expect(first.loaded).toBeGreaterThan(0);
    const second = await run(t, options);
    expect(second).toMatchObject({ files_failed: 1, input_records: 0, loaded: 0 });
    expect(await tableRows(t, 'parts')).toHaveLength(first.loaded);
  });

  it('a key is its text on every backend: JSON 1 and "1" are one key, true is "true", and the counts say what the table got', async () => {
    const t = db();
    const file = path.join(t.dir, 'mixed.ndjson');
    const line = (id: unknown, v: string, ts: string): string => JSON.stringify({ id, v, ts }) + '\n';
    writeFileSync(file, line('1', 'b', '2025-01-02') + line(1, 'a', '2025-01-01') + line(2, 'x', '2025-01-01') + line('2', 'y', '2025-01-02') + line(true, 't', '2025-01-01') + line('true', 'u', '2025-01-03'));
    const cases = [
      { strategy: 'upsert-newer', counts: { loaded: 5, skipped_stale: 1, skipped_duplicate: 0 }, values: ['b', 'y', 'u'], one: ['stage', 'load', 'stage', 'skip-stale'] },
      { strategy: 'update', counts: { loaded: 6, skipped_stale: 0, skipped_duplicate: 0 }, values: ['a', 'y', 'u'], one: ['stage', 'load', 'stage', 'load'] },
      { strategy: 'deduplicate', counts: { loaded: 3, skipped_stale: 0, skipped_duplicate: 3 }, values: ['b', 'x', 't'], one: ['stage', 'load', 'stage', 'skip-duplicate'] },
    ];
    for (const c of cases) {
      // One slice plans the six records together; slices of one go through the key lookup.
      for (const sliceSize of [1000, 1]) {
        const table = `t_${c.strategy.replace('-', '_')}_${sliceSize}`;
        const cursor = c.strategy === 'upsert-newer' ? 'ts' : undefined;
        const summary = await run(t, { input: [file], strategy: c.strategy, key: 'id', cursor, sliceSize, table, pipeline: table });
        expect(summary, table).toMatchObject({ ...c.counts, target_rows: 3 });
        const rows = (await tableRows(t, table)).sort((p, q) => String(p.id).localeCompare(String(q.id)));
        expect(rows.map((r) => [r.id, r.v]), table).toEqual([['1', c.values[0]], ['2', c.values[1]], ['true', c.values[2]]]);
        const one = await withBackend(t, (backend) => backend.queries.lineageForKey('1', { runId: summary.run_id }));
        expect(one.map((e) => e.step), table).toEqual(c.one);
      }
    }
  });

  // A user's NUMERIC key column stores CSV's text '1' as the number 1: a later run's record of key
  // '1' must still find that row, or merge counts a record as loaded that the table's guard keeps
  // out (a duplicate under deduplicate, a record on the watermark already loaded under upsert-newer).
  it.each([
    ['deduplicate', undefined],
    ['upsert-newer', 'ts'],
  ])('a NUMERIC key column of a user\'s table, %s: a later run finds its rows under the keys as read', async (strategy, cursor) => {
    const t = db();
    await userSql(t, 'CREATE TABLE nums (id NUMERIC, v TEXT, ts TEXT)');
    const first = path.join(t.dir, 'first.csv');
    const later = path.join(t.dir, 'later.csv');
    writeFileSync(first, 'id,v,ts\n1,a,2025-01-02\n2,b,2025-01-01\n');
    writeFileSync(later, 'id,v,ts\n1,again,2025-01-02\n3,new,2025-01-02\n');
    const options = { key: 'id', cursor, strategy, table: 'nums' };
    expect(await run(t, { ...options, input: [first] })).toMatchObject({ loaded: 2 });
    const summary = await run(t, { ...options, input: [later] });
    expect(summary).toMatchObject({ loaded: 1, skipped_duplicate: 1, target_rows: 3 });
    const rows = (await tableRows(t, 'nums')).map((r) => [Number(r.id), r.v]).sort();
    expect(rows).toEqual([[1, 'a'], [2, 'b'], [3, 'new']]);
    const one = await withBackend(t, (backend) => backend.queries.lineageForKey('1', { runId: summary.run_id }));
    expect(one.map((e) => e.step)).toEqual(['stage', 'skip-duplicate']);
  });

  it('results do not depend on the batch size (1, 2, 1000) or on slices of a batch (1, 3) for the keyed strategies', async () => {
    const t = db();
    const a = path.join(t.dir, 'a.ndjson');
    const b = path.join(t.dir, 'b.ndjson');
    const line = (k: string, v: number, ts: string): string => JSON.stringify({ k, v, ts }) + '\n';
    writeFileSync(a, line('x', 1, '2025-01-02') + line('y', 2, '2025-01-01') + line('x', 3, '2025-01-01') + line('z', 4, '2025-01-05'));
    writeFileSync(b, line('y', 5, '2025-01-03') + line('x', 6, '2025-01-02') + line('z', 7, '2025-01-04') + line('y', 8, '2025-01-03'));
    for (const strategy of ['deduplicate', 'update', 'upsert-newer']) {
      const results: unknown[] = [];
      // One transaction per batch, written in slices: a slice's merge sees the earlier slices' rows.
      for (const [batchSize, sliceSize] of [[1, 1], [2, 2], [1000, 1000], [1000, 1], [1000, 3]] as const) {
        const table = `t_${strategy.replace('-', '_')}_${batchSize}_${sliceSize}`;
        const summary = await run(t, { input: [a, b], strategy, key: 'k', cursor: strategy === 'upsert-newer' ? 'ts' : undefined, type: ['v=integer'], batchSize, sliceSize, table, pipeline: table });
        const { loaded, skipped_stale, skipped_duplicate, target_rows } = summary;
        // Compared by key: which rows and values, not the order they were first inserted in.
        const rows = (await tableRows(t, table)).sort((p, q) => String(p.k).localeCompare(String(q.k)));
        results.push({ rows, loaded, skipped_stale, skipped_duplicate, target_rows });
      }
      const expected = { deduplicate: [1, 2, 4], update: [6, 8, 7], 'upsert-newer': [1, 5, 4] }[strategy];
      expect((results[0] as { rows: { v: number }[] }).rows.map((r) => r.v), strategy).toEqual(expected);
      for (const other of results.slice(1)) expect(other, strategy).toEqual(results[0]);
    }
  });
});
