import { readFileSync } from 'node:fs'
import type { ClientBase } from 'pg'
import { analyzeMigrations, type MigrationAnalysis } from '../lint'
import type { LockHolder } from '../db/locks'
import {
  applyingMigration,
  listMigrations,
  prismaLockHolder,
  migrationState,
  readMigrationRecords,
  recordsByName,
  scriptMatchesChecksum,
  type MigrationOnDisk,
  type MigrationRecord,
  type MigrationState,
} from '../prisma/migrations'
import { relativePath, type Project } from '../project'

/** One migration of prisma/migrations as the deploy sees it: where the database is, and what the SQL does. */
export interface HistoryEntry {
  migration: MigrationOnDisk
  /** Position in Prisma's order (folder names sorted). */
  index: number
  state: MigrationState
  /** The live row when applied or failed. */
  record?: MigrationRecord
  /** Applied, but migration.sql no longer matches the checksum Prisma recorded when it ran. */
  edited: boolean
  /** The lint's reading: phase and effects (what the gate matches backfills against). */
  analysis: MigrationAnalysis
}

export interface History {
  entries: HistoryEntry[]
  /** A migration Prisma is applying right now (its row looks failed; Prisma's lock says otherwise), and who is. */
  applying?: { migration: string; startedAt: Date; holder: LockHolder }
  /** Migrations the database has applied (or failed) whose folder is gone from prisma/migrations. */
  notOnDisk: string[]
}

/** Reads prisma/migrations, _prisma_migrations and the lint's analysis of every migration, in Prisma's order. */
export async function readHistory(client: ClientBase, project: Project): Promise<History> {
  const migrations = listMigrations(project)
  const all = await readMigrationRecords(client)
  const records = recordsByName(all)
  const holder = all.length > 0 ? await prismaLockHolder(client) : undefined
  const applying = applyingMigration(all, holder)
  const analyses = await analyzeMigrations(
    migrations.map((migration) => ({
      name: migration.name,
      file: relativePath(project, migration.sqlFile),
      sql: readFileSync(migration.sqlFile, 'utf8'),
    })),
  )
  const entries = migrations.map((migration, index): HistoryEntry => {
    const rows = records.get(migration.name) ?? []
    const state = migrationState(rows)
    const record = state === 'applied' || state === 'failed' ? rows.filter((row) => row.rolledBackAt === null).at(-1) : undefined
    const edited =
      state === 'applied' && record !== undefined && !scriptMatchesChecksum(readFileSync(migration.sqlFile, 'utf8'), record.checksum)
    return { migration, index, state, edited, analysis: analyses[index], ...(record ? { record } : {}) }
  })
  const onDisk = new Set(migrations.map((migration) => migration.name))
  const notOnDisk = [...records.entries()]
    .filter(([name, rows]) => !onDisk.has(name) && ['applied', 'failed'].includes(migrationState(rows)))
    .map(([name]) => name)
    .sort()
  return {
    entries,
    notOnDisk,
    ...(applying && holder ? { applying: { migration: applying.name, startedAt: applying.startedAt, holder } } : {}),
  }
}

/** Whether a migration reference (`after:`/`before:`/`--until`) names this folder: in full, or without its timestamp. */
export function namesMigration(reference: string, name: string): boolean {
  return reference === name || name.replace(/^\d+_/, '') === reference
}

export function pendingEntries(history: History): HistoryEntry[] {
  return history.entries.filter((entry) => entry.state === 'pending' || entry.state === 'rolled_back')
}
