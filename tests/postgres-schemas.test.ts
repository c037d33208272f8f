import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
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
      files: {
        'prisma.config.ts': DEFAULT_PRISMA_CONFIG,
        'prisma/schema.prisma': DEFAULT_SCHEMA.replace('email String @unique', 'email String @unique\n  name  String?'),
      },
    })
    project.write(
      `prisma/migrations/${INIT}/migration.sql`,
      'CREATE TABLE "Customer" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL);\nCREATE UNIQUE INDEX "Customer_email_key" ON "Customer"("email");\n',
    )
    project.write(
      `prisma/migrations/${ADD_NAME}/migration.sql`,
      'SET lock_timeout = \'5s\';\nALTER TABLE "Customer" ADD COLUMN "name" TEXT;\n',
    )
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
    // Generating works on scratch databases only: schema app is made by the first deploy (status before it says pending).
    expect(await db.query(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'app'`)).toEqual([{ n: 0 }])
    expect((await run(['status'])).code).toBe(1)

    const deploy = await run(['deploy'])
    expect({ code: deploy.code, stderr: deploy.stderr }).toEqual({ code: 0, stderr: expect.any(String) })
    expect(
      await db.query(
        `SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`,
      ),
    ).toEqual([
      { table_schema: 'app', table_name: 'Customer' },
      { table_schema: 'app', table_name: '_prisma_migrations' },
    ])

    const status = await run(['status', '--json'])
    expect(status.code).toBe(0)
    expect((JSON.parse(status.stdout) as { migrations: Array<{ state: string }> }).migrations.map((m) => m.state)).toEqual([
      'applied',
      'applied',
    ])

    const check = await run(['check', '--json'])
    expect({ code: check.code, findings: (JSON.parse(check.stdout) as { findings: unknown[] }).findings }).toEqual({
      code: 0,
      findings: [],
    })

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
    expect(
      await db.query(`SELECT DISTINCT schemaname FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`),
    ).toEqual([{ schemaname: 'app' }, { schemaname: 'migrate_kit' }])
    // The state schema is not drift: check still has nothing to say.
    const checkAgain = await run(['check', '--json'])
    expect({ code: checkAgain.code, findings: (JSON.parse(checkAgain.stdout) as { findings: unknown[] }).findings }).toEqual({
      code: 0,
      findings: [],
    })

    const rollback = await run(['rollback', ADD_NAME])
    expect({ code: rollback.code, stderr: rollback.stderr }).toEqual({ code: 0, stderr: expect.any(String) })
    expect(
      await db.query(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = 'app' AND table_name = 'Customer' ORDER BY 1`,
      ),
    ).toEqual([{ column_name: 'email' }, { column_name: 'id' }])
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
      expect(result.stderr).toContain(
        `error: schema "ap" (?schema= in DATABASE_URL) does not exist in database "${db.name}" on 127.0.0.1:5432, whose Prisma migration history is in schema "app"`,
      )
    }
    expect(await db.query(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'ap'`)).toEqual([{ n: 0 }])
  }, 60_000)
})

// Prisma's multi-schema form: `schemas = ["app", "audit", "billing"]` and @@schema on each model, no ?schema=. Prisma's
// diff of two migration folders compares only the connection's default schema; rollbacks must cover all three.

const MULTI_SCHEMA = `datasource db {
  provider = "postgresql"
  schemas  = ["app", "audit", "billing"]
}

enum Level {
  info
  warn
  error
  @@schema("audit")
}

model Customer {
  id       Int       @id @default(autoincrement())
  email    String    @unique
  name     String?
  events   Event[]
  invoices Invoice[]
  @@schema("app")
}

model Event {
  id         Int      @id @default(autoincrement())
  level      Level
  customerId Int
  customer   Customer @relation(fields: [customerId], references: [id])
  @@index([customerId])
  @@schema("audit")
}

model Invoice {
  id         Int      @id @default(autoincrement())
  customerId Int
  customer   Customer @relation(fields: [customerId], references: [id])
  @@schema("billing")
}
`

// What `prisma migrate dev` writes for the schema above in two steps (billing, Invoice, Customer.name and 'error' second).
const MULTI_INIT_SQL = `-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "app";

-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "audit";

-- CreateEnum
CREATE TYPE "audit"."Level" AS ENUM ('info', 'warn');

-- CreateTable
CREATE TABLE "app"."Customer" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,

    CONSTRAINT "Customer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit"."Event" (
    "id" SERIAL NOT NULL,
    "level" "audit"."Level" NOT NULL,
    "customerId" INTEGER NOT NULL,

    CONSTRAINT "Event_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Customer_email_key" ON "app"."Customer"("email");

-- CreateIndex
CREATE INDEX "Event_customerId_idx" ON "audit"."Event"("customerId");

-- AddForeignKey
ALTER TABLE "audit"."Event" ADD CONSTRAINT "Event_customerId_fkey" FOREIGN KEY ("customerId") REFERENCES "app"."Customer"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
`

const MULTI_BILLING_SQL = `SET lock_timeout = '5s';

-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "billing";

-- AlterEnum
ALTER TYPE "audit"."Level" ADD VALUE 'error';

-- AlterTable
ALTER TABLE "app"."Customer" ADD COLUMN     "name" TEXT;

-- CreateTable
CREATE TABLE "billing"."Invoice" (
    "id" SERIAL NOT NULL,
    "customerId" INTEGER NOT NULL,

    CONSTRAINT "Invoice_pkey" PRIMARY KEY ("id")
);

-- AddForeignKey
ALTER TABLE "billing"."Invoice" ADD CONSTRAINT "Invoice_customerId_fkey" FOREIGN KEY ("customerId") REFERENCES "app"."Customer"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
`

const BILLING = '20261202090000_billing'

describe('schemas = [...] in the Prisma schema (packed package)', () => {
  let project: AdopterProject
  let db: TestDatabase

  beforeAll(async () => {
    project = await createAdopterProject({ files: { 'prisma.config.ts': DEFAULT_PRISMA_CONFIG, 'prisma/schema.prisma': MULTI_SCHEMA } })
    project.write(`prisma/migrations/${INIT}/migration.sql`, MULTI_INIT_SQL)
    project.write(`prisma/migrations/${BILLING}/migration.sql`, MULTI_BILLING_SQL)
    project.write('prisma/migrations/migration_lock.toml', 'provider = "postgresql"\n')
    db = await createTestDatabase('schemas_list')
  }, 300_000)

  afterAll(async () => {
    project?.remove()
    await db?.drop()
  })

  const run = (args: string[]) => project.bin('migrate-kit', args, { env: { DATABASE_URL: db.url } })
  const tables = () =>
    db.query(
      `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema', 'migrate_kit') ORDER BY 1, 2`,
    )
  const backfill = (name: string, table: string, update: string, extra = '') =>
    project.write(
      `backfills/${name}.ts`,
      `import { defineBackfill, sql } from 'prisma-migrate-kit'\n\nexport default defineBackfill({\n  name: '${name}',\n  table: '${table}',\n  key: 'id',\n  update: sql\`${update}\`,${extra}\n})\n`,
    )

  test('rollbacks cover every schema; deploy, check, backfills, rollback and verify-rollbacks act on each', async () => {
    const generate = await run(['rollbacks', 'generate'])
    expect({ code: generate.code, stderr: generate.stderr }).toEqual({ code: 0, stderr: '' })
    const initRollback = project.read(`rollbacks/${INIT}/rollback.sql`)
    const statements = (text: string) => text.split('\n').filter((line) => line !== '' && !line.startsWith('--'))
    expect(statements(initRollback)).toEqual([
      'ALTER TABLE "audit"."Event" DROP CONSTRAINT "Event_customerId_fkey";',
      'DROP TABLE "app"."Customer";',
      'DROP TABLE "audit"."Event";',
      'DROP TYPE "audit"."Level";',
      'DROP SCHEMA IF EXISTS app;',
      'DROP SCHEMA IF EXISTS audit;',
    ])
    expect(initRollback).toContain(
      "REPAIRED: DROP SCHEMA IF EXISTS app added at the end: the migration creates schema app (absent before it) and\n--   Prisma's diff never drops a schema.",
    )
    expect(initRollback).not.toMatch(/REVIEW|Prisma found no schema difference/)
    const billingRollback = project.read(`rollbacks/${BILLING}/rollback.sql`)
    expect(statements(billingRollback)).toEqual(
      expect.arrayContaining([
        'ALTER TABLE "billing"."Invoice" DROP CONSTRAINT "Invoice_customerId_fkey";',
        'ALTER TABLE "app"."Customer" DROP COLUMN "name";',
        'DROP TABLE "billing"."Invoice";',
        `CREATE TYPE "audit"."Level_new" AS ENUM ('info', 'warn');`,
        'DROP SCHEMA IF EXISTS billing;',
      ]),
    )
    expect(billingRollback).not.toMatch(/REVIEW/)

    const deploy = await run(['deploy'])
    expect({ code: deploy.code, stderr: deploy.stderr }).toEqual({ code: 0, stderr: expect.any(String) })
    expect(await tables()).toEqual([
      { schema: 'app', name: 'Customer' },
      { schema: 'audit', name: 'Event' },
      { schema: 'billing', name: 'Invoice' },
      { schema: 'public', name: '_prisma_migrations' },
    ])
    expect((await run(['status'])).code).toBe(0)
    const check = await run(['check', '--json'])
    expect({ code: check.code, findings: (JSON.parse(check.stdout) as { findings: unknown[] }).findings }).toEqual({
      code: 0,
      findings: [],
    })

    // Drift in a schema other than the default one is drift.
    await db.query(`ALTER TABLE audit."Event" ADD COLUMN "note" TEXT`)
    const drifted = await run(['check'])
    expect({
      code: drifted.code,
      drift: /schema-drift error[\s\S]*Changed the `Event` table[\s\S]*Added column `note`/.test(drifted.stdout),
    }).toEqual({ code: 1, drift: true })
    await db.query(`ALTER TABLE audit."Event" DROP COLUMN "note"`)

    // Backfills: a qualified name, and a bare model name found in the one schema that has it.
    await db.query(`INSERT INTO app."Customer" ("email") SELECT 'c' || n || '@example.com' FROM generate_series(1, 60) AS n`)
    await db.query(`INSERT INTO audit."Event" ("level", "customerId") SELECT 'info', n FROM generate_series(1, 60) AS n`)
    backfill('event_levels', 'audit.Event', `"level" = 'warn'`, "\n  snapshot: ['level'],")
    backfill('customer_names', 'Customer', `"name" = split_part("email", '@', 1)`)
    for (const name of ['event_levels', 'customer_names']) {
      const result = await run(['backfill', 'run', name, '--batch-size', '25'])
      expect({ name, code: result.code }).toEqual({ name, code: 0 })
    }
    expect(await db.query(`SELECT count(*)::int AS n FROM audit."Event" WHERE "level" = 'warn'`)).toEqual([{ n: 60 }])
    expect(await db.query(`SELECT count(*)::int AS n FROM app."Customer" WHERE "name" = split_part("email", '@', 1)`)).toEqual([{ n: 60 }])
    expect(JSON.parse((await run(['backfill', 'status', 'event_levels', '--json'])).stdout)).toMatchObject({
      status: 'done',
      rowsDone: 60,
      snapshotRows: 60,
    })
    // Its snapshot (old values in migrate_kit) is deleted on purpose only: never-restored rows need --force.
    expect((await run(['backfill', 'purge', 'event_levels'])).code).toBe(2)
    const purged = await run(['backfill', 'purge', 'event_levels', '--force'])
    expect({ code: purged.code, stdout: purged.stdout }).toEqual({
      code: 0,
      stdout: expect.stringMatching(/^Deleted the snapshot of event_levels: 60 rows/),
    })

    // A bare name two schemas hold is refused, naming both; nothing is touched.
    await db.query(`CREATE TABLE audit."Customer" ("id" INT PRIMARY KEY, "email" TEXT, "name" TEXT)`)
    const ambiguous = await run(['backfill', 'run', 'customer_names', '--restart'])
    expect({ code: ambiguous.code, stdout: ambiguous.stdout }).toEqual({ code: 2, stdout: '' })
    expect(ambiguous.stderr).toContain(
      `table "Customer" is in more than one schema (app, audit): name the one meant (Write the schema with it: table: 'app.Customer' or table: 'audit.Customer')`,
    )
    await db.query(`DROP TABLE audit."Customer"`)

    // The backup command a rollback's warning gives runs as written and dumps the mixed-case table of its schema.
    const header = project.read(`rollbacks/${INIT}/rollback.sql`).replace(/\n--\s+/g, ' ')
    const backup = /back it up first: (pg_dump --data-only --table='"app"\."Customer"' "\$DATABASE_URL" > Customer\.sql)/.exec(header)
    expect(backup).not.toBeNull()
    const dumped = spawnSync('bash', ['-c', backup![1]], {
      cwd: project.root,
      env: { ...process.env, DATABASE_URL: db.url },
      encoding: 'utf8',
    })
    expect({ status: dumped.status, stderr: dumped.stderr }).toEqual({ status: 0, stderr: '' })
    expect(project.read('Customer.sql')).toMatch(/^COPY app\."Customer" \(id, email, name\) FROM stdin;$/m)

    // Our state is in migrate_kit only, and not drift.
    expect(
      await db.query(`SELECT DISTINCT schemaname FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`),
    ).toEqual([
      { schemaname: 'app' },
      { schemaname: 'audit' },
      { schemaname: 'billing' },
      { schemaname: 'migrate_kit' },
      { schemaname: 'public' },
    ])
    const checkAgain = await run(['check', '--json'])
    expect({ code: checkAgain.code, findings: (JSON.parse(checkAgain.stdout) as { findings: unknown[] }).findings }).toEqual({
      code: 0,
      findings: [],
    })
    expect((await run(['plan'])).code).toBe(0)
    // State of a backfill no longer wanted goes from migrate_kit only.
    const forgot = await run(['backfill', 'forget', 'customer_names'])
    expect({ code: forgot.code, stdout: forgot.stdout }).toEqual({
      code: 0,
      stdout: expect.stringMatching(/^Forgot backfill customer_names \(it was done\)/),
    })
    expect(await db.query(`SELECT name FROM migrate_kit.backfills ORDER BY 1`)).toEqual([{ name: 'event_levels' }])

    // Rolling back the billing migration empties rows the enum's rollback cannot keep first.
    await db.query(`UPDATE audit."Event" SET "level" = 'info'`)
    const rollback = await run(['rollback', BILLING])
    expect({ code: rollback.code, stderr: rollback.stderr }).toEqual({ code: 0, stderr: expect.any(String) })
    expect(await tables()).toEqual([
      { schema: 'app', name: 'Customer' },
      { schema: 'audit', name: 'Event' },
      { schema: 'public', name: '_prisma_migrations' },
    ])
    expect(await db.query(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'billing'`)).toEqual([{ n: 0 }])
    expect(await db.query(`SELECT enum_range(NULL::audit."Level")::text AS levels`)).toEqual([{ levels: '{info,warn}' }])
    const redeploy = await run(['deploy'])
    expect(redeploy.code).toBe(0)

    const verify = await run(['verify-rollbacks'])
    expect({ code: verify.code, failed: verify.stdout.match(/^FAILED.*$/gm) }).toEqual({ code: 0, failed: null })
    expect(verify.stdout).toContain('2 rollbacks verified: 2 ok')

    // migrate-kit new on a schema change outside the default schema: Prisma's migration, and its whole inverse.
    project.write('prisma/schema.prisma', MULTI_SCHEMA.replace('  level      Level\n', '  level      Level\n  note       String?\n'))
    const unmigrated = await run(['check', '--json'])
    expect({
      code: unmigrated.code,
      rules: (JSON.parse(unmigrated.stdout) as { findings: Array<{ rule: string; message: string }> }).findings.map((f) => f.rule),
    }).toEqual({
      code: 1,
      rules: ['schema-without-migration'],
    })
    expect(unmigrated.stdout).toMatch(/Added column `note`/)
    const created = await run(['new', 'event_note'])
    expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: expect.any(String) })
    const noteMigration = readdirSync(project.path('prisma', 'migrations')).find((name) => name.endsWith('_event_note'))!
    expect(project.read(`prisma/migrations/${noteMigration}/migration.sql`)).toContain(
      'ALTER TABLE "audit"."Event" ADD COLUMN     "note" TEXT;',
    )
    const noteRollback = project.read(`rollbacks/${noteMigration}/rollback.sql`)
    expect(statements(noteRollback)).toEqual(['ALTER TABLE "audit"."Event" DROP COLUMN "note";'])
    expect(noteRollback).not.toMatch(/REVIEW|Prisma found no schema difference/)
  }, 300_000)
})
