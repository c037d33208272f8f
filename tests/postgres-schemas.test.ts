import { createAdopterProject, DEFAULT_PRISMA_CONFIG, DEFAULT_SCHEMA, type AdopterProject } from './helpers/adopter'
import { createTestDatabase, type TestDatabase } from './helpers/database'

// Teams that keep their tables outside `public`: `?schema=app` in the URL. Every command must act on that schema
// (Prisma's own _prisma_migrations lives there too), and migrate-kit's state stays in schema migrate_kit.

const INIT = '20261201090000_init'
const ADD_NAME = '20261202090000_add_name'

describe('?schema=app in DATABASE_URL (packed package)', () => {
  let project: AdopterProject
  let db: TestDatabase
  let url: string

  beforeAll(async () => {
    project = await createAdopterProject({
      files: { 'prisma.config.ts': DEFAULT_PRISMA_CONFIG, 'prisma/schema.prisma': DEFAULT_SCHEMA.replace('email String @unique', 'email String @unique\n  name  String?') },
    })
    project.write(`prisma/migrations/${INIT}/migration.sql`, 'CREATE TABLE "Customer" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL);\nCREATE UNIQUE INDEX "Customer_email_key" ON "Customer"("email");\n')
    project.write(`prisma/migrations/${ADD_NAME}/migration.sql`, 'SET lock_timeout = \'5s\';\nALTER TABLE "Customer" ADD COLUMN "name" TEXT;\n')
    project.write('prisma/migrations/migration_lock.toml', 'provider = "postgresql"\n')
    db = await createTestDatabase('schema_in_url')
    url = `${db.url}?schema=app`
  }, 300_000)

  afterAll(async () => {
    project?.remove()
    await db?.drop()
  })

  const run = (args: string[]) => project.bin('migrate-kit', args, { env: { DATABASE_URL: url } })

  test('rollbacks generate, deploy, status, check, rollback and verify-rollbacks act on schema app', async () => {
    const generate = await run(['rollbacks', 'generate'])
    expect({ code: generate.code, stderr: generate.stderr }).toEqual({ code: 0, stderr: '' })
    expect(project.read(`rollbacks/${ADD_NAME}/rollback.sql`)).toMatch(/ALTER TABLE "app"\."Customer" DROP COLUMN "name";/)

    const deploy = await run(['deploy'])
    expect({ code: deploy.code, stderr: deploy.stderr }).toEqual({ code: 0, stderr: expect.any(String) })
    expect(await db.query(`SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`)).toEqual([
      { table_schema: 'app', table_name: 'Customer' },
      { table_schema: 'app', table_name: '_prisma_migrations' },
    ])

    const status = await run(['status', '--json'])
    expect(status.code).toBe(0)
    expect((JSON.parse(status.stdout) as { migrations: Array<{ state: string }> }).migrations.map((m) => m.state)).toEqual(['applied', 'applied'])

    const check = await run(['check', '--json'])
    expect({ code: check.code, findings: (JSON.parse(check.stdout) as { findings: unknown[] }).findings }).toEqual({ code: 0, findings: [] })

    // A backfill over "Customer" finds it in app; its state goes to migrate_kit, nothing to public.
    await db.query(`INSERT INTO app."Customer" ("email") SELECT 'c' || n || '@example.com' FROM generate_series(1, 120) AS n`)
    project.write(
      'backfills/customer_names.ts',
      `import { defineBackfill, sql } from 'prisma-migrate-kit'\n\nexport default defineBackfill({\n  name: 'customer_names',\n  table: 'Customer',\n  key: 'id',\n  update: sql\`"name" = split_part("email", '@', 1)\`,\n  where: sql\`"name" IS NULL\`,\n  verify: sql\`SELECT id FROM "Customer" WHERE "name" IS NULL\`,\n})\n`,
    )
    const backfill = await run(['backfill', 'run', 'customer_names', '--batch-size', '50'])
    expect({ code: backfill.code, stderr: backfill.stderr }).toEqual({ code: 0, stderr: expect.stringContaining('customer_names') })
    expect(await db.query(`SELECT count(*)::int AS n FROM app."Customer" WHERE "name" = split_part("email", '@', 1)`)).toEqual([{ n: 120 }])
    const plan = await run(['plan'])
    expect(plan.code).toBe(0)
    const backfillStatus = await run(['backfill', 'status', 'customer_names', '--json'])
    expect(JSON.parse(backfillStatus.stdout)).toMatchObject({ name: 'customer_names', status: 'done', rowsDone: 120 })
    expect(await db.query(`SELECT DISTINCT schemaname FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`)).toEqual([
      { schemaname: 'app' },
      { schemaname: 'migrate_kit' },
    ])
    // The state schema is not drift: check still has nothing to say.
    const checkAgain = await run(['check', '--json'])
    expect({ code: checkAgain.code, findings: (JSON.parse(checkAgain.stdout) as { findings: unknown[] }).findings }).toEqual({ code: 0, findings: [] })

    const rollback = await run(['rollback', ADD_NAME])
    expect({ code: rollback.code, stderr: rollback.stderr }).toEqual({ code: 0, stderr: expect.any(String) })
    expect(await db.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'app' AND table_name = 'Customer' ORDER BY 1`)).toEqual([
      { column_name: 'email' },
      { column_name: 'id' },
    ])
    expect(await db.query(`SELECT nspname FROM pg_namespace WHERE nspname IN ('public', 'app', 'migrate_kit') ORDER BY 1`)).toEqual([
      { nspname: 'app' },
      { nspname: 'migrate_kit' },
      { nspname: 'public' },
    ])
    expect(await db.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`)).toEqual([{ n: 0 }])

    const verify = await run(['verify-rollbacks'])
    expect({ code: verify.code, failed: verify.stdout.match(/^FAILED.*$/gm) }).toEqual({ code: 0, failed: null })
    expect(verify.stdout).toContain('2 rollbacks verified')
  }, 240_000)

  test('a ?schema= that does not exist while the history is in another schema is refused (exit 2), creating nothing', async () => {
    const typo = `${db.url}?schema=ap`
    for (const args of [['status'], ['deploy'], ['rollbacks', 'generate', '--force']]) {
      const result = await project.bin('migrate-kit', args, { env: { DATABASE_URL: typo } })
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 2, stdout: '' })
      expect(result.stderr).toContain(`error: schema "ap" (?schema= in DATABASE_URL) does not exist in database "${db.name}" on 127.0.0.1:5432, whose Prisma migration history is in schema "app"`)
    }
    expect(await db.query(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'ap'`)).toEqual([{ n: 0 }])
  }, 60_000)
})
