import { randomBytes } from 'node:crypto'
import { withConnection } from './connect'
import { quoteIdent, quoteLiteral } from './quote'
import { describeTarget, parseDatabaseUrl, prismaSchemaOf, withDatabase } from './url'
import { StepFailedError } from '../errors'

/** Scratch databases are named so that a person (or a cleanup job) can tell what made them. */
export const SCRATCH_PREFIX = 'migrate_kit_verify_'

export interface ScratchOptions {
  /** Starts the name: migrate_kit_verify_ (verify-rollbacks) unless said otherwise. */
  prefix?: string
  /** What needs the database, for the hint when the user may not create one. */
  purpose?: string
}

/**
 * The comment a scratch database carries: which database it stands in for and which process made it, so that one left
 * by a process killed with -9 can be told apart from one in use (and a test can find only its own).
 */
export function scratchComment(forDatabase: string, pid = process.pid, at = new Date()): string {
  return `prisma-migrate-kit scratch database for ${forDatabase}, made by process ${pid} at ${at.toISOString()}; safe to drop once that process is gone`
}

export interface ScratchDatabase {
  name: string
  url: string
  /** Drops it, connections and all; safe to call more than once. */
  drop(): Promise<void>
}

/** Creates an empty database on the same server (and with the same credentials) as `serverUrl`. */
export async function createScratchDatabase(serverUrl: string, options: ScratchOptions = {}): Promise<ScratchDatabase> {
  const name = `${options.prefix ?? SCRATCH_PREFIX}${randomBytes(6).toString('hex')}`
  await withConnection(serverUrl, async (client) => {
    try {
      await client.query(`CREATE DATABASE ${quoteIdent(name)}`)
    } catch (error) {
      const target = parseDatabaseUrl(serverUrl)
      throw new StepFailedError(`could not create the scratch database ${name} on ${describeTarget(target)}: ${(error as Error).message}`, {
        cause: error,
        hint: `${options.purpose ?? 'verify-rollbacks'} needs a user that may create databases: ALTER ROLE ${quoteIdent(target.user)} CREATEDB (on a CI database, not production).`,
      })
    }
    await client.query(`COMMENT ON DATABASE ${quoteIdent(name)} IS ${quoteLiteral(scratchComment(parseDatabaseUrl(serverUrl).database))}`)
  })
  // `?schema=app`: Prisma's engine creates the URL's schema before the first migration, so it is part of the empty
  // database every migration starts from (a rollback of the first migration must not drop it).
  const schema = prismaSchemaOf(serverUrl)
  if (schema !== undefined) {
    try {
      await withConnection(withDatabase(serverUrl, name), (client) => client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`))
    } catch (error) {
      await dropDatabase(serverUrl, name).catch(() => undefined)
      throw error
    }
  }
  let dropped: Promise<void> | undefined
  return {
    name,
    url: withDatabase(serverUrl, name),
    drop: () => (dropped ??= dropDatabase(serverUrl, name)),
  }
}

async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await withConnection(serverUrl, async (client) => {
    const { rows } = await client.query<{ version: number }>(`SELECT current_setting('server_version_num')::int AS version`)
    if ((rows[0]?.version ?? 0) >= 130000) {
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`)
      return
    }
    // Before PostgreSQL 13 there is no FORCE: end the sessions still in it (a Prisma CLI we stopped), then drop.
    await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name])
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`)
  })
}
