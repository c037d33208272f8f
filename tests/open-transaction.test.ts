import { createAdopterProject, type AdopterProject } from './helpers/adopter'
import { createTestDatabase } from './helpers/database'

// A migration.sql that opens a transaction and never closes it must fail, not "apply": the offline engine rolls it
// back and records the migration as failed, as Prisma's native engine does (P3018 with the migration's name).

const INIT = '20261201090000_init'
const SECOND = '20261202090000_second'

describe('a migration whose script manages its own transaction, deployed through the offline engine', () => {
  let project: AdopterProject

  beforeAll(async () => {
    project = await createAdopterProject()
    project.write(`prisma/migrations/${INIT}/migration.sql`, 'CREATE TABLE "Customer" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL);\n')
    project.write('prisma/migrations/migration_lock.toml', 'provider = "postgresql"\n')
  }, 300_000)

  afterAll(() => project?.remove())

  const cases = [
    {
      title: 'BEGIN with no COMMIT',
      script: 'BEGIN;\nCREATE TABLE second_table (id int);\n',
      error: /left a transaction open \(a BEGIN with no COMMIT\)/,
    },
    {
      title: 'an error inside BEGIN, no COMMIT',
      script: 'BEGIN;\nCREATE TABLE second_table (id int);\nSELECT 1/0;\n',
      error: /division by zero/,
    },
  ]

  test.each(cases)(
    '$title: deploy exits 1 naming the migration, nothing is left, status says failed',
    async ({ script, error }) => {
      const db = await createTestDatabase('open_transaction')
      try {
        project.write(`prisma/migrations/${SECOND}/migration.sql`, script)
        const env = { DATABASE_URL: db.url }
        const deploy = await project.bin('migrate-kit', ['deploy'], { env })
        expect(deploy.code).toBe(1)
        expect(deploy.stdout + deploy.stderr).toContain(SECOND)
        expect(deploy.stdout + deploy.stderr).toMatch(error)
        expect(
          await db.query(`SELECT to_regclass('second_table') IS NULL AS gone, to_regclass('"Customer"') IS NOT NULL AS first`),
        ).toEqual([{ gone: true, first: true }])
        const rows = await db.query<{ migration_name: string; finished: boolean }>(
          'SELECT migration_name, finished_at IS NOT NULL AS finished FROM _prisma_migrations ORDER BY migration_name',
        )
        expect(rows).toEqual([
          { migration_name: INIT, finished: true },
          { migration_name: SECOND, finished: false },
        ])
        const status = await project.bin('migrate-kit', ['status', '--json'], { env })
        expect(status.code).toBe(1)
        expect(
          (JSON.parse(status.stdout) as { migrations: Array<{ name: string; state: string }> }).migrations.map(({ name, state }) => [
            name,
            state,
          ]),
        ).toEqual([
          [INIT, 'applied'],
          [SECOND, 'failed'],
        ])
      } finally {
        await db.drop()
      }
    },
    120_000,
  )

  // A migration that fails half-way leaves nothing of its first half, whatever that half did.
  const halfWay: Array<{ kind: string; sql: string; left: string }> = [
    { kind: 'CREATE TABLE', sql: 'CREATE TABLE half_a (id int);', left: `SELECT to_regclass('half_a') IS NOT NULL AS left` },
    {
      kind: 'ALTER TABLE ADD COLUMN',
      sql: 'ALTER TABLE "Customer" ADD COLUMN nickname text;',
      left: `SELECT count(*) > 0 AS left FROM information_schema.columns WHERE column_name = 'nickname'`,
    },
    {
      kind: 'CREATE INDEX',
      sql: 'CREATE INDEX half_idx ON "Customer" (email);',
      left: `SELECT to_regclass('half_idx') IS NOT NULL AS left`,
    },
    {
      kind: 'CREATE TYPE (enum)',
      sql: "CREATE TYPE half_mood AS ENUM ('ok', 'not; ok');",
      left: `SELECT count(*) > 0 AS left FROM pg_type WHERE typname = 'half_mood'`,
    },
    {
      kind: 'INSERT',
      sql: `INSERT INTO "Customer" (email) VALUES ('half@example.com');`,
      left: `SELECT count(*) > 0 AS left FROM "Customer"`,
    },
    {
      kind: 'CREATE FUNCTION ($$ body with ;)',
      sql: 'CREATE FUNCTION half_fn() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql;',
      left: `SELECT count(*) > 0 AS left FROM pg_proc WHERE proname = 'half_fn'`,
    },
  ]

  test.each(halfWay)(
    '$kind then a failing statement: deploy exits 1 and nothing of it is left',
    async ({ sql, left }) => {
      const db = await createTestDatabase('half_way')
      try {
        project.write(`prisma/migrations/${SECOND}/migration.sql`, `${sql}\nSELECT 1/0;\nCREATE TABLE half_b (id int);\n`)
        const deploy = await project.bin('migrate-kit', ['deploy'], { env: { DATABASE_URL: db.url } })
        expect(deploy.code).toBe(1)
        expect(deploy.stdout + deploy.stderr).toMatch(/division by zero/)
        expect(await db.query(left)).toEqual([{ left: false }])
        expect(await db.query(`SELECT to_regclass('half_b') IS NULL AS none`)).toEqual([{ none: true }])
      } finally {
        await db.drop()
      }
    },
    120_000,
  )

  test('a script that closes its own transaction still applies (the check is on the session, not on the words)', async () => {
    const db = await createTestDatabase('closed_transaction')
    try {
      project.write(`prisma/migrations/${SECOND}/migration.sql`, 'BEGIN;\nCREATE TABLE second_table (id int);\nCOMMIT;\n')
      const deploy = await project.bin('migrate-kit', ['deploy'], { env: { DATABASE_URL: db.url } })
      expect(deploy.code).toBe(0)
      expect(await db.query(`SELECT to_regclass('second_table') IS NOT NULL AS made`)).toEqual([{ made: true }])
    } finally {
      await db.drop()
    }
  }, 120_000)
})
