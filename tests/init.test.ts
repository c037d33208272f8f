import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { hasNativeSchemaEngine, wireOfflineEngine } from '../packages/prisma-migrate-kit/src/offline-engine'
import os from 'node:os'
import path from 'node:path'
import { createAdopterProject, DEFAULT_PRISMA_CONFIG, DEFAULT_SCHEMA, type AdopterProject } from './helpers/adopter'
import { createTestDatabase, type TestDatabase } from './helpers/database'

// `npx migrate-kit init` in an existing Prisma project made from the packed package, as a user adopting the toolkit
// late meets it: a history with no rollbacks, no backfills folder, a .gitignore of their own, a git repository.
// The file edits themselves are unit-tested in init-files.test.ts.

/** Every file under the project (node_modules and .git aside) with a digest of its content: what init changed. */
function tree(root: string): Record<string, string> {
  const files: Record<string, string> = {}
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === '.git') continue
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(full)
      else files[path.relative(root, full)] = createHash('sha256').update(readFileSync(full)).digest('hex').slice(0, 12)
    }
  }
  walk(root)
  return files
}

const HISTORY = {
  '20261201090000_init':
    'CREATE TABLE "Customer" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL);\nCREATE UNIQUE INDEX "Customer_email_key" ON "Customer"("email");\n',
  '20261202090000_add_name': 'ALTER TABLE "Customer" ADD COLUMN "name" TEXT;\n',
}

describe('migrate-kit init in an existing project (packed package)', () => {
  let project: AdopterProject
  let db: TestDatabase

  beforeAll(async () => {
    project = await createAdopterProject({
      files: {
        'prisma.config.ts': DEFAULT_PRISMA_CONFIG,
        'prisma/schema.prisma': DEFAULT_SCHEMA.replace('email String @unique', 'email String @unique\n  name  String?'),
        '.gitignore': 'node_modules\n.env\n',
      },
    })
    for (const [name, sql] of Object.entries(HISTORY)) project.write(`prisma/migrations/${name}/migration.sql`, sql)
    project.write('prisma/migrations/migration_lock.toml', 'provider = "postgresql"\n')
    execFileSync('git', ['init', '-q'], { cwd: project.root })
    db = await createTestDatabase('init_adopter')
  }, 300_000)

  afterAll(async () => {
    project?.remove()
    await db?.drop()
  })

  test('outside a Prisma project: exit 2 naming what it looked for, nothing created', async () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'mk-not-prisma-'))
    try {
      writeFileSync(path.join(folder, 'package.json'), '{"name":"not-prisma"}\n')
      const result = await project.bin('migrate-kit', ['init'], { cwd: folder })
      expect(result.code).toBe(2)
      expect(result.stderr).toContain(`${folder} is not a Prisma project: no Prisma config file (prisma.config.ts, .config/prisma.ts`)
      expect(result.stderr).toContain('no prisma/schema.prisma or schema.prisma in it')
      expect(result.stderr).toContain('npx prisma init')
      expect(readdirSync(folder)).toEqual(['package.json'])
    } finally {
      rmSync(folder, { recursive: true, force: true })
    }
  })

  test('--dry-run says what it would do and changes nothing', async () => {
    const before = tree(project.root)
    const result = await project.bin('migrate-kit', ['init', '--dry-run'], { env: { DATABASE_URL: db.url } })
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' })
    expect(result.stdout).toContain("would update prisma.config.ts: line 2: import 'prisma-migrate-kit/offline-engine'")
    expect(result.stdout).toContain('would create backfills/.gitkeep')
    expect(result.stdout).toContain('would update .gitignore: ignores .migrate-kit/')
    expect(result.stdout).toContain('would create .github/workflows/migrate-kit.yml')
    expect(result.stdout).toContain(
      'rollbacks:   dry run: would generate the rollbacks of 2 migrations without rollback.sql (20261201090000_init, 20261202090000_add_name)',
    )
    expect(result.stdout).toContain(
      'lint:        0 errors and 1 warning in the existing migrations; would write migrate-kit.lint-baseline.json accepting them (1 migration)',
    )
    expect(result.stdout).toContain('Nothing was changed (--dry-run).')
    expect(tree(project.root)).toEqual(before)
  })

  test('with no database the files are set up and the rollbacks step says what to set: exit 1', async () => {
    const result = await project.bin('migrate-kit', ['init'], { env: { DATABASE_URL: undefined } })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^error: the rollbacks of the history were not generated: .*DATABASE_URL/m)
    expect(result.stderr).toContain('run npx migrate-kit init again once it is set')
    expect(project.read('prisma.config.ts').split('\n')[1]).toMatch(/^import 'prisma-migrate-kit\/offline-engine' \/\//)
    expect(project.read('.gitignore')).toContain('\n.migrate-kit/\n')
    expect(existsSync(project.path('backfills', '.gitkeep'))).toBe(true)
    expect(existsSync(project.path('rollbacks', '20261201090000_init'))).toBe(false)
    expect(existsSync(project.path('.migrate-kit'))).toBe(false)
    // The lint baseline needs no database: the history's one warning is accepted from the first run.
    expect(result.stdout).toContain(
      'lint:        0 errors and 1 warning in the existing migrations; wrote migrate-kit.lint-baseline.json accepting them (1 migration)',
    )
    expect(JSON.parse(project.read('migrate-kit.lint-baseline.json'))).toEqual({
      about: expect.stringContaining('Written by `npx migrate-kit lint --baseline`'),
      accepted: [{ migration: '20261202090000_add_name', rule: expect.any(String), count: 1 }],
    })
  })

  test('with a database: a tried rollback for every migration; a second run changes nothing', async () => {
    const env = { DATABASE_URL: db.url }
    const first = await project.bin('migrate-kit', ['init'], { env })
    expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: '' })
    expect(first.stdout).toContain('kept         prisma.config.ts: imports prisma-migrate-kit/offline-engine already')
    expect(first.stdout).toContain('created      rollbacks/20261201090000_init/rollback.sql')
    expect(first.stdout).toContain('created      rollbacks/20261202090000_add_name/rollback.sql')
    expect(first.stdout).toContain('rollbacks:   2 written, 0 could not be generated')
    expect(first.stdout).toContain(
      'lint:        0 errors and 1 warning in the existing migrations; migrate-kit.lint-baseline.json (kept) accepts 1 finding\n',
    )
    expect(project.read('rollbacks/20261202090000_add_name/rollback.sql')).toMatch(/ALTER TABLE "public"\."Customer" DROP COLUMN "name";/)
    const workflow = project.read('.github/workflows/migrate-kit.yml')
    expect(workflow).toContain('run: npx migrate-kit verify-rollbacks')
    expect(workflow).toContain('run: npx migrate-kit lint --format github')
    expect(workflow).not.toContain('working-directory')

    const before = tree(project.root)
    const second = await project.bin('migrate-kit', ['init'], { env })
    expect({ code: second.code, stderr: second.stderr }).toEqual({ code: 0, stderr: '' })
    expect(second.stdout).toContain('Nothing to change: the project is set up.')
    expect(second.stdout).not.toMatch(/^ +(created|updated) /m)
    expect(tree(project.root)).toEqual(before)

    const json = await project.bin('migrate-kit', ['init', '--json'], { env })
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toEqual({
      ok: true,
      dryRun: false,
      files: [
        { file: 'prisma.config.ts', action: 'keep', what: expect.any(String) },
        { file: 'backfills', action: 'keep', what: expect.any(String) },
        { file: 'rollbacks', action: 'keep', what: expect.any(String) },
        { file: '.gitignore', action: 'keep', what: expect.any(String) },
        { file: '.github/workflows/migrate-kit.yml', action: 'keep', what: expect.any(String) },
      ],
      rollbacks: { missing: [], written: [], failed: [] },
      lint: { migrations: 2, errors: 0, warnings: 1, baseline: { file: 'migrate-kit.lint-baseline.json', action: 'keep', accepted: 1 } },
    })
  }, 180_000)

  test('plain `npx prisma migrate status` and `deploy` work offline through the line init wrote, with no .env edit', async () => {
    const env = { DATABASE_URL: db.url }
    const pending = await project.bin('prisma', ['migrate', 'status'], { env })
    expect(pending.stdout + pending.stderr).not.toMatch(/ENOTFOUND|binaries\.prisma\.sh/)
    expect(pending.code).toBe(1)
    expect(pending.stdout).toContain('Following migrations have not yet been applied')
    expect((await project.bin('prisma', ['migrate', 'deploy'], { env })).code).toBe(0)
    expect((await project.bin('prisma', ['migrate', 'status'], { env })).code).toBe(0)
    expect(await db.query(`SELECT to_regclass('"Customer"') IS NOT NULL AS made`)).toEqual([{ made: true }])
  }, 120_000)

  test('a rollback that cannot be made is named with why and what to do, the others are written: exit 1', async () => {
    // A view Prisma does not model: its diff drops the table under the view, which PostgreSQL refuses (2BP01).
    project.write(
      'prisma/migrations/20261203090000_roles/migration.sql',
      `CREATE TABLE "P" ("id" SERIAL PRIMARY KEY, "role" TEXT NOT NULL);\nCREATE VIEW "P_roles" AS SELECT "role" FROM "P";\n`,
    )
    project.write(
      'prisma/migrations/20261204090000_add_phone/migration.sql',
      'ALTER TABLE "Customer" ADD COLUMN "phone" TEXT;\nCREATE INDEX "Customer_phone_idx" ON "Customer"("phone");\n',
    )
    const result = await project.bin('migrate-kit', ['init'], { env: { DATABASE_URL: db.url } })
    expect(result.code).toBe(1)
    expect(result.stdout).toContain('not written  rollbacks/20261203090000_roles/rollback.sql (why: on stderr)')
    expect(result.stdout).toContain('created      rollbacks/20261204090000_add_phone/rollback.sql')
    expect(result.stdout).toContain('rollbacks:   1 written, 1 could not be generated')
    // An index built without CONCURRENTLY in a migration added after the baseline: the kept baseline does not accept it.
    expect(result.stdout).toMatch(
      /lint: +1 error and \d warnings in the existing migrations; migrate-kit.lint-baseline.json \(kept\) accepts 1 finding; 1 error beyond it fail `npx migrate-kit check`/,
    )
    // check gates on the new finding only, and says what the baseline accepted.
    const check = await project.bin('migrate-kit', ['check', '--json'], { env: { DATABASE_URL: db.url } })
    const lint = (JSON.parse(check.stdout) as { sections: Array<{ name: string; summary: string }> }).sections.find(
      (part) => part.name === 'lint',
    )
    expect({ code: check.code, lint: lint?.summary }).toEqual({
      code: 1,
      lint: expect.stringMatching(/^1 error(, \d warnings?)?; 1 known finding skipped \(accepted in migrate-kit.lint-baseline.json\)$/),
    })
    expect(result.stderr).toMatch(
      /^error: 20261203090000_roles: the rollback Prisma's diff gives for 20261203090000_roles does not run on the schema it is for/m,
    )
    expect(result.stderr).toMatch(/rollbacks\/20261203090000_roles\/rollback\.sql:\d+:\d+: PostgreSQL error 2BP01/)
    expect(result.stderr).toContain(
      'error: 1 rollback could not be generated (20261203090000_roles): write each by hand, starting from `npx migrate-kit rollbacks generate <migration> --print`',
    )
    expect(existsSync(project.path('rollbacks', '20261203090000_roles'))).toBe(false)
    expect(statSync(project.path('rollbacks', '20261204090000_add_phone', 'rollback.sql')).size).toBeGreaterThan(0)
  }, 180_000)

  test('a native engine where Prisma looks is kept; a PRISMA_SCHEMA_ENGINE_BINARY already set wins', () => {
    const fake = mkdtempSync(path.join(os.tmpdir(), 'mk-native-'))
    try {
      writeFileSync(path.join(fake, 'package.json'), JSON.stringify({ name: 'prisma', version: '7.10.1' }))
      expect(hasNativeSchemaEngine(fake)).toBe(false)
      writeFileSync(path.join(fake, 'schema-engine-debian-openssl-3.0.x'), '')
      expect(hasNativeSchemaEngine(fake)).toBe(true)
      const env: NodeJS.ProcessEnv = { PRISMA_SCHEMA_ENGINE_BINARY: '/opt/engine' }
      expect(wireOfflineEngine(env, project.root)).toBe('configured')
      expect(env.PRISMA_SCHEMA_ENGINE_BINARY).toBe('/opt/engine')
      const bare: NodeJS.ProcessEnv = {}
      expect(wireOfflineEngine(bare, project.root)).toBe('offline')
      expect(bare.PRISMA_SCHEMA_ENGINE_BINARY).toMatch(/prisma-migrate-kit\/bin\/schema-engine\.js$/)
    } finally {
      rmSync(fake, { recursive: true, force: true })
    }
  })
})
