import os from 'node:os'
import type { Client, ClientBase } from 'pg'
import { connect } from '../db/connect'
import { LockHeldError } from '../errors'
import { PRISMA_MIGRATE_LOCK } from '../prisma/migrations'

/**
 * Two deploys at once. Prisma serialises its own commands with a session lock, pg_advisory_lock(72707369), and
 * simply waits for it: a second `prisma migrate deploy` hangs until the first is done. A deploy is more than one
 * Prisma command (migrations, the gate, backfills, more migrations, checks), so it takes a lock of its own for its
 * whole run and refuses (exit 4) when that is held; before each Prisma command it also refuses when Prisma's lock is
 * held (a bare `prisma migrate deploy` or a `migrate-kit rollback` at work) instead of queueing behind it.
 */
const DEPLOY_LOCK_KEY = `hashtextextended('migrate-kit:deploy', 0)`

/** What pg_stat_activity says about the session holding an advisory lock. */
interface Holder {
  pid: number
  application: string
  since: Date | null
  client: string | null
}

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
      const holder = await lockHolder(
        client,
        `l.objid = (${DEPLOY_LOCK_KEY} & 4294967295)::oid AND l.classid = ((${DEPLOY_LOCK_KEY} >> 32) & 4294967295)::oid`,
      )
      throw new LockHeldError(`another migrate-kit deploy is running on this database${describeHolder(holder)}`, holderFields(holder), {
        hint: 'Nothing was changed. Wait for it to finish (`npx migrate-kit status` shows where it is), then run `npx migrate-kit deploy` again: it continues from there.',
      })
    }
    return await fn(client)
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** Refuses (exit 4) when a Prisma Migrate command, or a rollback, holds Prisma's lock, rather than wait behind it. */
export async function assertPrismaLockFree(client: ClientBase): Promise<void> {
  const holder = await lockHolder(client, `l.classid = 0 AND l.objid = ${PRISMA_MIGRATE_LOCK}`)
  if (!holder) return
  throw new LockHeldError(
    `Prisma Migrate's lock on this database (pg_advisory_lock(${PRISMA_MIGRATE_LOCK})) is held${describeHolder(holder)}: a \`prisma migrate\` command or a rollback is running`,
    holderFields(holder),
    { hint: 'Wait for it to finish, then run `npx migrate-kit deploy` again: it continues where the database is.' },
  )
}

/** The session holding an advisory lock of this database, bigint keys being (classid, objid) = (high, low) halves. */
async function lockHolder(client: ClientBase, key: string): Promise<Holder | undefined> {
  const { rows } = await client.query<{ pid: number; application: string; since: Date | null; client: string | null }>(
    `SELECT l.pid, a.application_name AS application, a.backend_start AS since, a.client_addr::text AS client
       FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.pid <> pg_backend_pid()
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND ${key}
      LIMIT 1`,
  )
  const row = rows[0]
  return row ? { pid: row.pid, application: row.application ?? '', since: row.since, client: row.client } : undefined
}

function describeHolder(holder: Holder | undefined): string {
  if (!holder) return ''
  const parts = [
    `session pid ${holder.pid}`,
    holder.application ? `"${holder.application}"` : '',
    holder.client ? `from ${holder.client}` : '',
    holder.since ? `connected since ${holder.since.toISOString()}` : '',
  ]
  return ` (${parts.filter(Boolean).join(', ')})`
}

function holderFields(holder: Holder | undefined): { pid?: number; since?: Date } | undefined {
  if (!holder) return undefined
  return { pid: holder.pid, ...(holder.since ? { since: holder.since } : {}) }
}
