import type { ClientBase } from 'pg'
import { quoteQualified } from '../db/quote'
import { findTable } from './catalog'
import type { BackfillRecord } from './state'

/**
 * Why the rows a backfill did are no longer in its table, or undefined while they may be: the table was dropped and
 * created again since (`prisma migrate reset`, a restored dump: a new oid), or it has no row although the backfill
 * did some (emptied). Its ledger then speaks of rows that are gone, so the backfill is pending again and its next run
 * starts from the first key. Read-only.
 */
export async function resetSince(client: ClientBase, record: BackfillRecord): Promise<string | undefined> {
  if (record.rowsDone === 0 && record.tableOid === null) return undefined
  const table = await findTable(client, record.tableName).catch(() => undefined)
  const shown = record.tableName
  if (!table) return `its table ${shown} no longer exists (a database reset?)`
  if (record.tableOid !== null && table.oid !== record.tableOid) {
    return `its table ${shown} was dropped and created again since it ran (a database reset?)`
  }
  if (record.status === 'done' && record.rowsDone > 0) {
    const { rows } = await client.query(`SELECT 1 FROM ${quoteQualified(table.schema, table.name)} LIMIT 1`)
    if (rows.length === 0) return `its table ${shown} has no row, though the backfill did ${record.rowsDone} (emptied since: a database reset?)`
  }
  return undefined
}
