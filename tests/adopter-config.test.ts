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
  return existsSync(dir) ? readdirSync(dir).filter((entry) => entry !== 'migration_lock.toml').sort() : []
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
    const applied = await db.query<{ migration_name: string }>('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL')
    expect(applied.map((row) => row.migration_name)).toEqual([INIT])

    const status = await project.bin('migrate-kit', ['status', '--json'], { env: env() })
    expect(status.code).toBe(0)
    expect((JSON.parse(status.stdout) as StatusJson).migrations).toEqual([expect.objectContaining({ name: INIT, state: 'applied', rollback: 'present' })])
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
      expect(byRule.get('rollback-missing')).toMatchObject({ file: `db/migrations/${INIT}/migration.sql`, message: expect.stringContaining(`rollbacks/${INIT}/rollback.sql`) })
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

  test.each(cases)('$title', async ({ files, args, message }) => {
    const project = await createAdopterProject({ files })
    try {
      for (const command of [['status'], ['deploy'], ['lint']]) {
        const result = await project.bin('migrate-kit', [...command, ...(args ?? [])], { env: { DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/never' } })
        expect({ command, code: result.code }).toEqual({ command, code: 2 })
        expect(result.stderr).toMatch(message)
        expect(result.stdout).toBe('')
      }
      // Nothing was made: no embedded database, no state folder.
      expect(existsSync(project.path('.migrate-kit'))).toBe(false)
    } finally {
      project.remove()
    }
  }, 120_000)
})
