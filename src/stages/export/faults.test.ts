/**
 * Every failure leaves the original untouched, no temp file behind, and one plain line naming
 * the path. Real faults (a read-only bind mount, a full tmpfs) run where this process may mount
 * (root in CI's container); the same faults are also injected through the fs seam everywhere.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSluiceError } from '../../core/errors.js';
import { emptyFields, type Fields } from '../../core/record.js';
import { batchRows, rowFields } from '../../core/row-batch.js';
import {
  batched,
  canMount,
  errnoError,
  instrumentedFs,
  mount,
  sampleRecords,
  scratchDir,
  snapshot,
  sourceOf,
  tempFilesIn,
  umount,
} from '../../../test/fixtures/export/helpers.js';
import { exportRecords } from './export.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = scratchDir()));
afterEach(() => cleanup());

const sample = sourceOf(sampleRecords());

function manyRecords(count: number): () => AsyncGenerator<Fields> {
  return async function* () {
    for (let i = 0; i < count; i += 1) {
      const fields = emptyFields();
      fields.id = i;
      fields.text = 'x'.repeat(100);
      yield fields;
    }
  };
}

/** Runs a failing export and checks the promises of guarantee 4; returns the error message. */
async function expectCleanFailure(run: Promise<unknown>, watched: string): Promise<string> {
  const before = snapshot(watched);
  const error: unknown = await run.then(
    () => new Error('the export succeeded'),
    (e: unknown) => e,
  );
  expect(isSluiceError(error)).toBe(true);
  const message = (error as Error).message;
  expect(message).not.toContain('\n');
  expect(snapshot(watched)).toEqual(before);
  expect(tempFilesIn(watched)).toEqual([]);
  return message;
}

describe('injected faults', () => {
  it('read-only file system at temp creation', async () => {
    const output = join(dir, 'out.csv');
    writeFileSync(output, 'old');
    const fs = instrumentedFs({
      onOpen: (path) => {
        if (path.includes('.sluice-')) throw errnoError('EROFS', 'open');
      },
    });
    const message = await expectCleanFailure(exportRecords(sample, { output, format: 'csv', fs }), dir);
    expect(message).toBe(`cannot write ${output}: read-only file system`);
  });

  it('permission denied', async () => {
    const output = join(dir, 'out.csv');
    const fs = instrumentedFs({
      onOpen: () => {
        throw errnoError('EACCES', 'open');
      },
    });
    const message = await expectCleanFailure(exportRecords(sample, { output, format: 'csv', fs }), dir);
    expect(message).toBe(`cannot write ${output}: permission denied`);
  });

  it('disk full in the middle of the write', async () => {
    const output = join(dir, 'out.ndjson');
    writeFileSync(output, 'old complete file\n');
    const fs = instrumentedFs({
      onWrite: (bytesSoFar) => {
        if (bytesSoFar > 200_000) throw errnoError('ENOSPC', 'write');
      },
    });
    const message = await expectCleanFailure(exportRecords(batched(manyRecords(10_000)), { output, format: 'ndjson', fs }), dir);
    expect(message).toBe(`cannot write ${output}: no space left on device`);
  });

  it('rename failing at the last step', async () => {
    const output = join(dir, 'out.json');
    writeFileSync(output, 'old');
    const fs = instrumentedFs({
      onRename: () => {
        throw errnoError('EIO', 'rename');
      },
    });
    const message = await expectCleanFailure(exportRecords(sample, { output, format: 'json', fs }), dir);
    expect(message).toMatch(new RegExp(`^cannot write ${output}: EIO`));
  });
});

describe('real faults', () => {
  it('missing directory', async () => {
    const output = join(dir, 'no-such-dir', 'out.csv');
    const message = await expectCleanFailure(exportRecords(sample, { output, format: 'csv' }), dir);
    expect(message).toBe(`cannot write ${output}: directory ${join(dir, 'no-such-dir')} does not exist`);
  });

  it('target is a directory', async () => {
    const output = join(dir, 'out.csv');
    mkdirSync(output);
    writeFileSync(join(output, 'inside'), 'kept');
    const message = await expectCleanFailure(exportRecords(sample, { output, format: 'csv' }), dir);
    expect(message).toBe(`cannot write ${output}: it is a directory`);
  });

  it('a record that cannot be encoded fails the export, naming the record', async () => {
    const output = join(dir, 'out.json');
    writeFileSync(output, 'old');
    const source = async function* (): AsyncGenerator<Fields> {
      for await (const batch of sample()) for (const values of await batchRows(batch)) yield rowFields(batch.columns, values);
      const bad = emptyFields();
      bad.nested = { n: 1n };
      yield bad;
    };
    const message = await expectCleanFailure(exportRecords(batched(source), { output, format: 'json' }), dir);
    expect(message).toMatch(new RegExp(`^cannot write ${output}: record 5 cannot be written as JSON: .*BigInt`));
  });

  it('a source that fails mid-way (a database error) leaves the original', async () => {
    const output = join(dir, 'out.ndjson');
    writeFileSync(output, 'old');
    const source = async function* (): AsyncGenerator<Fields> {
      yield* manyRecords(5000)();
      throw new Error('database disk image is malformed');
    };
    const message = await expectCleanFailure(exportRecords(batched(source), { output, format: 'ndjson' }), dir);
    expect(message).toBe(`cannot write ${output}: database disk image is malformed`);
  });
});

describe.runIf(canMount())('real faults on mounted file systems', () => {
  /** Mounts, runs, and always unmounts before the scratch directory is removed. */
  async function withMount(args: string[], at: string, work: () => Promise<void>): Promise<void> {
    mount([...args, at]);
    try {
      await work();
    } finally {
      umount(at);
    }
  }

  it('read-only directory (a read-only bind mount: chmod does not stop root)', async () => {
    const source = join(dir, 'src');
    const readOnly = join(dir, 'ro');
    mkdirSync(source);
    mkdirSync(readOnly);
    writeFileSync(join(source, 'out.csv'), 'old');
    await withMount(['--bind', source], readOnly, async () => {
      mount(['-o', 'remount,bind,ro', readOnly]);
      const output = join(readOnly, 'out.csv');
      // The backup is made once the new file is written: here the new file fails first.
      const backup = await expectCleanFailure(exportRecords(sample, { output, format: 'csv', backup: true }), readOnly);
      expect(backup).toBe(`cannot write ${output}: read-only file system`);
      const plain = await expectCleanFailure(exportRecords(sample, { output, format: 'csv' }), readOnly);
      expect(plain).toBe(`cannot write ${output}: read-only file system`);
      expect(readFileSync(output, 'utf8')).toBe('old');
    });
  });

  it('full disk (a 64 KiB tmpfs)', async () => {
    const small = join(dir, 'small');
    mkdirSync(small);
    await withMount(['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs'], small, async () => {
      const output = join(small, 'out.ndjson');
      writeFileSync(output, 'old complete file\n');
      const message = await expectCleanFailure(exportRecords(batched(manyRecords(2000)), { output, format: 'ndjson' }), small);
      expect(message).toBe(`cannot write ${output}: no space left on device`);
    });
  });
});
