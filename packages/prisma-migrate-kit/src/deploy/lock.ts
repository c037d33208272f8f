import os from 'node:os'
import type { Client, ClientBase } from 'pg'
import { connect } from '../db/connect'
import { LockHeldError } from '../errors'
import { advisoryLockHolder, describeHolder, holderFields } from '../db/locks'
import { PRISMA_MIGRATE_LOCK, applyingMigration, prismaLockHolder, readMigrationRecords } from '../prisma/migrations'

/**
 * Two deploys at once. Prisma serialises its own commands with a session lock, pg_advisory_lock(72707369), and
 * simply waits for it: a second `prisma migrate deploy` hangs until the first is done. A deploy is more than one
 * Prisma command (migrations, the gate, backfills, more migrations, checks), so it takes a lock of its own for its
 * whole run and refuses (exit 4) when that is held; before each Prisma command it also refuses when Prisma's lock is
 * held (a bare `prisma migrate deploy` or a `migrate-kit rollback` at work) instead of queueing behind it.
 */
const DEPLOY_LOCK_KEY = `hashtextextended('migrate-kit:deploy', 0)`

/** The application_name of our session, so the one refused can say who holds the lock. */
export function deployApplicationName(): string {
  return `migrate-kit deploy (${os.hostname()}, pid ${process.pid})`.slice(0, 63)
}

/**
 * Runs fn with a connection that holds the deploy lock for this database; refuses at once (LockHeldError, exit 4)
 * when another deploy holds it. The lock is a session lock: it goes with the connection, even after kill -9.
 */
export async function withDeployLock<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await connect(url, { applicationName: deployApplicationName() })
  try {
    const { rows } = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${DEPLOY_LOCK_KEY}) AS locked`)
    if (!rows[0]?.locked) {
      const holder = await advisoryLockHolder(
        client,
        `l.objid = (${DEPLOY_LOCK_KEY} & 4294967295)::oid AND l.classid = ((${DEPLOY_LOCK_KEY} >> 32) & 4294967295)::oid`,
      )
      const applying = applyingMigration(await readMigrationRecords(client), await prismaLockHolder(client))
      const doing = applying ? `; it is applying migration ${applying.name} (started ${applying.startedAt.toISOString()})` : ''
      throw new LockHeldError(
        `another migrate-kit deploy is running on this database${describeHolder(holder)}${doing}`,
        holderFields(holder),
        {
          hint: 'Nothing was changed. Wait for it to finish (`npx migrate-kit status` shows where it is), then run `npx migrate-kit deploy` again: it continues from there.',
        },
      )
    }
    return await fn(client)
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** Refuses (exit 4) when a Prisma Migrate command, or a rollback, holds Prisma's lock, rather than wait behind it. */
export async function assertPrismaLockFree(client: ClientBase): Promise<void> {
  const holder = await prismaLockHolder(client)
  if (!holder) return
  throw new LockHeldError(
    `Prisma Migrate's lock on this database (pg_advisory_lock(${PRISMA_MIGRATE_LOCK})) is held${describeHolder(holder)}: a \`prisma migrate\` command or a rollback is running`,
    holderFields(holder),
    { hint: 'Wait for it to finish, then run `npx migrate-kit deploy` again: it continues where the database is.' },
  )
}
