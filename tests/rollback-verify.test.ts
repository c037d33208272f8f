import { readFileSync } from 'node:fs'
import { SCRATCH_PREFIX } from '../packages/prisma-migrate-kit/src/db/scratch'
import { collect, runCli, startCli, type CliResult } from './helpers/cli'
import { createTestDatabase, databaseExists, TEST_SERVER_URL, type TestDatabase } from './helpers/database'
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
  databases: string[]
  acceptedNowPassing: string[]
  migrations: Array<{
    name: string
    status: string
    accepted?: { reason: string }
    note?: string
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
  return match![1]
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

test('a rollback that leaves a column and a changed index behind fails with a readable diff; the run goes on in a fresh database', async () => {
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
  // A rollback that fails outright: reported with its file, line and PostgreSQL error (in the JSON below too).
  addMigration(
    app,
    '20990103000000_add_city',
    'ALTER TABLE "users" ADD COLUMN "city" TEXT;\n',
    '-- typo below\nALTER TABLE "users" DROP COLUMN "cityy";\n',
  )
  const result = await verify(app.root)
  expect(result.code).toBe(1)
  expect(result.stdout).toMatch(/^20990103000000_add_city +FAILED \(rollback\)/m)
  expect(result.stdout).toContain('rollbacks/20990103000000_add_city/rollback.sql:2:')
  expect(result.stdout).toContain('column "cityy" of relation "users" does not exist')
  expect(result.stdout).toMatch(/^ok {7}\d+_init/m)
  expect(result.stdout).toContain('FAILED   20990101000000_add_motto')
  expect(result.stdout).toContain(
    'rollbacks/20990101000000_add_motto/rollback.sql does not restore the schema from before the migration:\n',
  )
  expect(result.stdout).toContain('  - column users.motto: exists after rollback, absent before\n')
  expect(result.stdout).toContain(
    '  - index puzzle_completions_puzzle_id_idx: definition differs: ' +
      '"CREATE INDEX puzzle_completions_puzzle_id_idx ON public.puzzle_completions USING btree (user_id)" after rollback vs ' +
      '"CREATE INDEX puzzle_completions_puzzle_id_idx ON public.puzzle_completions USING btree (puzzle_id)" before\n',
  )
  // Verified all the same, on a scratch database built again up to the failed migration.
  expect(result.stdout).toMatch(/^ok {7}20990102000000_add_age/m)
  expect(result.stdout).toMatch(/^20990101000000_add_motto +FAILED \(schema differs\)/m)
  expect(result.stdout).toMatch(/^20990102000000_add_age +ok +[\d.]+ s/m)
  // No terminal and a short history: no progress lines (tests/history-scale.test.ts has a long one).
  expect(result.stderr).not.toMatch(/ migrations \(\d+ %\)/)
  expect(result.stdout).toContain('4 rollbacks verified: 2 ok, 2 failed (scratch databases dropped).')
  expect(result.stdout).toContain(
    'Fix rollbacks/20990101000000_add_motto/rollback.sql, rollbacks/20990103000000_add_city/rollback.sql, then run: npx migrate-kit verify-rollbacks',
  )
  expect(await databaseExists(scratchOf(result.stderr))).toBe(false)
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

test('a SELECT 1 rollback of a dropped foreign key fails, on a table whose name makes table.constraint longer than 63 bytes', async () => {
  const app = project({ exampleApp: false })
  const table = 'PlatformNotificationInteraction'
  addMigration(
    app,
    '20990101000000_init',
    `CREATE TABLE "User" ("id" SERIAL PRIMARY KEY);\nCREATE TABLE "Post" ("id" SERIAL PRIMARY KEY);\n` +
      `CREATE TABLE "${table}" ("id" SERIAL PRIMARY KEY, "userId" INTEGER NOT NULL, "postId" INTEGER NOT NULL,\n` +
      `  CONSTRAINT "${table}_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id"),\n` +
      `  CONSTRAINT "${table}_postId_fkey" FOREIGN KEY ("postId") REFERENCES "Post" ("id"));\n`,
    `DROP TABLE "${table}";\nDROP TABLE "Post";\nDROP TABLE "User";\n`,
  )
  addMigration(app, '20990102000000_drop_fk', `ALTER TABLE "${table}" DROP CONSTRAINT "${table}_userId_fkey";\n`, 'SELECT 1;\n')
  const result = await verify(app.root, '--json')
  expect(result.code).toBe(1)
  const report = JSON.parse(result.stdout) as VerifyJson
  expect(report.migrations.map(({ name, status }) => [name, status])).toEqual([
    ['20990101000000_init', 'ok'],
    ['20990102000000_drop_fk', 'differs'],
  ])
  expect(report.migrations[1].differences.map((difference) => difference.message)).toEqual([
    `constraint "${table}"."${table}_userId_fkey": absent after rollback, exists before`,
  ])
  for (const name of report.databases) expect(await databaseExists(name)).toBe(false)
})

describe('--from, --only, --scratch-url and accepted failures', () => {
  const M1 = '20990101000000_add_motto'
  const M2 = '20990102000000_add_age'
  const M3 = '20990103000000_add_city'
  let app: TempProject

  beforeAll(() => {
    app = project(initOnly)
    addMigration(app, M1, 'ALTER TABLE "users" ADD COLUMN "motto" TEXT;\n', 'ALTER TABLE "users" DROP COLUMN "motto";\n')
    // Wrong on purpose, and "history nobody may change": its failure is what the accepted file is for.
    addMigration(app, M2, 'ALTER TABLE "users" ADD COLUMN "age" INTEGER;\n', 'SELECT 1;\n')
    addMigration(app, M3, 'ALTER TABLE "users" ADD COLUMN "city" TEXT;\n', 'ALTER TABLE "users" DROP COLUMN "city";\n')
  })

  const accept = (entries: unknown) => app.write('rollbacks/accepted-failures.json', JSON.stringify({ accepted: entries }, null, 2))
  const statuses = (result: CliResult) =>
    (JSON.parse(result.stdout) as VerifyJson).migrations.map(({ name, status }) => [name.slice(-8), status])

  test('--only verifies the one named, on a --scratch-url server with no DATABASE_URL, in CI', async () => {
    const result = await runCli(['verify-rollbacks', '--only', 'add_motto', '--scratch-url', TEST_SERVER_URL, '--json'], {
      cwd: app.root,
      env: { CI: 'true' },
    })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(statuses(result)).toEqual([
      ['730_init', 'skipped'],
      ['dd_motto', 'ok'],
      ['_add_age', 'skipped'],
      ['add_city', 'skipped'],
    ])
  })

  test('an accepted failure passes the run with its reason', async () => {
    accept([{ migration: M2, reason: 'shipped in 2099; the column is dropped by hand' }])
    const result = await verify(app.root, '--only', M2, '--json')
    expect(result.code).toBe(0)
    const json = JSON.parse(result.stdout) as VerifyJson
    expect(json.migrations.find((migration) => migration.name === M2)).toMatchObject({
      status: 'differs',
      accepted: { reason: 'shipped in 2099; the column is dropped by hand' },
    })
    expect(json.ok).toBe(true)
  })

  test('--from starts at a migration; an accepted failure that now passes fails the run, so the file stays true', async () => {
    accept([{ migration: M3, reason: 'was broken once' }])
    const result = await verify(app.root, '--from', M3)
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(new RegExp(`^${M2} +skipped +applied only`, 'm'))
    expect(result.stdout).toContain(`${M3} is listed in rollbacks/accepted-failures.json but now passes: remove it from the file`)
  })

  test('a wrong accepted file, an unknown migration or a bad --scratch-url is refused before any database is made (exit 2)', async () => {
    for (const [entries, message] of [
      [[{ migration: M2 }], `rollbacks/accepted-failures.json: ${M2} has no "reason": every accepted failure says why`],
      [[{ migration: '20990109000000_gone', reason: 'x' }], '20990109000000_gone is not a migration of this project'],
      [
        [
          { migration: M2, reason: 'a' },
          { migration: M2, reason: 'b' },
        ],
        `${M2} is listed twice`,
      ],
    ] as const) {
      accept(entries)
      const result = await verify(app.root)
      expect({ code: result.code, message: result.stderr.includes(message) }).toEqual({ code: 2, message: true })
      expect(result.stderr).not.toContain(SCRATCH_PREFIX)
    }
    accept([])
    const unknown = await verify(app.root, '--only', 'no_such_migration')
    expect(unknown.code).toBe(2)
    const nothing = await verify(app.root, '--from', M3, '--only', M1)
    expect(nothing.code).toBe(2)
    expect(nothing.stderr).toContain('--from and --only together select no migration')
    expect(nothing.stderr).not.toContain(SCRATCH_PREFIX)
    const badUrl = await runCli(['verify-rollbacks', '--scratch-url', 'mysql://root@localhost/x'], { cwd: app.root })
    expect(badUrl.code).toBe(2)
    expect(badUrl.stderr).toContain('--scratch-url is not a PostgreSQL URL')
  })
})

describe('interrupted', () => {
  /** Starts a run on the example app and resolves once it has verified its first migration. */
  async function startAndWaitForFirstResult(): Promise<{
    child: ReturnType<typeof startCli>
    done: Promise<CliResult>
    scratch: Promise<string>
  }> {
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
