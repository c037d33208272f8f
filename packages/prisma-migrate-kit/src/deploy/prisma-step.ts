import type { ClientBase } from 'pg'
import { runPrisma } from '../prisma/cli'
import { migrationState, readMigrationRecords, recordsByName, type MigrationOnDisk } from '../prisma/migrations'
import type { Project } from '../project'
import { DEPLOY_URL_VARIABLE, writeDeployConfig } from '../rollback/deploy-config'
import { stageMigrations } from '../rollback/staging'
import { assertPrismaLockFree } from './lock'

export interface PrismaDeployResult {
  ok: boolean
  /** The migrations of the step that are applied now (all of them when ok). */
  applied: string[]
  /** The one Prisma recorded as failed, if any. */
  failed?: string
  /** Prisma's exit code and the end of what it printed, for a failure. */
  code: number
  output: string
}

/**
 * The real `prisma migrate deploy`, made to stop at a migration: Prisma has no "up to X", so it runs on a Prisma
 * config whose migrations folder is a temporary copy of the history up to and including the last migration of the
 * step (the same staging and config verify-rollbacks uses). Prisma never sees the migrations after it, and does
 * everything else as always: its lock, its transaction per migration, its bookkeeping.
 */
export async function prismaDeployUpTo(
  project: Project,
  client: ClientBase,
  databaseUrl: string,
  history: MigrationOnDisk[],
  migrations: string[],
): Promise<PrismaDeployResult> {
  await assertPrismaLockFree(client)
  const last = migrations.at(-1)
  const upTo = history.slice(0, history.findIndex((migration) => migration.name === last) + 1)
  const staged = stageMigrations(project, upTo, 'deploy')
  let code: number
  let output: string
  try {
    const config = writeDeployConfig(project, staged.dir, staged.root)
    const result = await runPrisma(project, ['migrate', 'deploy', '--config', config], {
      databaseUrl,
      env: { [DEPLOY_URL_VARIABLE]: databaseUrl },
      removeWhenOrphaned: staged.root,
    })
    code = result.code
    output = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-15).join('\n')
  } finally {
    staged.remove()
  }
  // What Prisma recorded is the truth; its exit code alone does not say how far it got.
  const records = recordsByName(await readMigrationRecords(client))
  const applied = migrations.filter((name) => migrationState(records.get(name) ?? []) === 'applied')
  const failed = migrations.find((name) => migrationState(records.get(name) ?? []) === 'failed')
  return { ok: code === 0 && applied.length === migrations.length, applied, ...(failed ? { failed } : {}), code, output }
}
