import os from 'node:os'
import type { ClientBase } from 'pg'
import { STATE_SCHEMA, stateExists, type StateComponent } from '../state/schema'

/**
 * Our own record of every rollback, in schema migrate_kit (append-only DDL steps: never edit a shipped one).
 * _prisma_migrations only says *that* a migration was rolled back; this says with which file, over which recorded
 * migration, and by whom, for the post-mortem.
 */
export const ROLLBACK_STATE: StateComponent = {
  name: 'rollback',
  steps: [
    `CREATE TABLE rollbacks (
       id bigserial PRIMARY KEY,
       run_id uuid NOT NULL,
       position integer NOT NULL,
       migration text NOT NULL,
       prisma_migration_id text NOT NULL,
       migration_checksum text NOT NULL,
       migration_file_checksum text NOT NULL,
       rollback_file text NOT NULL,
       rollback_checksum text NOT NULL,
       rolled_back_at timestamptz NOT NULL DEFAULT now(),
       os_user text NOT NULL,
       host text NOT NULL,
       pid integer NOT NULL,
       database_user text NOT NULL DEFAULT current_user,
       tool_version text NOT NULL
     )`,
    `CREATE INDEX rollbacks_by_migration ON rollbacks (migration, rolled_back_at)`,
  ],
}

/** Who ran it. A container without a passwd entry for its uid has no user name: say so rather than fail. */
export interface Operator {
  osUser: string
  host: string
  pid: number
}

export function currentOperator(): Operator {
  let osUser: string
  try {
    osUser = os.userInfo().username
  } catch {
    osUser = process.env.USER ?? process.env.LOGNAME ?? `uid ${process.getuid?.() ?? 'unknown'}`
  }
  return { osUser, host: os.hostname(), pid: process.pid }
}

/**
 * The row shape Prisma honours for "not applied any more": the migration's live row keeps its finished_at and gets
 * rolled_back_at. `migrate status` then lists it as not yet applied, `migrate deploy` and `migrate dev` apply it again
 * with a new row, and rolled-back rows are left out of Prisma's checksum checks. Only the live row (finished, not
 * rolled back) is touched, and only if it is still live: a deploy that ran since planning makes this match nothing.
 */
export const MARK_ROLLED_BACK_SQL =
  'UPDATE _prisma_migrations SET rolled_back_at = now() ' +
  'WHERE id = $1 AND migration_name = $2 AND finished_at IS NOT NULL AND rolled_back_at IS NULL'

export const INSERT_RECORD_SQL =
  `INSERT INTO ${STATE_SCHEMA}.rollbacks (run_id, position, migration, prisma_migration_id, migration_checksum, ` +
  'migration_file_checksum, rollback_file, rollback_checksum, os_user, host, pid, tool_version) ' +
  'VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)'

/** One row of migrate_kit.rollbacks. */
export interface RollbackRecord {
  runId: string
  position: number
  migration: string
  prismaMigrationId: string
  migrationChecksum: string
  migrationFileChecksum: string
  rollbackFile: string
  rollbackChecksum: string
  rolledBackAt: Date
  osUser: string
  host: string
  pid: number
  databaseUser: string
  toolVersion: string
}

/** Every rollback recorded, oldest first; none when the rollback tables were never created (read-only). */
export async function readRollbackRecords(client: ClientBase): Promise<RollbackRecord[]> {
  if (!(await stateExists(client, ROLLBACK_STATE.name))) return []
  const { rows } = await client.query<{
    run_id: string
    position: number
    migration: string
    prisma_migration_id: string
    migration_checksum: string
    migration_file_checksum: string
    rollback_file: string
    rollback_checksum: string
    rolled_back_at: Date
    os_user: string
    host: string
    pid: number
    database_user: string
    tool_version: string
  }>(`SELECT * FROM ${STATE_SCHEMA}.rollbacks ORDER BY id`)
  return rows.map((row) => ({
    runId: row.run_id,
    position: row.position,
    migration: row.migration,
    prismaMigrationId: row.prisma_migration_id,
    migrationChecksum: row.migration_checksum,
    migrationFileChecksum: row.migration_file_checksum,
    rollbackFile: row.rollback_file,
    rollbackChecksum: row.rollback_checksum,
    rolledBackAt: row.rolled_back_at,
    osUser: row.os_user,
    host: row.host,
    pid: row.pid,
    databaseUser: row.database_user,
    toolVersion: row.tool_version,
  }))
}
