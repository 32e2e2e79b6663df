import type { Backend } from '../backends/backend.js';
import { SluiceError } from '../core/errors.js';
import type { RunSettings } from '../core/settings.js';

/**
 * A table an earlier keyed load made unique by a column can only be merged by that column: an
 * append would add a second row for a key already there, and another key would meet the old
 * unique index. Both are refused before the run starts (exit 2), not by the database in the
 * middle of a batch. `replace` builds a new table, so any key goes.
 */
export async function checkTableKey(backend: Backend, settings: RunSettings, key: string | null): Promise<void> {
  if (settings.strategy === 'replace') return;
  if (key !== null) {
    const columns = (await backend.tableColumns(settings.table)).map((c) => c.name);
    const twin = columns.find((c) => c !== key && c.toLowerCase() === key.toLowerCase());
    if (twin !== undefined && !columns.includes(key)) {
      throw new SluiceError('CONFIG_INVALID', `--key ${key} differs only in case from column ${twin} of table ${settings.table}, which SQLite does not tell apart`, {
        hint: `use --key ${twin}`,
      });
    }
  }
  const kept = await backend.keyColumns(settings.table);
  if (kept.length === 0) return;
  const table = settings.table;
  if (settings.strategy === 'append') {
    throw new SluiceError('CONFIG_INVALID', `table ${table} is kept unique by ${kept.join(', ')} (an earlier load merged it by --key ${kept[0] ?? ''}); --strategy append would add a second row for a key it holds`, {
      hint: `merge by that key: --strategy update --key ${kept[0] ?? ''} (or deduplicate, upsert-newer), or load into another table with --table`,
    });
  }
  if (key !== null && !kept.includes(key)) {
    throw new SluiceError('CONFIG_INVALID', `table ${table} is merged by key ${kept.join(', ')}; this run asks for --key ${key}`, {
      hint: `use --key ${kept[0] ?? ''}, or load into another table with --table`,
    });
  }
}
