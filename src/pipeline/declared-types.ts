import type { Backend, ColumnType } from '../backends/backend.js';
import { quoteIdent } from '../backends/sql.js';
import { SluiceError } from '../core/errors.js';
import type { FieldType } from '../core/settings.js';

/** The declared types whose values a typed column can hold; absent: any (text, untyped). */
const FITS: Partial<Record<ColumnType, readonly FieldType[]>> = {
  integer: ['integer'],
  real: ['number', 'integer'],
  boolean: ['boolean'],
};

/**
 * On a backend whose columns hold only their type, a `--type` that would send a column values it
 * cannot hold (`--type amount=string` for a BIGINT column) fails every batch with such a value,
 * and the run with it. Refused before the run starts (exit 2), with the statement that changes
 * the column; a column left typed keeps typing its field, so a value that does not fit is a dead
 * letter.
 */
export async function checkDeclaredTypes(backend: Backend, table: string, declared: Readonly<Record<string, FieldType>>): Promise<void> {
  if (!backend.typedColumns || Object.keys(declared).length === 0) return;
  for (const column of await backend.tableColumns(table)) {
    const fits = FITS[column.type];
    const type = declared[column.name];
    if (fits === undefined || type === undefined || fits.includes(type)) continue;
    throw new SluiceError('CONFIG_INVALID', `--type ${column.name}=${type}: column ${column.name} of table ${table} holds ${column.type} values only, in ${backend.location}`, {
      hint: `keep --type ${column.name}=${fits[0] ?? ''} (values that do not fit become dead letters), or change the column first: ALTER TABLE ${quoteIdent(table)} ALTER COLUMN ${quoteIdent(column.name)} TYPE text`,
    });
  }
}
