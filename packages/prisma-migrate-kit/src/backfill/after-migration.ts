import type { ClientBase } from 'pg'
import { BlockedError } from '../errors'
import { migrationState, readMigrationRecords, recordsByName, type MigrationRecord } from '../prisma/migrations'
import type { LoadedBackfill } from './loader'

/**
 * A backfill names the expand migration it needs (`after`). Running it before that migration is applied would fail
 * on a missing column at best: refuse with exit 3 (blocked) and the command that unblocks it.
 */
export async function assertAfterMigrationApplied(client: ClientBase, loaded: LoadedBackfill): Promise<void> {
  const after = loaded.after
  if (!after) return
  if (appliedMigrationNamed(await readMigrationRecords(client), after)) return
  throw new BlockedError(`backfill "${loaded.name}" runs after migration ${after}, which is not applied to this database`, {
    hint: `Apply it first: migrate-kit deploy --until ${after}`,
  })
}

/**
 * The backfill's `before` migration when it is already applied: the contract it prepared has run (often dropping the
 * very column the backfill reads), so there is nothing left for it to do, and checking its definition against the
 * database would only fail on that column.
 */
export async function appliedBeforeMigration(client: ClientBase, loaded: LoadedBackfill): Promise<string | undefined> {
  return loaded.before ? appliedMigrationNamed(await readMigrationRecords(client), loaded.before) : undefined
}

/** The applied migration a reference names (its folder name, or the name after the timestamp). */
function appliedMigrationNamed(records: MigrationRecord[], reference: string): string | undefined {
  const byName = recordsByName(records)
  const names = [...byName.keys()].filter((name) => name === reference || name.replace(/^\d+_/, '') === reference)
  return names.find((name) => migrationState(byName.get(name) ?? []) === 'applied')
}
