import type { ClientBase } from 'pg'
import { BlockedError } from '../errors'
import { migrationState, readMigrationRecords, recordsByName, type MigrationRecord } from '../prisma/migrations'
import type { LoadedBackfill } from './loader'

/**
 * A backfill names the expand migration it needs (`after`). Running it before that migration is applied would fail
 * on a missing column at best: refuse with exit 3 (blocked) and the command that unblocks it.
 */
export async function assertAfterMigrationApplied(client: ClientBase, loaded: LoadedBackfill): Promise<MigrationRecord | undefined> {
  const after = loaded.after
  if (!after) return undefined
  const applied = appliedMigrationRecord(await readMigrationRecords(client), after)
  if (applied) return applied
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
  return appliedMigrationRecord(records, reference)?.name
}

/** The _prisma_migrations row that makes the migration a reference names applied: its newest live row. */
export function appliedMigrationRecord(records: MigrationRecord[], reference: string): MigrationRecord | undefined {
  const byName = recordsByName(records)
  const names = [...byName.keys()].filter((name) => name === reference || name.replace(/^\d+_/, '') === reference)
  const name = names.find((candidate) => migrationState(byName.get(candidate) ?? []) === 'applied')
  return name
    ? byName
        .get(name)!
        .filter((record) => record.rolledBackAt === null)
        .at(-1)
    : undefined
}
