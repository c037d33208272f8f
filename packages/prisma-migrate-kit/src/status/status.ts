import { readFileSync } from 'node:fs'
import type { ClientBase } from 'pg'
import {
  applyingMigration,
  listMigrations,
  prismaLockHolder,
  migrationState,
  readMigrationRecords,
  recordsByName,
  scriptMatchesChecksum,
  type MigrationRecord,
  type MigrationState,
} from '../prisma/migrations'
import { ExitCode } from '../errors'
import type { Project } from '../project'
import { hasRollback } from '../rollback/files'

/** Prisma's states, and `in_progress`: being applied right now (Prisma's lock is held; its row is not finished yet). */
export type MigrationStatusState = MigrationState | 'in_progress'

export interface MigrationStatus {
  name: string
  state: MigrationStatusState
  rollback: 'present' | 'missing'
  /** When the live (not rolled back) row finished, if any. */
  appliedAt: string | null
  /** False for a migration recorded in the database whose folder is gone from prisma/migrations. */
  onDisk: boolean
  /** For an applied migration on disk: whether migration.sql still matches the checksum Prisma recorded. */
  checksumMatches: boolean | null
}

/** Every migration on disk or in _prisma_migrations, in Prisma's order (by folder name). */
export async function migrationStatuses(client: ClientBase, project: Project): Promise<MigrationStatus[]> {
  const onDisk = new Map(listMigrations(project).map((migration) => [migration.name, migration.sqlFile]))
  const all = await readMigrationRecords(client)
  const records = recordsByName(all)
  const applying = all.length > 0 ? applyingMigration(all, await prismaLockHolder(client))?.name : undefined
  const names = [...new Set([...onDisk.keys(), ...records.keys()])].sort()
  return names.map((name) => statusOf(project, name, records.get(name) ?? [], onDisk.get(name), name === applying))
}

function statusOf(
  project: Project,
  name: string,
  rows: MigrationRecord[],
  sqlFile: string | undefined,
  beingApplied: boolean,
): MigrationStatus {
  const prismaState = migrationState(rows)
  const state: MigrationStatusState = prismaState === 'failed' && beingApplied ? 'in_progress' : prismaState
  const live = prismaState === 'applied' ? rows.filter((row) => row.rolledBackAt === null).at(-1) : undefined
  return {
    name,
    state,
    rollback: hasRollback(project, name) ? 'present' : 'missing',
    appliedAt: live?.finishedAt?.toISOString() ?? null,
    onDisk: sqlFile !== undefined,
    checksumMatches: live && sqlFile ? scriptMatchesChecksum(readFileSync(sqlFile, 'utf8'), live.checksum) : null,
  }
}

/**
 * `status` exits as `prisma migrate status` does: 1 when a migration failed, one in the folder is not applied
 * (pending, or rolled back and waiting to be applied again), or one the database applied is missing from the folder;
 * 0 when every migration is applied. A CI step `migrate-kit status` then fails on an unfinished deploy.
 */
export function statusExitCode(migrations: MigrationStatus[]): ExitCode {
  const unfinished = migrations.some((migration) => migration.state !== 'applied' || !migration.onDisk)
  return unfinished ? ExitCode.failed : ExitCode.ok
}
