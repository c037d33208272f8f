import type { ClientBase } from 'pg'
import { runPrisma } from '../prisma/cli'
import { migrationState, readMigrationRecords, recordsByName, type MigrationOnDisk } from '../prisma/migrations'
import type { Project } from '../project'
import { DEPLOY_URL_VARIABLE, writeDeployConfig } from '../rollback/deploy-config'
import { stageMigrations } from '../rollback/staging'
import { StepFailedError } from '../errors'
import { assertPrismaLockFree } from './lock'
import { blockingSessions, describeBlockingSession, type BlockingSession } from '../db/locks'
import { ENGINE_APPLICATION_NAME, LOCK_TIMEOUT_VARIABLE, OFFLINE_SCHEMA_ENGINE } from '../offline-engine'

export interface PrismaDeployResult {
  ok: boolean
  /** The migrations of the step that are applied now (all of them when ok). */
  applied: string[]
  /** The one Prisma recorded as failed, if any. */
  failed?: string
  /** Prisma's exit code and the end of what it printed, for a failure. */
  code: number
  output: string
  /** The failure was a lock_timeout (SQLSTATE 55P03): the migration waited for a lock the app holds, and gave up. */
  lockTimeout: boolean
  /** The sessions the migration was last seen waiting for (read while it waited). */
  blockers: BlockingSession[]
}

export interface PrismaStepOptions {
  /** The lock_timeout of the engine's session (ms); unset: Prisma's (none). */
  lockTimeoutMs?: number
  /** What an operator should read meanwhile: a migration waiting for a lock, a setting that could not apply. */
  onNotice?(message: string): void
}

/** How long a migration waits for a lock before deploy says who it waits for. */
const WAIT_NOTICE_MS = 1_000

/** How Prisma and PostgreSQL say that a statement gave up waiting for a lock. */
const LOCK_TIMEOUT = /\b55P03\b|lock timeout/i
/** How often deploy looks at what the migration waits for. */
const BLOCKER_POLL_MS = 200

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
  options: PrismaStepOptions = {},
): Promise<PrismaDeployResult> {
  await assertPrismaLockFree(client)
  const last = migrations.at(-1)
  const upTo = history.slice(0, history.findIndex((migration) => migration.name === last) + 1)
  const staged = stageMigrations(project, upTo, 'deploy')
  let code: number
  let output: string
  const watch = watchBlockers(client, (sessions) =>
    options.onNotice?.(`A migration is waiting for a lock held by ${sessions.map(describeBlockingSession).join('; ')}.`),
  )
  try {
    const config = writeDeployConfig(project, staged.dir, staged.root)
    const result = await runPrisma(project, ['migrate', 'deploy', '--config', config], {
      databaseUrl,
      env: {
        [DEPLOY_URL_VARIABLE]: databaseUrl,
        ...(options.lockTimeoutMs ? { [LOCK_TIMEOUT_VARIABLE]: String(options.lockTimeoutMs) } : {}),
      },
      removeWhenOrphaned: staged.root,
    })
    code = result.code
    if (options.lockTimeoutMs && result.engine.path !== OFFLINE_SCHEMA_ENGINE) {
      options.onNotice?.(
        `--lock-timeout was not applied: Prisma ran its native schema engine (${result.engine.path}), whose session deploy cannot set. Put SET lock_timeout in the migration.sql files, or let deploy use migrate-kit's engine (unset PRISMA_SCHEMA_ENGINE_BINARY).`,
      )
    }
    output = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-15).join('\n')
  } finally {
    staged.remove()
  }
  const blockers = await watch.stop()
  // What Prisma recorded is the truth; its exit code alone does not say how far it got.
  const records = recordsByName(await readMigrationRecords(client))
  const applied = migrations.filter((name) => migrationState(records.get(name) ?? []) === 'applied')
  const failed = migrations.find((name) => migrationState(records.get(name) ?? []) === 'failed')
  const logs = failed ? (records.get(failed)?.at(-1)?.logs ?? '') : ''
  const lockTimeout = failed !== undefined && (LOCK_TIMEOUT.test(logs) || LOCK_TIMEOUT.test(output))
  return {
    ok: code === 0 && applied.length === migrations.length,
    applied,
    ...(failed ? { failed } : {}),
    code,
    output,
    lockTimeout,
    blockers,
  }
}

/**
 * Samples, while Prisma runs, the sessions the engine waits for (on the deploy's own session, which is idle
 * meanwhile): once a lock_timeout has ended the wait nothing says who held the lock. stop() gives the last seen.
 */
function watchBlockers(client: ClientBase, onLongWait: (sessions: BlockingSession[]) => void): { stop(): Promise<BlockingSession[]> } {
  let last: BlockingSession[] = []
  let running = true
  let waitingSince: number | undefined
  const told = new Set<number>()
  const loop = (async () => {
    while (running) {
      const seen = await blockingSessions(client, ENGINE_APPLICATION_NAME).catch(() => [])
      if (seen.length > 0) {
        last = seen
        waitingSince ??= Date.now()
        // Said once per holder, after a second of waiting: an operator sees who to wait for (or end) while it lasts.
        const fresh = seen.filter((session) => !told.has(session.pid))
        if (Date.now() - waitingSince >= WAIT_NOTICE_MS && fresh.length > 0) {
          for (const session of fresh) told.add(session.pid)
          onLongWait(fresh)
        }
      } else waitingSince = undefined
      await new Promise((resolve) => setTimeout(resolve, BLOCKER_POLL_MS))
    }
  })()
  return {
    stop: async () => {
      running = false
      await loop
      return last
    },
  }
}

/**
 * `prisma migrate resolve --rolled-back <migration>` through the same temporary config as the deploy: for a migration
 * deploy knows left nothing behind (its one transaction gave up on a lock), so Prisma applies it again next time.
 */
export async function prismaResolveRolledBack(
  project: Project,
  databaseUrl: string,
  history: MigrationOnDisk[],
  migration: string,
): Promise<void> {
  const upTo = history.slice(0, history.findIndex((entry) => entry.name === migration) + 1)
  const staged = stageMigrations(project, upTo, 'deploy')
  try {
    const config = writeDeployConfig(project, staged.dir, staged.root)
    const result = await runPrisma(project, ['migrate', 'resolve', '--rolled-back', migration, '--config', config], {
      databaseUrl,
      env: { [DEPLOY_URL_VARIABLE]: databaseUrl },
      removeWhenOrphaned: staged.root,
    })
    if (result.code !== 0) {
      throw new StepFailedError(
        `prisma migrate resolve --rolled-back ${migration} failed (exit ${result.code}): ${result.stderr.trim().split('\n').slice(-5).join(' ')}`,
        {
          hint: `Mark it yourself once the cause is clear: npx migrate-kit prisma migrate resolve --rolled-back ${migration}`,
        },
      )
    }
  } finally {
    staged.remove()
  }
}
