import { existsSync, readdirSync, rmSync } from 'node:fs'
import { createAdopterProject, DEFAULT_PRISMA_CONFIG, DEFAULT_SCHEMA, type AdopterProject } from './helpers/adopter'
import { createTestDatabase, type TestDatabase } from './helpers/database'

// A user's project whose prisma.config.ts moves everything: the schema is a folder of .prisma files under db/, the
// migrations are in db/migrations. The toolkit must read both from the config, from any subfolder.

const DB_CONFIG = `import 'dotenv/config'
import { defineConfig, env } from 'prisma/config'

export default defineConfig({
  schema: 'db/schema',
  migrations: { path: 'db/migrations' },
  datasource: { url: env('DATABASE_URL') },
})
`

const DATASOURCE = `datasource db {
  provider = "postgresql"
}
`

const CUSTOMER = `model Customer {
  id    Int    @id @default(autoincrement())
  email String @unique
}
`

const ORDER_MODEL = `model Order {
  id         Int @id @default(autoincrement())
  customerId Int
  total      Int
}
`

// A join-table model keyed by two columns (Prisma's @@id): backfills walk it by that composite key.
const ORDER_LINE_MODEL = `model OrderLine {
  orderId  Int
  lineNo   Int
  quantity Int
  cents    Int?

  @@id([orderId, lineNo])
}
`

const INIT_SQL = `-- CreateTable
CREATE TABLE "Customer" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,

    CONSTRAINT "Customer_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Customer_email_key" ON "Customer"("email");
`

const INIT = '20261201090000_init'

function migrationFolders(project: AdopterProject, relative: string): string[] {
  const dir = project.path(relative)
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((entry) => entry !== 'migration_lock.toml')
        .sort()
    : []
}

interface StatusJson {
  migrations: Array<{ name: string; state: string; rollback: string }>
}

describe('a project whose prisma.config.ts puts a multi-file schema and the migrations under db/', () => {
  let project: AdopterProject
  let db: TestDatabase
  const env = () => ({ DATABASE_URL: db.url })

  beforeAll(async () => {
    project = await createAdopterProject({
      files: {
        'prisma.config.ts': DB_CONFIG,
        'db/schema/datasource.prisma': DATASOURCE,
        'db/schema/customer.prisma': CUSTOMER,
        [`db/migrations/${INIT}/migration.sql`]: INIT_SQL,
        'db/migrations/migration_lock.toml': 'provider = "postgresql"\n',
        'src/app/index.ts': 'export {}\n',
      },
    })
    db = await createTestDatabase('adopter_config')
  }, 300_000)

  afterAll(async () => {
    project?.remove()
    await db?.drop()
  })

  test('status lists the migrations of db/migrations, from the root and from a subfolder alike', async () => {
    for (const cwd of [project.root, project.path('src', 'app')]) {
      const status = await project.bin('migrate-kit', ['status', '--json'], { cwd, env: env() })
      expect(status.stderr).not.toMatch(/error/)
      const json = JSON.parse(status.stdout) as StatusJson
      expect(json.migrations.map(({ name, state }) => ({ name, state }))).toEqual([{ name: INIT, state: 'pending' }])
    }
    // The subfolder was not taken for a project: nothing was created there.
    expect(readdirSync(project.path('src', 'app'))).toEqual(['index.ts'])
  })

  test('rollbacks generate writes the pair into rollbacks/ at the project root, run from a subfolder', async () => {
    const generated = await project.bin('migrate-kit', ['rollbacks', 'generate'], { cwd: project.path('src'), env: env() })
    expect(generated.code).toBe(0)
    expect(project.read(`rollbacks/${INIT}/rollback.sql`)).toMatch(/DROP TABLE "public"\."Customer"/)
    expect(existsSync(project.path('src', 'rollbacks'))).toBe(false)
  })

  test('deploy applies db/migrations to the database, and status then says applied', async () => {
    const deploy = await project.bin('migrate-kit', ['deploy'], { cwd: project.path('src', 'app'), env: env() })
    expect(deploy.code).toBe(0)
    expect(await db.query(`SELECT count(*)::int AS n FROM "Customer"`)).toEqual([{ n: 0 }])
    const applied = await db.query<{ migration_name: string }>(
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL',
    )
    expect(applied.map((row) => row.migration_name)).toEqual([INIT])

    const status = await project.bin('migrate-kit', ['status', '--json'], { env: env() })
    expect(status.code).toBe(0)
    expect((JSON.parse(status.stdout) as StatusJson).migrations).toEqual([
      expect.objectContaining({ name: INIT, state: 'applied', rollback: 'present' }),
    ])
  })

  test("`migrate-kit prisma` from a subfolder runs Prisma on the project's config", async () => {
    const status = await project.bin('migrate-kit', ['prisma', 'migrate', 'status'], { cwd: project.path('src', 'app'), env: env() })
    // Run after deploy: Prisma read the schema folder and found the one migration of db/migrations, applied.
    expect(status.stdout + status.stderr).toContain('Prisma schema loaded from db/schema')
    expect(status.stdout).toMatch(/1 migration found in [^]*Database schema is up to date/)
    expect(status.code).toBe(0)
  })

  test('check reads the multi-file schema and db/migrations: no drift, pairs complete', async () => {
    const check = await project.bin('migrate-kit', ['check', '--json'], { cwd: project.path('src'), env: env() })
    const report = JSON.parse(check.stdout) as { ok: boolean; findings: Array<{ rule: string; message: string }> }
    expect(report.findings).toEqual([])
    expect(report.ok).toBe(true)
    expect(check.code).toBe(0)
  })

  test('check finds drift in the database, an edited migration and a missing pair, naming files under db/', async () => {
    const rollback = project.read(`rollbacks/${INIT}/rollback.sql`)
    await db.query('ALTER TABLE "Customer" ADD COLUMN "nickname" TEXT')
    project.write(`db/migrations/${INIT}/migration.sql`, `${INIT_SQL}-- edited after it was applied\n`)
    rmSync(project.path('rollbacks', INIT), { recursive: true })
    try {
      const check = await project.bin('migrate-kit', ['check', '--json'], { cwd: project.path('src'), env: env() })
      const report = JSON.parse(check.stdout) as { ok: boolean; findings: Array<{ rule: string; file: string; message: string }> }
      expect(report.ok).toBe(false)
      expect(check.code).toBe(1)
      const byRule = new Map(report.findings.map((finding) => [finding.rule, finding]))
      expect(byRule.get('schema-drift')?.message).toMatch(/nickname/)
      expect(byRule.get('migration-edited')?.file).toBe(`db/migrations/${INIT}/migration.sql`)
      expect(byRule.get('rollback-missing')).toMatchObject({
        file: `db/migrations/${INIT}/migration.sql`,
        message: expect.stringContaining(`rollbacks/${INIT}/rollback.sql`),
      })
    } finally {
      await db.query('ALTER TABLE "Customer" DROP COLUMN "nickname"')
      project.write(`db/migrations/${INIT}/migration.sql`, INIT_SQL)
      project.write(`rollbacks/${INIT}/rollback.sql`, rollback)
    }
  })
})

describe('a configuration that cannot be read is refused with exit 2, naming the file and the problem', () => {
  const cases: Array<{ title: string; files: Record<string, string>; args?: string[]; message: RegExp }> = [
    {
      title: 'a syntax error in prisma.config.ts',
      files: { 'prisma.config.ts': `${DEFAULT_PRISMA_CONFIG}\nexport const broken = (\n`, 'prisma/schema.prisma': DEFAULT_SCHEMA },
      message: /cannot read the Prisma config .*prisma\.config\.ts/,
    },
    {
      title: 'a `schema` that does not exist',
      files: { 'prisma.config.ts': DB_CONFIG.replace("'db/schema'", "'db/missing.prisma'"), 'db/migrations/.keep': '' },
      message: /`schema` in .*prisma\.config\.ts: the schema .*db\/missing\.prisma does not exist/,
    },
    {
      title: 'a `migrations.path` that does not exist',
      files: { 'prisma.config.ts': DB_CONFIG, 'db/schema/datasource.prisma': DATASOURCE, 'db/schema/customer.prisma': CUSTOMER },
      message: /`migrations\.path` in .*prisma\.config\.ts: the folder .*db\/migrations does not exist/,
    },
    {
      title: 'a config pointing at an empty folder while prisma/migrations holds the history',
      files: {
        'prisma.config.ts': DB_CONFIG,
        'db/schema/datasource.prisma': DATASOURCE,
        'db/migrations/.keep': '',
        [`prisma/migrations/${INIT}/migration.sql`]: INIT_SQL,
      },
      message: /db\/migrations holds no migration, but .*prisma\/migrations holds 1/,
    },
    {
      title: '--config naming a file that does not exist',
      files: { 'prisma.config.ts': DEFAULT_PRISMA_CONFIG, 'prisma/schema.prisma': DEFAULT_SCHEMA },
      args: ['--config', 'other.config.ts'],
      message: /--config other\.config\.ts: .*other\.config\.ts does not exist/,
    },
  ]

  test.each(cases.map((item, index) => ({ ...item, commands: index === 0 ? [['status'], ['deploy'], ['lint']] : [['deploy']] })))(
    '$title',
    async ({ files, args, message, commands }) => {
      // Every command reads the project through one loader: the first case proves that on three, the others on deploy.
      const project = await createAdopterProject({ files })
      try {
        for (const command of commands) {
          const result = await project.bin('migrate-kit', [...command, ...(args ?? [])], {
            env: { DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/never' },
          })
          expect({ command, code: result.code }).toEqual({ command, code: 2 })
          expect(result.stderr).toMatch(message)
          expect(result.stdout).toBe('')
        }
        // Nothing was made: no embedded database, no state folder.
        expect(existsSync(project.path('.migrate-kit'))).toBe(false)
      } finally {
        project.remove()
      }
    },
    120_000,
  )
})

describe('every command on a project that starts with no migrations, a multi-file schema and its folders moved', () => {
  // prisma.config.ts in .config/ (one of the places Prisma looks), the schema a folder, migrations under db/, and
  // our folders moved in package.json's "migrateKit". Every command runs from src/.
  let project: AdopterProject
  let db: TestDatabase
  const run = (args: string[]) => project.bin('migrate-kit', args, { cwd: project.path('src'), env: { DATABASE_URL: db.url } })
  const migrations = () => migrationFolders(project, 'db/migrations')

  beforeAll(async () => {
    project = await createAdopterProject({
      files: {
        '.config/prisma.ts': DB_CONFIG.replace("'db/schema'", "'../db/schema'").replace("'db/migrations'", "'../db/migrations'"),
        'db/schema/datasource.prisma': DATASOURCE,
        'db/schema/customer.prisma': CUSTOMER,
        'src/index.ts': 'export {}\n',
      },
    })
    const manifest = JSON.parse(project.read('package.json')) as Record<string, unknown>
    project.write(
      'package.json',
      JSON.stringify({ ...manifest, migrateKit: { rollbacks: 'db/rollbacks', backfills: 'db/backfills' } }, null, 2),
    )
    db = await createTestDatabase('adopter_every_command')
  }, 300_000)

  afterAll(async () => {
    project?.remove()
    await db?.drop()
  })

  test('new writes the first migration into db/migrations and its pair into db/rollbacks; with no change, nothing', async () => {
    const first = await run(['new', 'init'])
    expect(first.stderr).not.toMatch(/error/)
    expect(first.code).toBe(0)
    expect(migrations()).toHaveLength(1)
    const [init] = migrations()
    expect(first.stdout).toContain(`Prisma wrote db/migrations/${init}/migration.sql`)
    expect(first.stdout).toContain(`Wrote db/rollbacks/${init}/rollback.sql`)
    expect(project.read(`db/migrations/${init}/migration.sql`)).toMatch(/CREATE TABLE "Customer"/)
    expect(project.read(`db/rollbacks/${init}/rollback.sql`)).toMatch(/DROP TABLE "public"\."Customer"/)

    const again = await run(['new', 'nothing_changed'])
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/^No schema change: db\/schema matches the migrations/)
    expect(migrations()).toEqual([init])
    expect(readdirSync(project.path('db', 'rollbacks'))).toEqual([init])
    expect(existsSync(project.path('rollbacks'))).toBe(false)
  })

  test('a model added in a second schema file: new, lint, plan and deploy all see it', async () => {
    project.write('db/schema/order.prisma', `${ORDER_MODEL}\n${ORDER_LINE_MODEL}`)
    const created = await run(['new', 'add_order'])
    expect(created.code).toBe(0)
    const added = migrations()[1]
    expect(added).toMatch(/_add_order$/)
    expect(project.read(`db/migrations/${added}/migration.sql`)).toMatch(/CREATE TABLE "Order"/)

    const lint = await run(['lint', '--json', `../db/migrations/${added}`])
    expect(lint.code).toBe(0)
    expect((JSON.parse(lint.stdout) as { phases: Array<{ migration: string }> }).phases).toEqual([
      expect.objectContaining({ migration: added }),
    ])

    // `new` had Prisma apply init to the development database first (migrate dev does): add_order is what is left.
    const plan = await run(['plan'])
    expect(plan.code).toBe(0)
    expect(plan.stdout).toMatch(new RegExp(`Plan: 1 migration to apply[^]*${added}`))

    const deploy = await run(['deploy'])
    expect(deploy.code).toBe(0)
    const applied = await db.query<{ migration_name: string }>(
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY migration_name',
    )
    expect(applied.map((row) => row.migration_name)).toEqual(migrations())
  })

  test('the installed package lints a file for CI (SARIF) with the table sizes of the database named for them', async () => {
    project.write('src/index_order.sql', `SET lock_timeout = '5s';\nCREATE INDEX "Order_total_idx" ON "Order"("total");\n`)
    const sarif = await run(['lint', 'index_order.sql', '--format', 'sarif', '--sizes-from', db.url])
    expect(sarif.code).toBe(0)
    expect(sarif.stderr).toMatch(/Table sizes and PostgreSQL \d+ from /)
    const log = JSON.parse(sarif.stdout) as {
      version: string
      runs: Array<{ results: Array<{ ruleId: string; level: string; message: { text: string } }> }>
    }
    expect(log.version).toBe('2.1.0')
    // "Order" is empty here: a small table, so the index build is a warning that says so (exit 0).
    expect(log.runs[0].results).toEqual([
      expect.objectContaining({
        ruleId: 'require-concurrent-index-creation',
        level: 'warning',
        message: { text: expect.stringContaining('small table') },
      }),
    ])
  })

  test('a backfill in db/backfills runs against the project', async () => {
    await db.query(`INSERT INTO "Order" ("customerId", "total") SELECT n, n FROM generate_series(1, 250) AS n`)
    project.write(
      'db/backfills/order_totals_in_cents.ts',
      `import { defineBackfill, sql } from 'prisma-migrate-kit'

export default defineBackfill({
  name: 'order_totals_in_cents',
  table: 'Order',
  key: 'id',
  update: sql\`"total" = "total" * 100\`,
})
`,
    )
    const list = await run(['backfill', 'list', '--json'])
    expect(list.code).toBe(0)
    expect((JSON.parse(list.stdout) as { backfills: Array<{ name: string }> }).backfills.map((entry) => entry.name)).toEqual([
      'order_totals_in_cents',
    ])
    const backfill = await run(['backfill', 'run', 'order_totals_in_cents', '--batch-size', '100'])
    expect(backfill.code).toBe(0)
    expect(await db.query(`SELECT count(*)::int AS n FROM "Order" WHERE "total" = "customerId" * 100`)).toEqual([{ n: 250 }])
  })

  test('a backfill over a Prisma @@id model walks its composite key, found from the primary key', async () => {
    await db.query(
      `INSERT INTO "OrderLine" ("orderId", "lineNo", "quantity") SELECT o, l, o + l FROM generate_series(1, 60) o, generate_series(1, 10) l`,
    )
    project.write(
      'db/backfills/line_cents.ts',
      `import { defineBackfill, sql } from 'prisma-migrate-kit'

export default defineBackfill({
  name: 'line_cents',
  table: 'OrderLine',
  update: sql\`"cents" = "quantity" * 250\`,
  where: sql\`"cents" IS NULL\`,
  snapshot: ['cents'],
})
`,
    )
    try {
      const backfill = await run(['backfill', 'run', 'line_cents', '--batch-size', '100', '--json'])
      expect(backfill.code).toBe(0)
      expect(JSON.parse(backfill.stdout)).toMatchObject({ status: 'done', rowsDone: 600, rowsChanged: 600 })
      expect(await db.query(`SELECT count(*)::int AS wrong FROM "OrderLine" WHERE "cents" IS DISTINCT FROM "quantity" * 250`)).toEqual([
        { wrong: 0 },
      ])
      const status = await run(['backfill', 'status', 'line_cents', '--json'])
      expect(JSON.parse(status.stdout)).toMatchObject({
        key: '(orderId, lineNo)',
        keyColumns: ['orderId', 'lineNo'],
        cursor: '["60", "10"]',
      })
      const restored = await run(['backfill', 'restore', 'line_cents'])
      expect(restored.code).toBe(0)
      expect(await db.query(`SELECT count(*)::int AS left FROM "OrderLine" WHERE "cents" IS NOT NULL`)).toEqual([{ left: 0 }])
    } finally {
      rmSync(project.path('db/backfills/line_cents.ts'))
      await run(['backfill', 'forget', 'line_cents', '--force'])
    }
  })

  test('from the packed package: compute(row) writes the values it computes in JavaScript to every row', async () => {
    project.write(
      'db/backfills/line_labels.ts',
      `import { defineBackfill } from 'prisma-migrate-kit'

export default defineBackfill({
  name: 'line_labels',
  table: 'OrderLine',
  compute: (row) => ({ cents: Number(row.quantity) * 100 + Number(row.lineNo) }),
})
`,
    )
    try {
      const result = await run(['backfill', 'run', 'line_labels', '--batch-size', '200', '--json'])
      expect(result.code).toBe(0)
      expect(JSON.parse(result.stdout)).toMatchObject({ status: 'done', rowsDone: 600, rowsChanged: 600 })
      expect(
        await db.query(`SELECT count(*)::int AS wrong FROM "OrderLine" WHERE "cents" IS DISTINCT FROM "quantity" * 100 + "lineNo"`),
      ).toEqual([{ wrong: 0 }])
    } finally {
      rmSync(project.path('db/backfills/line_labels.ts'))
      await run(['backfill', 'forget', 'line_labels', '--force'])
    }
  })

  test("from the packed package: a process() that throws stops at once with its own message; deploy's backfill settings need --run-backfills", async () => {
    const file = 'db/backfills/order_codes.ts'
    project.write(
      file,
      `import { defineBackfill, sql } from 'prisma-migrate-kit'

export default defineBackfill({
  name: 'order_codes',
  table: 'Order',
  key: 'id',
  async process(rows, tx) {
    for (const row of rows) {
      if (Number(row.id) > 120) throw new RangeError('no code for order ' + String(row.id))
      await tx.query(sql\`UPDATE "Order" SET "total" = "total" + 1 WHERE id = \${row.id}\`)
    }
  },
})
`,
    )
    try {
      const failed = await run(['backfill', 'run', 'order_codes', '--batch-size', '50'])
      expect(failed.code).toBe(1)
      expect(failed.stderr).toMatch(/backfill order_codes failed at keys \(\d+, \d+\]: RangeError: no code for order \d+\n/)
      expect(failed.stderr).not.toContain('split in two')
      const refused = await run(['deploy', '--backfill-batch-size', '5'])
      expect(refused.code).toBe(2)
      expect(refused.stderr).toContain('--backfill-batch-size sets how deploy runs backfills, but this deploy runs none')
    } finally {
      rmSync(project.path(file))
      await run(['backfill', 'forget', 'order_codes', '--force'])
    }
  })

  test('verify-rollbacks proves both pairs; rollback reverts the newest and check then sees the history as it is', async () => {
    const verify = await run(['verify-rollbacks'])
    expect(verify.code).toBe(0)
    for (const name of migrations()) expect(verify.stdout).toMatch(new RegExp(`ok\\s+${name}`))

    const added = migrations()[1]
    const rollback = await run(['rollback', added])
    expect(rollback.code).toBe(0)
    expect(rollback.stdout).toContain(`db/rollbacks/${added}/rollback.sql`)
    expect(await db.query(`SELECT to_regclass('"Order"') IS NULL AS gone`)).toEqual([{ gone: true }])
    const status = await run(['status', '--json'])
    expect((JSON.parse(status.stdout) as StatusJson).migrations.map(({ name, state, rollback: pair }) => ({ name, state, pair }))).toEqual([
      { name: migrations()[0], state: 'applied', pair: 'present' },
      { name: added, state: 'rolled_back', pair: 'present' },
    ])
  })
})

describe('--config and --schema, as in Prisma CLI', () => {
  let project: AdopterProject
  let db: TestDatabase

  beforeAll(async () => {
    project = await createAdopterProject({
      files: {
        'prisma.config.ts': DEFAULT_PRISMA_CONFIG,
        'prisma/schema.prisma': DEFAULT_SCHEMA,
        // Another project's config in a subfolder, with its own history: only --config reaches it.
        'reporting/prisma.config.ts': DB_CONFIG,
        'reporting/db/schema/datasource.prisma': DATASOURCE,
        'reporting/db/schema/customer.prisma': CUSTOMER,
        [`reporting/db/migrations/${INIT}/migration.sql`]: INIT_SQL,
        'reporting/db/migrations/migration_lock.toml': 'provider = "postgresql"\n',
        // A schema the config does not name: only --schema reaches it.
        'next/schema.prisma': `${DEFAULT_SCHEMA}\n${ORDER_MODEL}`,
      },
    })
    db = await createTestDatabase('adopter_flags')
  }, 300_000)

  afterAll(async () => {
    project?.remove()
    await db?.drop()
  })

  test('--config reads another config, before or after the command, and deploy applies its migrations', async () => {
    const env = { DATABASE_URL: db.url }
    const own = await project.bin('migrate-kit', ['status', '--json'], { env })
    expect((JSON.parse(own.stdout) as StatusJson).migrations).toEqual([])
    for (const args of [
      ['status', '--json', '--config', 'reporting/prisma.config.ts'],
      ['--config', 'reporting/prisma.config.ts', 'status', '--json'],
    ]) {
      const other = await project.bin('migrate-kit', args, { env })
      expect((JSON.parse(other.stdout) as StatusJson).migrations.map((migration) => migration.name)).toEqual([INIT])
    }
    const deploy = await project.bin('migrate-kit', ['deploy', '--config', 'reporting/prisma.config.ts'], { env })
    expect(deploy.code).toBe(0)
    expect(await db.query(`SELECT to_regclass('"Customer"') IS NOT NULL AS made`)).toEqual([{ made: true }])
  })

  test('--schema makes new diff that schema, and Prisma is given the same one', async () => {
    // A development database of its own: the one above holds the other project's history.
    const dev = await createTestDatabase('adopter_flags_dev')
    const env = { DATABASE_URL: dev.url }
    try {
      const init = await project.bin('migrate-kit', ['new', 'init'], { env })
      expect(init.code).toBe(0)
      expect(migrationFolders(project, 'prisma/migrations')).toHaveLength(1)

      const created = await project.bin('migrate-kit', ['new', 'add_order', '--schema', 'next/schema.prisma'], { env })
      expect(created.code).toBe(0)
      const folders = migrationFolders(project, 'prisma/migrations')
      expect(folders).toHaveLength(2)
      expect(folders[1]).toMatch(/_add_order$/)
      const sql = project.read(`prisma/migrations/${folders[1]}/migration.sql`)
      expect(sql).toMatch(/CREATE TABLE "Order"/)
      expect(sql).not.toMatch(/CREATE TABLE "Customer"/)

      const none = await project.bin('migrate-kit', ['new', 'nothing', '--schema', 'next/schema.prisma'], { env })
      expect(none.code).toBe(0)
      expect(none.stdout).toMatch(/^No schema change: next\/schema\.prisma matches/)
      expect(migrationFolders(project, 'prisma/migrations')).toEqual(folders)
    } finally {
      await dev.drop()
    }
  })
})

describe('the datasource URL is the one the config reads, whatever its variable', () => {
  let project: AdopterProject
  let db: TestDatabase

  beforeAll(async () => {
    project = await createAdopterProject({
      files: {
        'prisma.config.ts': DEFAULT_PRISMA_CONFIG.replace("env('DATABASE_URL')", "env('APP_DATABASE_URL')"),
        'prisma/schema.prisma': DEFAULT_SCHEMA,
        [`prisma/migrations/${INIT}/migration.sql`]: INIT_SQL,
        'prisma/migrations/migration_lock.toml': 'provider = "postgresql"\n',
      },
    })
    db = await createTestDatabase('adopter_datasource')
  }, 300_000)

  afterAll(async () => {
    project?.remove()
    await db?.drop()
  })

  test('deploy and status use APP_DATABASE_URL, not a DATABASE_URL that names another database', async () => {
    const env = { APP_DATABASE_URL: db.url, DATABASE_URL: 'postgresql://someone:not-this-one@127.0.0.1:1/elsewhere' }
    const deploy = await project.bin('migrate-kit', ['deploy'], { env })
    expect(deploy.stderr).toBe('')
    expect(deploy.code).toBe(0)
    expect(deploy.stdout).toContain(`Deploy to 127.0.0.1:5432/${db.name}`)
    expect(await db.query(`SELECT to_regclass('"Customer"') IS NOT NULL AS made`)).toEqual([{ made: true }])
    const status = await project.bin('migrate-kit', ['status', '--json'], { env })
    expect((JSON.parse(status.stdout) as StatusJson).migrations).toEqual([expect.objectContaining({ name: INIT, state: 'applied' })])
  })

  test('a wrong URL in that variable: exit 2 naming host and port, never its password', async () => {
    const result = await project.bin('migrate-kit', ['status'], {
      env: { APP_DATABASE_URL: 'postgresql://app:s3cret-pw@127.0.0.1:1/appdb' },
    })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('127.0.0.1:1')
    expect(result.stderr).not.toContain('s3cret-pw')
  })
})
