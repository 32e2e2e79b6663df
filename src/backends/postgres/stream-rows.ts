import type { RowBatch } from '../../core/row-batch.js';
import { isMetaColumn, quoteIdent } from '../sql.js';
import type { PgSession } from './session.js';
import { ROWID, type TableInfo } from './table-info.js';

/** Rows per FETCH: few round trips, bounded memory whatever the table's size. */
const FETCH_SIZE = 2_000;

let cursors = 0;


/**
 * A table's rows in insertion order (`_sluice_rowid`) through a server-side cursor, so memory
 * stays constant. Outside a transaction the cursor lives in its own read-only REPEATABLE READ
 * transaction: one consistent snapshot from the first row to the last, even while a loader
 * commits batches. Inside one (a dry run), it reads the transaction's own state.
 */
export async function* streamTable(session: PgSession, table: string, info: TableInfo, withMeta: boolean, inTransaction: boolean): AsyncGenerator<RowBatch> {
  const columns = info.columns.filter((c) => withMeta || !isMetaColumn(c.name));
  if (columns.length === 0) return;
  const names = columns.map((c) => c.name);
  const name = `sluice_rows_${(cursors += 1)}`;
  const order = info.hasRowid ? ` ORDER BY ${ROWID}` : '';
  const select = `SELECT ${columns.map((c) => quoteIdent(c.physical)).join(', ')} FROM ${quoteIdent(table)}${order}`;
  if (!inTransaction) await session.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  let done = false;
  try {
    await session.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${select}`, undefined, `reading ${table}`);
    for (;;) {
      const rows = await session.queryRows(`FETCH ${FETCH_SIZE} FROM ${name}`);
      if (rows.length > 0) yield { columns: names, rows };
      if (rows.length < FETCH_SIZE) break;
    }
    await session.query(`CLOSE ${name}`);
    done = true;
  } finally {
    // A consumer that stops early (or an error) still ends the read transaction.
    if (!inTransaction && !session.isLost) await session.query(done ? 'COMMIT' : 'ROLLBACK').catch(() => {});
    else if (!done && !session.isLost) await session.query(`CLOSE ${name}`).catch(() => {});
  }
}
