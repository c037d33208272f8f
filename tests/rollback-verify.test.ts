import { readFileSync } from 'node:fs'
import { SCRATCH_PREFIX } from '../packages/prisma-migrate-kit/src/db/scratch'
import { collect, runCli, startCli, type CliResult } from './helpers/cli'
import { createTestDatabase, databaseExists, type TestDatabase } from './helpers/database'
import { createTempProject, type TempProject } from './helpers/project'
import { addMigration } from './helpers/rollback'
import { assertBuilt } from './helpers/schema-engine'

// `migrate-kit verify-rollbacks`, the real binary with the real Prisma CLI: the example app's history passes; a
// wrong rollback fails with a diff a person can act on; a failing one names its file and line; a missing one is
// refused before any database is made; and the scratch database never outlives the run, Ctrl-C included.

let db: TestDatabase
const projects: TempProject[] = []

interface VerifyJson {
  ok: boolean
  database: string
  migrations: Array<{
    name: string
    status: string
    stage?: string
    differences: Array<{ message: string }>
    error?: { message: string; file?: string; line?: number; code?: string }
  }>
}

function project(options: Parameters<typeof createTempProject>[0] = {}): TempProject {
  const created = createTempProject(options)
  projects.push(created)
  return created
}

function verify(root: string, ...args: string[]): Promise<CliResult> {
  return runCli(['verify-rollbacks', ...args], { cwd: root, env: { DATABASE_URL: db.url } })
}

/** The scratch database a run announced on stderr. */
function scratchOf(stderr: string): string {
  const match = new RegExp(`scratch database (${SCRATCH_PREFIX}[0-9a-f]+)`).exec(stderr)
  expect(match).not.toBeNull()
  return match![1]!
}

const initOnly = { migrations: (name: string) => /_init$/.test(name) }

beforeAll(async () => {
  assertBuilt()
  db = await createTestDatabase('rollback_verify')
})

afterAll(async () => {
  for (const created of projects) created.remove()
  await db?.drop()
})

test("the example app's history passes, and the scratch database is gone afterwards", async () => {
  const app = project()
  const result = await verify(app.root, '--json')
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
  const report = JSON.parse(result.stdout) as VerifyJson
  expect(report.ok).toBe(true)
  expect(report.migrations.length).toBeGreaterThanOrEqual(1)
  expect(report.migrations.map((migration) => migration.status)).toEqual(report.migrations.map(() => 'ok'))
  expect(report.database.startsWith(SCRATCH_PREFIX)).toBe(true)
  expect(await databaseExists(report.database)).toBe(false)
})

test('a rollback that leaves a column and a changed index behind fails with a readable diff; later migrations are skipped', async () => {
  const app = project(initOnly)
  addMigration(
    app,
    '20990101000000_add_motto',
    'ALTER TABLE "users" ADD COLUMN "motto" TEXT;\n' +
      'DROP INDEX "puzzle_completions_puzzle_id_idx";\n' +
      'CREATE INDEX "puzzle_completions_puzzle_id_idx" ON "puzzle_completions"("puzzle_id", "user_id");\n',
    // Wrong on purpose: forgets the column, and recreates the index on the wrong column.
    'DROP INDEX "puzzle_completions_puzzle_id_idx";\nCREATE INDEX "puzzle_completions_puzzle_id_idx" ON "puzzle_completions"("user_id");\n',
  )
  addMigration(app, '20990102000000_add_age', 'ALTER TABLE "users" ADD COLUMN "age" INTEGER;\n', 'ALTER TABLE "users" DROP COLUMN "age";\n')
  const result = await verify(app.root)
  expect(result.code).toBe(1)
  expect(result.stdout).toMatch(/^ok {7}\d+_init/m)
  expect(result.stdout).toContain(
    'FAILED   20990101000000_add_motto',
  )
  expect(result.stdout).toContain('rollbacks/20990101000000_add_motto/rollback.sql does not restore the schema from before the migration:\n')
  expect(result.stdout).toContain('  - column users.motto: exists after rollback, absent before\n')
  expect(result.stdout).toContain(
    '  - index puzzle_completions_puzzle_id_idx: definition differs: ' +
      '"CREATE INDEX puzzle_completions_puzzle_id_idx ON public.puzzle_completions USING btree (user_id)" after rollback vs ' +
      '"CREATE INDEX puzzle_completions_puzzle_id_idx ON public.puzzle_completions USING btree (puzzle_id)" before\n',
  )
  expect(result.stdout).toMatch(/^skipped {2}20990102000000_add_age \(not executed/m)
  expect(result.stdout).toContain('Fix rollbacks/20990101000000_add_motto/rollback.sql, then run: npx migrate-kit verify-rollbacks')
  expect(await databaseExists(scratchOf(result.stderr))).toBe(false)
})

test('a rollback that fails is reported with its file, line and PostgreSQL error', async () => {
  const app = project(initOnly)
  addMigration(app, '20990101000000_add_motto', 'ALTER TABLE "users" ADD COLUMN "motto" TEXT;\n', '-- typo below\nALTER TABLE "users" DROP COLUMN "mottoo";\n')
  const result = await verify(app.root, '--json')
  expect(result.code).toBe(1)
  const report = JSON.parse(result.stdout) as VerifyJson
  const failed = report.migrations.find((migration) => migration.name === '20990101000000_add_motto')!
  expect(failed).toMatchObject({
    status: 'error',
    stage: 'rollback',
    error: { file: 'rollbacks/20990101000000_add_motto/rollback.sql', line: 2, code: '42703' },
  })
  expect(failed.error!.message).toContain('column "mottoo" of relation "users" does not exist')
  expect(await databaseExists(report.database)).toBe(false)
})

test("deploys to the scratch database even when the project's Prisma config reads another variable than DATABASE_URL", async () => {
  const app = project(initOnly)
  app.write('prisma.config.ts', readFileSync(app.path('prisma.config.ts'), 'utf8').replace("env('DATABASE_URL')", "env('APP_DB_URL')"))
  const other = await createTestDatabase('rollback_verify_other')
  try {
    const result = await runCli(['verify-rollbacks'], { cwd: app.root, env: { DATABASE_URL: db.url, APP_DB_URL: other.url } })
    expect(result.code).toBe(0)
    expect(await other.query(`SELECT to_regclass('public._prisma_migrations') IS NULL AS untouched`)).toEqual([{ untouched: true }])
    expect(await databaseExists(scratchOf(result.stderr))).toBe(false)
  } finally {
    await other.drop()
  }
})

test('a missing rollback.sql is refused before any database is made (exit 2), naming it', async () => {
  const app = project(initOnly)
  addMigration(app, '20990101000000_add_motto', 'ALTER TABLE "users" ADD COLUMN "motto" TEXT;\n')
  const result = await verify(app.root)
  expect(result.code).toBe(2)
  expect(result.stderr).toContain('error: a migration has no rollback.sql: rollbacks/20990101000000_add_motto/rollback.sql')
  expect(result.stderr).toContain('npx migrate-kit rollbacks generate 20990101000000_add_motto')
  expect(result.stderr).not.toContain(SCRATCH_PREFIX)
})

describe('interrupted', () => {
  /** Starts a run on the example app and resolves once it has verified its first migration. */
  async function startAndWaitForFirstResult(): Promise<{ child: ReturnType<typeof startCli>; done: Promise<CliResult>; scratch: Promise<string> }> {
    const app = project()
    const child = startCli(['verify-rollbacks'], { cwd: app.root, env: { DATABASE_URL: db.url } })
    let stderr = ''
    let stdout = ''
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const firstResult = new Promise<void>((resolve) =>
      child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString()
        if (/^ok /m.test(stdout)) resolve()
      }),
    )
    const done = collect(child)
    await firstResult
    return { child, done, scratch: Promise.resolve(scratchOf(stderr)) }
  }

  test('Ctrl-C mid-run stops after the step under way, drops the scratch database and exits 130', async () => {
    const { child, done, scratch } = await startAndWaitForFirstResult()
    const name = await scratch
    expect(await databaseExists(name)).toBe(true)
    child.kill('SIGINT')
    const result = await done
    expect(result.code).toBe(130)
    expect(result.stderr).toContain('SIGINT: stopping after the step under way, then dropping the scratch database')
    expect(result.stdout).toMatch(/Interrupted after \d+ of \d+; scratch database migrate_kit_verify_[0-9a-f]+ dropped/)
    expect(await databaseExists(name)).toBe(false)
  })

  test('a second Ctrl-C stops at once, and the scratch database is dropped all the same', async () => {
    const { child, done, scratch } = await startAndWaitForFirstResult()
    const name = await scratch
    child.kill('SIGINT')
    child.kill('SIGINT')
    const result = await done
    expect(result.code).toBe(130)
    expect(await databaseExists(name)).toBe(false)
  })
})
