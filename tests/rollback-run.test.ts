import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import os from 'node:os'
import { Client } from 'pg'
import { projectAt } from '../packages/prisma-migrate-kit/src/project'
import { PRISMA_MIGRATE_LOCK } from '../packages/prisma-migrate-kit/src/prisma/migrations'
import { ROLLBACK_STATE } from '../packages/prisma-migrate-kit/src/rollback/record'
import { planRollback } from '../packages/prisma-migrate-kit/src/rollback/rollback'
import { executeRollback } from '../packages/prisma-migrate-kit/src/rollback/run'
import { diffSchemas } from '../packages/prisma-migrate-kit/src/rollback/schema-diff'
import type { SchemaSnapshot } from '../packages/prisma-migrate-kit/src/rollback/snapshot'
import { ensureState, stateExists } from '../packages/prisma-migrate-kit/src/state/schema'
import { runCli, type CliResult } from './helpers/cli'
import { createTestDatabase, type TestDatabase } from './helpers/database'
import { PrismaSession } from './helpers/prisma-run'
import { createTempProject, type TempProject } from './helpers/project'
import { addMigration, prismaRows, schemaOf } from './helpers/rollback'
import { assertBuilt } from './helpers/schema-engine'

// `migrate-kit rollback` on a real database after the real `prisma migrate deploy`: what it refuses, what its dry run
// prints, that it runs in one transaction, and that Prisma itself then sees the migrations as not applied and
// re-applies them. The example app's init, plus three migrations (and rollbacks) written here.

const BIO = '20990101000000_add_bio'
const INDEX = '20990102000000_add_created_index'
const BADGES = '20990103000000_add_badges'

const MIGRATIONS: Array<[string, string, string]> = [
  [BIO, 'ALTER TABLE "users" ADD COLUMN "bio" TEXT;\n', 'ALTER TABLE "users" DROP COLUMN "bio";\n'],
  [INDEX, 'CREATE INDEX "users_created_at_idx" ON "users"("created_at");\n', 'DROP INDEX "users_created_at_idx";\n'],
  [
    BADGES,
    'CREATE TABLE "badges" ("id" SERIAL NOT NULL, "user_id" INTEGER NOT NULL, CONSTRAINT "badges_pkey" PRIMARY KEY ("id"));\n' +
      'ALTER TABLE "badges" ADD CONSTRAINT "badges_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id");\n',
    '-- Rollback of badges\n\nALTER TABLE "badges" DROP CONSTRAINT "badges_user_id_fkey";\nDROP TABLE "badges";\n',
  ],
]

let db: TestDatabase
let project: TempProject
let prisma: PrismaSession
let init: string
/** The schema after each migration, by name. */
const schemaAfter = new Map<string, SchemaSnapshot>()

function migrateKit(...args: string[]): Promise<CliResult> {
  return runCli(args, { cwd: project.root, env: { DATABASE_URL: db.url } })
}

async function expectSchema(after: string): Promise<void> {
  expect(diffSchemas(await schemaOf(db), schemaAfter.get(after)!, { actual: 'now', expected: `after ${after}` })).toEqual([])
}

async function deploy(): Promise<void> {
  const result = await prisma.run(['migrate', 'deploy'])
  expect(result.code).toBe(0)
}

async function rollbackRecords(): Promise<Array<Record<string, unknown>>> {
  if (!(await db.query<{ present: boolean }>(`SELECT to_regclass('migrate_kit.rollbacks') IS NOT NULL AS present`))[0].present) return []
  return db.query(`SELECT * FROM migrate_kit.rollbacks ORDER BY id`)
}

/** A session that holds something for the length of a test. */
async function holding(sql: string): Promise<Client> {
  const client = new Client({ connectionString: db.url })
  await client.connect()
  await client.query(sql)
  return client
}

beforeAll(async () => {
  assertBuilt()
  db = await createTestDatabase('rollback_run')
  project = createTempProject({ migrations: (name) => /_init$/.test(name) })
  prisma = new PrismaSession(project.root, db.url)
  init = readdirNames()[0]!
  await deploy()
  schemaAfter.set(init, await schemaOf(db))
  // One deploy per migration, to know the schema after each (what a rollback must bring back).
  for (const [name, sql, rollback] of MIGRATIONS) {
    addMigration(project, name, sql, rollback)
    await deploy()
    schemaAfter.set(name, await schemaOf(db))
  }
})

afterAll(async () => {
  if (process.env.MIGRATE_KIT_TIMINGS) console.log(`seconds per prisma command (offline engine):\n${prisma.timingReport()}`)
  project?.remove()
  await db?.drop()
})

function readdirNames(): string[] {
  return readdirSync(project.path('prisma', 'migrations'))
    .filter((entry) => entry !== 'migration_lock.toml')
    .sort()
}

describe('refused before anything runs: exit 2, nothing changed', () => {
  /** Runs the command and proves that neither the schema, nor _prisma_migrations, nor migrate_kit changed. */
  async function expectRefused(args: string[], ...messages: RegExp[]): Promise<CliResult> {
    const rows = await prismaRows(db)
    const schema = await schemaOf(db)
    const records = await rollbackRecords()
    const result = await migrateKit('rollback', ...args)
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' })
    for (const message of messages) expect(result.stderr).toMatch(message)
    expect(await prismaRows(db)).toEqual(rows)
    expect(diffSchemas(await schemaOf(db), schema, { actual: 'after', expected: 'before' })).toEqual([])
    expect(await rollbackRecords()).toEqual(records)
    return result
  }

  test('an unknown migration', async () => {
    await expectRefused(['add_nothing'], /no migration named "add_nothing" \(known: /)
  })

  test('a later migration still applied: names it, and the command that rolls back newest first', async () => {
    await expectRefused(
      [BIO],
      new RegExp(`${INDEX}, ${BADGES} were applied after ${BIO} and are still applied`),
      new RegExp(`npx migrate-kit rollback ${BADGES} --to ${BIO}`),
    )
  })

  test('a migration that is not applied', async () => {
    const pending = '20990104000000_pending'
    addMigration(project, pending, 'SELECT 1;\n', 'SELECT 1;\n')
    try {
      await expectRefused(
        [pending],
        new RegExp(`${pending} is not applied \\(pending\\)`),
        new RegExp(`newest applied migration is ${BADGES}`),
      )
    } finally {
      rmSync(project.path('prisma', 'migrations', pending), { recursive: true })
      rmSync(project.path('rollbacks', pending), { recursive: true })
    }
  })

  test('--to naming a newer migration', async () => {
    await expectRefused([BIO, '--to', BADGES], new RegExp(`--to ${BADGES} is newer than ${BIO}`))
  })

  test('every problem of a --to run at once: a missing rollback.sql, an edited migration.sql, a COMMIT in a rollback', async () => {
    const rollback = project.path('rollbacks', INDEX, 'rollback.sql')
    const migration = project.path('prisma', 'migrations', BADGES, 'migration.sql')
    const badgesRollback = project.path('rollbacks', BADGES, 'rollback.sql')
    const original = { migration: readFileSync(migration, 'utf8'), rollback: readFileSync(badgesRollback, 'utf8') }
    renameSync(rollback, `${rollback}.away`)
    project.write(`prisma/migrations/${BADGES}/migration.sql`, `${original.migration}-- tweaked after it ran\n`)
    project.write(`rollbacks/${BADGES}/rollback.sql`, `${original.rollback}COMMIT;\n`)
    try {
      const result = await expectRefused(
        [BADGES, '--to', BIO],
        new RegExp(`prisma/migrations/${BADGES}/migration.sql: prisma/migrations/${BADGES}/migration.sql changed since Prisma applied it`),
        new RegExp(`rollbacks/${BADGES}/rollback.sql:5: COMMIT would end or split the transaction`),
        new RegExp(`rollbacks/${INDEX}/rollback.sql: ${INDEX} has no rollbacks/${INDEX}/rollback.sql`),
        new RegExp(`npx migrate-kit rollbacks generate ${INDEX}`),
      )
      expect(result.stderr).toMatch(/--accept-edited-migration/)
    } finally {
      renameSync(`${rollback}.away`, rollback)
      project.write(`prisma/migrations/${BADGES}/migration.sql`, original.migration)
      project.write(`rollbacks/${BADGES}/rollback.sql`, original.rollback)
    }
  })

  test('nothing refused leaves a trace: no migrate_kit schema was created', async () => {
    const client = new Client({ connectionString: db.url })
    await client.connect()
    try {
      expect(await stateExists(client, ROLLBACK_STATE.name)).toBe(false)
    } finally {
      await client.end()
    }
  })
})

describe('--dry-run', () => {
  test('prints the migrations, the files and every statement in the order they run, and changes nothing', async () => {
    const rows = await prismaRows(db)
    const result = await migrateKit('rollback', BADGES, '--to', BIO, '--dry-run')
    expect(result.code).toBe(0)
    const out = result.stdout
    expect(out).toContain(`1. ${BADGES}  rollbacks/${BADGES}/rollback.sql`)
    expect(out).toContain(`3. ${BIO}  rollbacks/${BIO}/rollback.sql`)
    const order = [
      'BEGIN;',
      "SET LOCAL lock_timeout = '5s';",
      `$1 = ${PRISMA_MIGRATE_LOCK}`,
      'DROP CONSTRAINT "badges_user_id_fkey";',
      'DROP TABLE "badges";',
      `$2 = '${BADGES}'`,
      'DROP INDEX "users_created_at_idx";',
      'DROP COLUMN "bio";',
      `$2 = '${BIO}'`,
      'COMMIT;',
    ]
    const positions = order.map((fragment) => out.indexOf(fragment))
    expect(positions.every((position) => position >= 0)).toBe(true)
    expect([...positions].sort((a, b) => a - b)).toEqual(positions)
    expect(out).toContain(`-- rollbacks/${BADGES}/rollback.sql:4\nDROP TABLE "badges";`)
    expect(await prismaRows(db)).toEqual(rows)
    await expectSchema(BADGES)
    expect(await rollbackRecords()).toEqual([])
  })
})

describe('rolling back, and Prisma agreeing', () => {
  test('rolls back one migration: Prisma status says not applied, our status says rolled_back, deploy re-applies it', async () => {
    const before = await prismaRows(db)
    const result = await migrateKit('rollback', 'add_badges')
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`rolled back ${BADGES}`)
    await expectSchema(INDEX)

    // The row Prisma wrote is kept and marked the way Prisma itself honours: finished, and rolled back.
    const rows = await prismaRows(db)
    const live = before.find((row) => row.migration_name === BADGES)!
    expect(rows).toEqual(before.map((row) => (row.id === live.id ? { ...row, rolled_back: true } : row)))

    const prismaStatus = await prisma.run(['migrate', 'status'])
    expect(prismaStatus.code).toBe(1)
    expect(prismaStatus.stdout).toMatch(new RegExp(`have not yet been applied:\\s+${BADGES}`))
    const ours = JSON.parse((await migrateKit('status', '--json')).stdout) as { migrations: Array<{ name: string; state: string }> }
    expect(ours.migrations.map(({ name, state }) => [name, state])).toEqual([
      [init, 'applied'],
      [BIO, 'applied'],
      [INDEX, 'applied'],
      [BADGES, 'rolled_back'],
    ])

    // Our own record: which files and checksums, who, from where.
    const [record] = await rollbackRecords()
    const rollbackText = readFileSync(project.path('rollbacks', BADGES, 'rollback.sql'))
    expect(record).toMatchObject({
      migration: BADGES,
      position: 1,
      prisma_migration_id: live.id,
      migration_checksum: live.checksum,
      migration_file_checksum: live.checksum,
      rollback_file: `rollbacks/${BADGES}/rollback.sql`,
      rollback_checksum: createHash('sha256').update(rollbackText).digest('hex'),
      os_user: os.userInfo().username,
      host: os.hostname(),
      database_user: 'postgres',
    })
    expect(record.pid).toEqual(expect.any(Number))
    expect(record.pid).not.toBe(process.pid)

    await deploy()
    await expectSchema(BADGES)
    expect((await prisma.run(['migrate', 'status'])).code).toBe(0)
    const again = JSON.parse((await migrateKit('status', '--json')).stdout) as { migrations: Array<{ name: string; state: string }> }
    expect(again.migrations.find((migration) => migration.name === BADGES)!.state).toBe('applied')
    expect(
      (await prismaRows(db)).filter((row) => row.migration_name === BADGES).map(({ finished, rolled_back }) => ({ finished, rolled_back })),
    ).toEqual([
      { finished: true, rolled_back: true },
      { finished: true, rolled_back: false },
    ])
  })

  test('--to reverts several in one transaction, newest first, executing exactly the statements the dry run printed', async () => {
    const dryRun = JSON.parse((await migrateKit('rollback', BADGES, '--to', BIO, '--dry-run', '--json')).stdout) as {
      migrations: Array<{ name: string; status: string }>
      actions: Array<{ kind: string; sql?: string }>
    }
    expect(dryRun.migrations.map(({ name, status }) => [name, status])).toEqual([
      [BADGES, 'planned'],
      [INDEX, 'planned'],
      [BIO, 'planned'],
    ])

    const client = new Client({ connectionString: db.url })
    await client.connect()
    try {
      const project_ = projectAt(project.root)
      await ensureState(client, ROLLBACK_STATE)
      const plan = await planRollback(client, project_, { migration: BADGES, to: BIO })
      const query = jest.spyOn(client, 'query')
      const run = await executeRollback(client, plan)
      expect(run.error).toBeUndefined()
      expect(run.results.map(({ migration, status }) => [migration, status])).toEqual([
        [BADGES, 'rolled_back'],
        [INDEX, 'rolled_back'],
        [BIO, 'rolled_back'],
      ])
      // Everything sent, minus the re-read of _prisma_migrations under the lock, is the dry run's list.
      const sent = query.mock.calls
        .map((call) => String(call[0]))
        .filter((sql) => !/_prisma_migrations'|FROM _prisma_migrations ORDER BY/.test(sql))
      expect(sent).toEqual(dryRun.actions.filter((action) => action.sql !== undefined).map((action) => action.sql))
      query.mockRestore()
    } finally {
      await client.end()
    }
    await expectSchema(init)
    const records = (await rollbackRecords()).slice(-3)
    expect(records.map((record) => [record.migration, record.position])).toEqual([
      [BADGES, 1],
      [INDEX, 2],
      [BIO, 3],
    ])
    expect(new Set(records.map((record) => record.run_id)).size).toBe(1)
    const prismaStatus = await prisma.run(['migrate', 'status'])
    expect(prismaStatus.stdout).toMatch(new RegExp(`have not yet been applied:\\s+${BIO}\\s+${INDEX}\\s+${BADGES}`))

    await deploy()
    await expectSchema(BADGES)
  })

  test('a failing statement rolls back the whole --to run: schema, _prisma_migrations and our records untouched; the error names file, line and caret', async () => {
    const file = project.path('rollbacks', INDEX, 'rollback.sql')
    const original = readFileSync(file, 'utf8')
    project.write(`rollbacks/${INDEX}/rollback.sql`, '-- the index was renamed by hand since\n\nDROP INDEX "no_such_index";\n')
    try {
      const rows = await prismaRows(db)
      const records = await rollbackRecords()
      const result = await migrateKit('rollback', BADGES, '--to', BIO, '--json')
      expect(result.code).toBe(1)
      // The rollback of badges ran first inside the transaction; it is undone with the rest.
      await expectSchema(BADGES)
      expect(await prismaRows(db)).toEqual(rows)
      expect(await rollbackRecords()).toEqual(records)
      expect(result.stderr).toContain(
        `error: rollbacks/${INDEX}/rollback.sql:3:1: PostgreSQL error 42704: index "no_such_index" does not exist`,
      )
      expect(result.stderr).toContain('  3 | DROP INDEX "no_such_index";\n    | ^')
      expect(result.stderr).toMatch(/Nothing was changed: the whole transaction was rolled back \(all 3 migrations of this run\)/)
      const json = JSON.parse(result.stdout) as {
        ok: boolean
        migrations: Array<{ name: string; status: string }>
        error: Record<string, unknown>
      }
      expect(json.ok).toBe(false)
      expect(json.migrations.map(({ name, status }) => [name, status])).toEqual([
        [BADGES, 'not_executed'],
        [INDEX, 'error'],
        [BIO, 'not_executed'],
      ])
      expect(json.error).toMatchObject({ file: `rollbacks/${INDEX}/rollback.sql`, line: 3, code: '42704' })
    } finally {
      project.write(`rollbacks/${INDEX}/rollback.sql`, original)
    }
  })

  test("PostgreSQL's error position becomes the line and column of the caret", async () => {
    const file = project.path('rollbacks', BADGES, 'rollback.sql')
    const original = readFileSync(file, 'utf8')
    const statement = 'UPDATE "badges"\n   SET "user_id" = no_such_function("user_id");'
    project.write(`rollbacks/${BADGES}/rollback.sql`, `${statement}\n${original}`)
    try {
      const result = await migrateKit('rollback', BADGES)
      expect(result.code).toBe(1)
      const line = 2
      const column = '   SET "user_id" = '.length + 1
      expect(result.stderr).toContain(
        `rollbacks/${BADGES}/rollback.sql:${line}:${column}: PostgreSQL error 42883: function no_such_function(integer) does not exist`,
      )
      expect(result.stderr).toContain(
        `  1 | UPDATE "badges"\n  2 |    SET "user_id" = no_such_function("user_id");\n    | ${' '.repeat(column - 1)}^`,
      )
      expect(result.stderr).toMatch(/hint: No function matches the given name and argument types/)
      await expectSchema(BADGES)
    } finally {
      project.write(`rollbacks/${BADGES}/rollback.sql`, original)
    }
  })

  test('never queues behind app traffic for long: a lock held by the app makes it give up after --lock-timeout', async () => {
    const app = await holding('BEGIN; LOCK TABLE "badges" IN ACCESS SHARE MODE')
    try {
      const started = Date.now()
      const result = await migrateKit('rollback', BADGES, '--lock-timeout', '300ms')
      expect(result.code).toBe(1)
      expect(result.stderr).toContain('PostgreSQL error 55P03: canceling statement due to lock timeout')
      expect(result.stderr).toMatch(/raise --lock-timeout/)
      expect(Date.now() - started).toBeLessThan(5_000)
    } finally {
      await app.query('ROLLBACK')
      await app.end()
    }
    await expectSchema(BADGES)
  })

  test("exits 4 while a `prisma migrate` command holds Prisma's lock", async () => {
    const other = await holding(`SELECT pg_advisory_lock(${PRISMA_MIGRATE_LOCK})`)
    try {
      const result = await migrateKit('rollback', BADGES)
      expect(result.code).toBe(4)
      expect(result.stderr).toMatch(/Prisma Migrate's lock on this database is held by another session/)
    } finally {
      await other.end()
    }
    await expectSchema(BADGES)
  })

  test('--accept-edited-migration rolls back an edited migration and records both checksums', async () => {
    const file = project.path('prisma', 'migrations', BADGES, 'migration.sql')
    project.write(`prisma/migrations/${BADGES}/migration.sql`, `${readFileSync(file, 'utf8')}-- a comment added after it ran\n`)
    const result = await migrateKit('rollback', BADGES, '--accept-edited-migration')
    expect(result.code).toBe(0)
    await expectSchema(INDEX)
    const record = (await rollbackRecords()).at(-1)!
    expect(record.migration_file_checksum).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'))
    expect(record.migration_checksum).not.toBe(record.migration_file_checksum)
    await deploy()
    await expectSchema(BADGES)
  })
})
