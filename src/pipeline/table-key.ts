import type { Backend } from '../backends/backend.js';
import { SluiceError } from '../core/errors.js';
import { displayValue } from '../core/record.js';
import type { RunSettings } from '../core/settings.js';
import { caseTwinIn } from './columns.js';

/**
 * A table an earlier keyed load made unique by a column can only be merged by that column: an
 * append would add a second row for a key already there, and another key would meet the old
 * unique index. Both are refused before the run starts (exit 2), not by the database in the
 * middle of a batch. `replace` builds a new table, so any key goes.
 */
export async function checkTableKey(backend: Backend, settings: RunSettings, key: string | null): Promise<void> {
  if (settings.strategy === 'replace') return;
  const table = settings.table;
  if (key !== null) await refuseCaseTwin(backend, table, key);
  const kept = await backend.keyColumns(table);
  if (settings.strategy === 'append') {
    if (kept.length > 0) throw appendIntoKeyed(table, kept);
  } else if (key !== null && kept.length === 0) {
    await refuseDuplicates(backend, table, key);
  } else if (key !== null && !kept.includes(key)) {
    throw new SluiceError('CONFIG_INVALID', `table ${table} is merged by key ${kept.join(', ')}; this run asks for --key ${key}`, {
      hint: `use --key ${kept[0] ?? ''}, or load into another table with --table`,
    });
  }
}

async function refuseCaseTwin(backend: Backend, table: string, key: string): Promise<void> {
  const twin = caseTwinIn((await backend.tableColumns(table)).map((c) => c.name), key);
  if (twin === undefined || twin === key) return;
  throw new SluiceError('CONFIG_INVALID', `--key ${key} differs only in case from column ${twin} of table ${table}, which SQLite does not tell apart`, {
    hint: `use --key ${twin}`,
  });
}

function appendIntoKeyed(table: string, kept: readonly string[]): SluiceError {
  const key = kept[0] ?? '';
  return new SluiceError('CONFIG_INVALID', `table ${table} is kept unique by ${kept.join(', ')} (an earlier load merged it by --key ${key}); --strategy append would add a second row for a key it holds`, {
    hint: `merge by that key: --strategy update --key ${key} (or deduplicate, upsert-newer), or load into another table with --table`,
  });
}

/** The first keyed load of a table makes it unique by the key: one scan now says whether it can. */
async function refuseDuplicates(backend: Backend, table: string, key: string): Promise<void> {
  const duplicate = await backend.duplicateValue(table, key);
  if (duplicate === undefined) return;
  throw new SluiceError('CONFIG_INVALID', `table ${table} holds ${displayValue(duplicate)} more than once in column ${key}, so it cannot be merged by key ${key}`, {
    hint: 'load into another table with --table, or remove the duplicates first',
  });
}
