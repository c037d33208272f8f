import { randomBytes } from 'node:crypto'
import { Client } from 'pg'
import { withDatabase } from '../../packages/prisma-migrate-kit/src/db/url'

/** The server the tests run against: the local PostgreSQL (CI starts it), overridable for other machines. */
export const TEST_SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'

export interface TestDatabase {
  name: string
  url: string
  /** Runs one query on a short-lived connection. */
  query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>
  drop(): Promise<void>
}

async function onServer<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: TEST_SERVER_URL })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/** A fresh database for one test file; `drop()` removes it even while connections remain. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `mk_${label
    .replace(/[^a-z0-9]+/gi, '_')
    .toLowerCase()
    .slice(0, 30)}_${randomBytes(4).toString('hex')}`
  await onServer((client) => client.query(`CREATE DATABASE "${name}"`))
  const url = withDatabase(TEST_SERVER_URL, name)
  return {
    name,
    url,
    query: async <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) => {
      const client = new Client({ connectionString: url })
      await client.connect()
      try {
        return (await client.query<T>(sql, params)).rows
      } finally {
        await client.end()
      }
    },
    drop: () => dropDatabase(name),
  }
}

export async function dropDatabase(name: string): Promise<void> {
  await onServer((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))
}

export async function databaseExists(name: string): Promise<boolean> {
  return onServer(async (client) => {
    const { rows } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
    return rows.length > 0
  })
}

/** Databases whose names start with a prefix: to prove scratch databases are cleaned up. */
/**
 * Databases whose name starts with `prefix`; with `scratchFor`, only the scratch databases made for that database (by
 * their comment), so that a test does not see those of a test running beside it.
 */
export async function databasesLike(prefix: string, scratchFor?: string): Promise<string[]> {
  return onServer(async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database
        WHERE starts_with(datname, $1)
          AND ($2::text IS NULL OR starts_with(coalesce(shobj_description(oid, 'pg_database'), ''), 'prisma-migrate-kit scratch database for ' || $2 || ','))
        ORDER BY datname`,
      [prefix, scratchFor ?? null],
    )
    return rows.map((row) => row.datname)
  })
}
