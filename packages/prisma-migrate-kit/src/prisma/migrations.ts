import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import type { ClientBase } from 'pg'
import { advisoryLockHolder, type LockHolder } from '../db/locks'
import { InputError } from '../errors'
import type { Project } from '../project'

/**
 * The session-level advisory lock every `prisma migrate` command takes (the schema engine's
 * `SELECT pg_advisory_lock(72707369)`). A rollback takes it for its transaction, so no deploy applies a migration
 * while a rollback reverts one and no two rollbacks interleave; a deploy checks it before it starts.
 */
export const PRISMA_MIGRATE_LOCK = 72707369

/** A migration folder written by Prisma Migrate: prisma/migrations/<timestamp>_<name>/migration.sql. */
export interface MigrationOnDisk {
  /** The folder name, which is also `migration_name` in _prisma_migrations. */
  name: string
  dir: string
  sqlFile: string
  /** sha256 of migration.sql, as Prisma records it. */
  checksum: string
}

/** One row of Prisma's `_prisma_migrations` table. */
export interface MigrationRecord {
  id: string
  name: string
  checksum: string
  startedAt: Date
  finishedAt: Date | null
  rolledBackAt: Date | null
  logs: string | null
  appliedStepsCount: number
}

export function migrationChecksum(script: string | Buffer): string {
  return createHash('sha256').update(script).digest('hex')
}

/**
 * Whether a script still matches the checksum Prisma recorded. Like Prisma, accept the same text with the other
 * line-ending convention, so a checkout on Windows does not look edited.
 */
export function scriptMatchesChecksum(script: string, checksum: string): boolean {
  const variants = [script, script.replace(/\r\n/g, '\n'), script.replace(/\r?\n/g, '\r\n')]
  return variants.some((variant) => migrationChecksum(variant) === checksum)
}

/** Prisma orders migrations by folder name; the timestamp prefix makes that chronological. */
export function listMigrations(project: Project): MigrationOnDisk[] {
  if (!existsSync(project.migrationsDir)) return []
  return readdirSync(project.migrationsDir)
    .filter((entry) => statSync(path.join(project.migrationsDir, entry)).isDirectory())
    .sort()
    .map((name) => {
      const dir = path.join(project.migrationsDir, name)
      const sqlFile = path.join(dir, 'migration.sql')
      if (!existsSync(sqlFile)) {
        throw new InputError(`migration folder ${name} has no migration.sql`, sqlFile, undefined, {
          hint: 'Remove the empty folder, or recreate the migration with `prisma migrate dev`.',
        })
      }
      return { name, dir, sqlFile, checksum: migrationChecksum(readFileSync(sqlFile)) }
    })
}

/** Finds one migration by its full folder name or by its unique name suffix (`add_users` for `2026…_add_users`). */
export function findMigration(migrations: MigrationOnDisk[], reference: string): MigrationOnDisk {
  const exact = migrations.find((migration) => migration.name === reference)
  if (exact) return exact
  const bySuffix = migrations.filter((migration) => migration.name.replace(/^\d+_/, '') === reference)
  if (bySuffix.length === 1) return bySuffix[0]
  const known = migrations.map((migration) => migration.name).join(', ') || 'none'
  throw new InputError(
    bySuffix.length > 1
      ? `migration name "${reference}" is ambiguous: ${bySuffix.map((migration) => migration.name).join(', ')}`
      : `no migration named "${reference}" (known: ${known})`,
    undefined,
    undefined,
    { hint: 'Run `migrate-kit status` to list migrations.' },
  )
}

export async function prismaMigrationsTableExists(client: ClientBase): Promise<boolean> {
  const { rows } = await client.query<{ present: boolean }>(
    // current_schema() is NULL while no schema of the search path exists (a first deploy to ?schema=app): no history.
    `SELECT CASE WHEN current_schema() IS NULL THEN false
                 ELSE to_regclass(format('%I.%I', current_schema(), '_prisma_migrations')) IS NOT NULL END AS present`,
  )
  return rows[0]?.present ?? false
}

/** Every row of _prisma_migrations, oldest first; none when Prisma has never migrated this database. */
export async function readMigrationRecords(client: ClientBase): Promise<MigrationRecord[]> {
  if (!(await prismaMigrationsTableExists(client))) return []
  const { rows } = await client.query<{
    id: string
    migration_name: string
    checksum: string
    started_at: Date
    finished_at: Date | null
    rolled_back_at: Date | null
    logs: string | null
    applied_steps_count: number
  }>(
    `SELECT id, migration_name, checksum, started_at, finished_at, rolled_back_at, logs, applied_steps_count
       FROM _prisma_migrations ORDER BY started_at, migration_name`,
  )
  return rows.map((row) => ({
    id: row.id,
    name: row.migration_name,
    checksum: row.checksum,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    rolledBackAt: row.rolled_back_at,
    logs: row.logs,
    appliedStepsCount: row.applied_steps_count,
  }))
}

export type MigrationState = 'applied' | 'pending' | 'failed' | 'rolled_back'

/**
 * The state Prisma itself would give a migration from its rows: the newest row that is not rolled back decides
 * (finished = applied, unfinished = failed); rows that are all rolled back mean rolled back; no row means pending.
 */
export function migrationState(records: MigrationRecord[]): MigrationState {
  const live = records.filter((record) => record.rolledBackAt === null)
  const newest = live[live.length - 1]
  if (newest) return newest.finishedAt === null ? 'failed' : 'applied'
  return records.length > 0 ? 'rolled_back' : 'pending'
}

export function recordsByName(records: MigrationRecord[]): Map<string, MigrationRecord[]> {
  const byName = new Map<string, MigrationRecord[]>()
  for (const record of records) {
    const list = byName.get(record.name) ?? []
    list.push(record)
    byName.set(record.name, list)
  }
  return byName
}

/** The session holding Prisma Migrate's lock: a `prisma migrate` command, or a rollback, at work. */
export function prismaLockHolder(client: ClientBase): Promise<LockHolder | undefined> {
  return advisoryLockHolder(client, `l.classid = 0 AND l.objid = ${PRISMA_MIGRATE_LOCK}`)
}

/**
 * The migration Prisma is applying right now, if any. Its row looks like a failed one (started, not finished), so the
 * lock tells them apart: Prisma's lock is held by a session that started before the row did. An unfinished row older
 * than the holder's session is a real failure left by an earlier run, whatever runs now.
 */
export function applyingMigration(records: MigrationRecord[], holder: LockHolder | undefined): MigrationRecord | undefined {
  if (!holder) return undefined
  const newest = records
    .filter((record) => record.rolledBackAt === null && record.finishedAt === null)
    .sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime())
    .at(-1)
  if (!newest || (holder.since !== null && newest.startedAt < holder.since)) return undefined
  return newest
}
