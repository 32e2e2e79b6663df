import { statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isPostgresUrl } from '../backends/open-backend.js';
import { SluiceError } from '../core/errors.js';

/** The files a SQLite database lives in: replacing any of them destroys it. */
const DATABASE_FILES = ['', '-wal', '-shm', '-journal'];

/**
 * Refuses an export onto the database it reads (`--output sluice.db`, or a link to it): the
 * atomic replace would swap the whole ledger and every table for a CSV, and report success.
 */
export function refuseDatabaseAsOutput(db: string, output: string): void {
  if (isPostgresUrl(db) || db === ':memory:' || db === '') return;
  const target = statOrNull(output);
  for (const suffix of DATABASE_FILES) {
    // By path too: `run --db x.csv --output x.csv` creates the database only after this check.
    const samePath = resolve(db + suffix) === resolve(output);
    const file = target === null ? null : statOrNull(db + suffix);
    if (samePath || (file !== null && target !== null && file.dev === target.dev && file.ino === target.ino)) {
      throw new SluiceError('CONFIG_INVALID', `--output ${output} is the database ${db + suffix}: exporting there would replace the database`, {
        file: output,
        hint: 'write the export to another file, for example --output events.csv',
      });
    }
  }
}

/**
 * `run --output`: the directory must exist before the load starts, or the run would commit its
 * batches and only then fail to write the export.
 */
export function requireOutputDirectory(output: string): void {
  const dir = dirname(output);
  const stats = statOrNull(dir);
  if (stats !== null && stats.isDirectory()) return;
  const found = stats === null ? 'does not exist' : 'is not a directory';
  throw new SluiceError('CONFIG_INVALID', `cannot write --output ${output}: directory ${dir} ${found}`, {
    file: output,
    hint: stats === null ? `create it first: mkdir -p ${dir}` : 'choose an --output path in a directory',
  });
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}
