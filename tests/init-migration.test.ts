import { readFileSync } from 'node:fs'
import { Client } from 'pg'
import { listMigrations } from '../packages/prisma-migrate-kit/src/prisma/migrations'
import { rollbackFile } from '../packages/prisma-migrate-kit/src/rollback/files'
import { createTestDatabase, type TestDatabase } from './helpers/database'
import { createTempProject, type TempProject } from './helpers/project'
import { PrismaSession } from './helpers/prisma-run'
import { assertBuilt } from './helpers/schema-engine'

// The example app's first migration (made by `prisma migrate dev --name init` through the offline engine) and its
// hand-written rollback: deploy, roll back, nothing of the app left, deploy again.

const APP_TABLES = ['daily_puzzles', 'puzzle_completions', 'users']
const APP_ENUMS = ['difficulty', 'subscription_status', 'subscription_tier']

let db: TestDatabase
let project: TempProject
let prisma: PrismaSession

/** Everything in schema public except Prisma's own bookkeeping table (and its index). */
async function appObjects(): Promise<{ relations: string[]; types: string[] }> {
  const relations = await db.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relname NOT IN ('_prisma_migrations', '_prisma_migrations_pkey') ORDER BY 1`,
  )
  const types = await db.query<{ typname: string }>(
    `SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c') AND t.typrelid = 0 ORDER BY 1`,
  )
  return { relations: relations.map((row) => row.relname), types: types.map((row) => row.typname) }
}

/** What `migrate-kit rollback` will do with it: the script and forgetting the migration, in one transaction. */
async function rollBack(migration: string, script: string): Promise<void> {
  const client = new Client({ connectionString: db.url })
  await client.connect()
  try {
    await client.query('BEGIN')
    await client.query(script)
    await client.query('DELETE FROM _prisma_migrations WHERE migration_name = $1', [migration])
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  } finally {
    await client.end()
  }
}

beforeAll(async () => {
  assertBuilt()
  db = await createTestDatabase('init_rollback')
  // Only init: later migrations of the example app build on it and have their own rollbacks.
  project = createTempProject({ migrations: (name) => /^\d{14}_init$/.test(name) })
  prisma = new PrismaSession(project.root, db.url)
})

afterAll(async () => {
  if (process.env.MIGRATE_KIT_TIMINGS) console.log(`seconds per prisma command (offline engine):\n${prisma.timingReport()}`)
  project?.remove()
  await db?.drop()
})

test("the example app's first migration is init, and its rollback.sql says what it destroys", () => {
  const migrations = listMigrations(prisma.project)
  expect(migrations.map((migration) => migration.name)).toEqual([expect.stringMatching(/^\d{14}_init$/)])
  const init = migrations[0].name
  const rollback = readFileSync(rollbackFile(prisma.project, init), 'utf8')
  expect(rollback).toContain(`prisma/migrations/${init}/migration.sql`)
  expect(rollback).toMatch(/WARNING: this destroys ALL DATA/)
  for (const table of APP_TABLES) expect(rollback).toContain(`DROP TABLE "${table}"`)
})

test('deploy, roll back, deploy again: the rollback removes every table and type init created', async () => {
  const init = listMigrations(prisma.project)[0].name
  expect((await prisma.run(['migrate', 'deploy'])).code).toBe(0)
  const deployed = await appObjects()
  for (const table of APP_TABLES) expect(deployed.relations).toContain(table)
  expect(deployed.types).toEqual(APP_ENUMS)

  await rollBack(init, readFileSync(rollbackFile(prisma.project, init), 'utf8'))
  expect(await appObjects()).toEqual({ relations: [], types: [] })
  // Prisma itself sees an empty database again (it ignores its own _prisma_migrations table).
  const diff = await prisma.run(['migrate', 'diff', '--from-empty', '--to-config-datasource', '--exit-code'])
  expect(diff.code).toBe(0)
  expect((await prisma.run(['migrate', 'status'])).code).toBe(1)

  expect((await prisma.run(['migrate', 'deploy'])).code).toBe(0)
  expect(await appObjects()).toEqual(deployed)
  expect((await prisma.run(['migrate', 'status'])).code).toBe(0)
})
