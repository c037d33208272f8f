import type { ClientBase } from 'pg'
import { quoteQualified } from '../db/quote'
import { readMigrationRecords, type MigrationRecord } from '../prisma/migrations'
import { appliedMigrationRecord } from './after-migration'
import { findTable } from './catalog'
import type { BackfillRecord } from './state'

/**
 * Why the rows a backfill did are no longer in its table, or undefined while they may be. Its ledger then speaks of
 * rows that are gone or changed, so the backfill is pending again and its next run starts from the first key:
 * - its `after` migration is not applied any more (rolled back): the backfill is not applicable until it is again
 *   (its verify would read columns that are gone), or it was rolled back and applied again since the backfill ran
 *   (the column it filled is a new, empty one);
 * - its table was dropped and created again since (`prisma migrate reset`, a restored dump: a new oid), or it has no
 *   row although the backfill did some (emptied).
 * Read-only.
 */
export async function resetSince(
  client: ClientBase,
  record: BackfillRecord,
  after?: string,
  migrations: () => Promise<MigrationRecord[]> = () => readMigrationRecords(client),
): Promise<string | undefined> {
  if (record.rowsDone === 0 && record.tableOid === null && record.status !== 'done') return undefined
  if (after) {
    const applied = appliedMigrationRecord(await migrations(), after)
    if (!applied)
      return `its after migration ${after} is not applied any more (rolled back since it ran): not applicable until it is applied again`
    if (record.afterMigrationId !== null && applied.id !== record.afterMigrationId) {
      return `its after migration ${applied.name} was rolled back and applied again since it ran: the rows it changed were changed back`
    }
  }
  if (record.rowsDone === 0 && record.tableOid === null) return undefined
  const table = await findTable(client, record.tableName).catch(() => undefined)
  const shown = record.tableName
  if (!table) return `its table ${shown} no longer exists (a database reset?)`
  if (record.tableOid !== null && table.oid !== record.tableOid) {
    return `its table ${shown} was dropped and created again since it ran (a database reset?)`
  }
  if (record.status === 'done' && record.rowsDone > 0) {
    const { rows } = await client.query(`SELECT 1 FROM ${quoteQualified(table.schema, table.name)} LIMIT 1`)
    if (rows.length === 0)
      return `its table ${shown} has no row, though the backfill did ${record.rowsDone} (emptied since: a database reset?)`
  }
  return undefined
}
