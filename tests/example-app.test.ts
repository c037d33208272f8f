import { existsSync } from 'node:fs'
import path from 'node:path'
import { runCli, type CliResult } from './helpers/cli'
import { createTestDatabase, type TestDatabase } from './helpers/database'
import { createTempProject, REPO_ROOT, type TempProject } from './helpers/project'
import { assertBuilt } from './helpers/schema-engine'

// The gates of "no silent success", on this repository's example app: its own package.json (opted in to the
// embedded PostgreSQL), its five migrations with their rollbacks, its backfills and the gate between them. The
// commands run in the repository itself, as `npx migrate-kit …` does there; only what adds a migration runs on a copy.

const INIT = '20261123105730_init'
const CONTRACT = '20261123115901_contract_display_name'
const EXAMPLE_MIGRATIONS = [
  INIT,
  '20261123113452_expand_display_name',
  '20261123113457_expand_total_puzzles',
  '20261123115833_contract_display_name_check',
  CONTRACT,
]

interface StatusJson {
  migrations: Array<{ name: string; state: string }>
}

const states = (result: CliResult): string[][] =>
  (JSON.parse(result.stdout) as StatusJson).migrations.map(({ name, state }) => [name, state])

const inExampleApp = (args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> =>
  runCli(args, { cwd: REPO_ROOT, env, timeoutMs: 180_000 })

beforeAll(() => assertBuilt())

describe('the example app with no DATABASE_URL and CI set', () => {
  const embeddedData = path.join(REPO_ROOT, '.migrate-kit', 'postgres')

  test('every command that changes a database refuses (exit 2), saying what to set; no embedded database is made', async () => {
    const hadEmbedded = existsSync(embeddedData)
    const changing = [
      ['deploy'],
      ['deploy', '--dry-run'],
      ['rollback', CONTRACT],
      ['backfill', 'run', 'users_display_name'],
      ['backfill', 'cancel', 'users_display_name'],
      ['verify-rollbacks'],
      ['prisma', 'migrate', 'deploy'],
    ]
    for (const args of changing) {
      const result = await inExampleApp(args, { CI: 'true' })
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 2, stdout: '' })
      expect(result.stderr).toContain('no database: DATABASE_URL is not set, and CI is set: this command changes a database')
      expect(result.stderr).toContain('Set DATABASE_URL to the database this command is for (a CI secret).')
    }
    // The example app opted in, so a developer's embedded database may exist; a refusal never creates one.
    if (!hadEmbedded) expect(existsSync(embeddedData)).toBe(false)
  }, 300_000)
})

describe('the example app on a real database: status exit codes and the next steps it prints', () => {
  let db: TestDatabase

  beforeAll(async () => {
    db = await createTestDatabase('example_app')
  })
  afterAll(async () => {
    await db?.drop()
  })

  test('status exits 1 while migrations are pending, 0 once all are applied, 1 again after a rollback', async () => {
    const env = { DATABASE_URL: db.url }
    const fresh = await inExampleApp(['status', '--json'], env)
    expect(fresh.code).toBe(1)
    expect(states(fresh)).toEqual(EXAMPLE_MIGRATIONS.map((name) => [name, 'pending']))

    // The contract waits for its backfill: deploy stops at the gate (exit 3) and status still says "not all applied".
    const gated = await inExampleApp(['deploy'], env)
    expect(gated.code).toBe(3)
    expect(gated.stderr).toContain('npx migrate-kit backfill run users_display_name')
    expect((await inExampleApp(['status'], env)).code).toBe(1)

    expect((await inExampleApp(['backfill', 'run', 'users_display_name'], env)).code).toBe(0)
    expect((await inExampleApp(['deploy'], env)).code).toBe(0)
    const applied = await inExampleApp(['status', '--json'], env)
    expect(applied.code).toBe(0)
    expect(states(applied)).toEqual(EXAMPLE_MIGRATIONS.map((name) => [name, 'applied']))
    expect((await inExampleApp(['status'], env)).code).toBe(0)

    // A rollback prints next steps that keep the gate and work offline: never a bare `prisma migrate …`.
    const rollback = await inExampleApp(['rollback', CONTRACT], env)
    expect(rollback.code).toBe(0)
    expect(rollback.stdout + rollback.stderr).toContain('re-apply later: npx migrate-kit deploy')
    expect(rollback.stdout + rollback.stderr).not.toMatch(/(^|[^-])\bnpx prisma\b/m)
    const rolledBack = await inExampleApp(['status', '--json'], env)
    expect(rolledBack.code).toBe(1)
    expect(states(rolledBack).at(-1)).toEqual([CONTRACT, 'rolled_back'])
  }, 300_000)

  test('a migration of the example app that fails: deploy exits 1 naming it, status exits 1 "failed", the hint works', async () => {
    const broken = await createTestDatabase('example_app_failed')
    try {
      const env = { DATABASE_URL: broken.url }
      // Tables but no migration history (Prisma's P3005): deploying again cannot help, baselining can.
      await broken.query('CREATE TABLE users (id int)')
      const notEmpty = await inExampleApp(['deploy'], env)
      expect(notEmpty.code).toBe(1)
      expect(notEmpty.stdout + notEmpty.stderr).toContain('P3005')
      expect(notEmpty.stderr).toContain('npx migrate-kit prisma migrate resolve --applied <migration>')
      await broken.query('DROP TABLE users')

      // Up to the gate, then the newest expand is rolled back and someone adds its column by hand: re-applying fails.
      expect((await inExampleApp(['deploy'], env)).code).toBe(3)
      const EXPAND = EXAMPLE_MIGRATIONS[2]
      expect((await inExampleApp(['rollback', EXPAND], env)).code).toBe(0)
      await broken.query('ALTER TABLE users ADD COLUMN total_puzzles_completed int')
      const deploy = await inExampleApp(['deploy'], env)
      expect(deploy.code).toBe(1)
      expect(deploy.stdout + deploy.stderr).toContain(`prisma migrate deploy failed at ${EXPAND}`)
      expect(deploy.stderr).toContain(`npx migrate-kit prisma migrate resolve --rolled-back ${EXPAND}`)
      const status = await inExampleApp(['status', '--json'], env)
      expect(status.code).toBe(1)
      expect(states(status)[2]).toEqual([EXPAND, 'failed'])

      // The printed recovery, as printed: undo what is in the way, resolve, deploy again (up to the gate).
      await broken.query('ALTER TABLE users DROP COLUMN total_puzzles_completed')
      expect((await inExampleApp(['prisma', 'migrate', 'resolve', '--rolled-back', EXPAND], env)).code).toBe(0)
      expect((await inExampleApp(['deploy'], env)).code).toBe(3)
      expect(states(await inExampleApp(['status', '--json'], env)).slice(0, 3)).toEqual(
        EXAMPLE_MIGRATIONS.slice(0, 3).map((name) => [name, 'applied']),
      )
    } finally {
      await broken.drop()
    }
  }, 300_000)
})

describe("a migration added to the example app's history (a copy of it) that leaves a transaction open or fails half-way", () => {
  const ADDED = '20261201090000_add_nickname'
  let app: TempProject
  let db: TestDatabase

  beforeAll(async () => {
    app = createTempProject({ embeddedDatabase: true })
    db = await createTestDatabase('example_app_added')
  })
  afterAll(async () => {
    await db?.drop()
    app?.remove()
  })

  const inCopy = (args: string[]): Promise<CliResult> => runCli(args, { cwd: app.root, env: { DATABASE_URL: db.url }, timeoutMs: 180_000 })
  const nicknameColumns = async (): Promise<number> =>
    (
      await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'nickname'`,
      )
    )[0].n

  test('lint refuses it, deploy fails it and leaves nothing, the printed recovery leads to a clean deploy', async () => {
    app.write(`prisma/migrations/${ADDED}/migration.sql`, 'BEGIN;\nALTER TABLE "users" ADD COLUMN "nickname" TEXT;\n')
    app.write(`rollbacks/${ADDED}/rollback.sql`, 'ALTER TABLE "users" DROP COLUMN "nickname";\n')
    const lint = await inCopy(['lint', `prisma/migrations/${ADDED}/migration.sql`])
    expect(lint.code).toBe(1)
    expect(lint.stdout).toContain('transaction-control')

    expect((await inCopy(['deploy'])).code).toBe(3)
    expect((await inCopy(['backfill', 'run', 'users_display_name'])).code).toBe(0)
    const open = await inCopy(['deploy'])
    expect(open.code).toBe(1)
    expect(open.stdout + open.stderr).toContain(ADDED)
    expect(open.stdout + open.stderr).toMatch(/left a transaction open \(a BEGIN with no COMMIT\)/)
    expect(await nicknameColumns()).toBe(0)
    const failed = await inCopy(['status', '--json'])
    expect(failed.code).toBe(1)
    expect(states(failed)).toEqual([...EXAMPLE_MIGRATIONS.map((name) => [name, 'applied']), [ADDED, 'failed']])

    // Half-way: the column is added, then a statement fails; the column must not stay.
    app.write(
      `prisma/migrations/${ADDED}/migration.sql`,
      'ALTER TABLE "users" ADD COLUMN "nickname" TEXT;\nUPDATE "users" SET "nickname" = (1/0)::text;\n',
    )
    expect((await inCopy(['prisma', 'migrate', 'resolve', '--rolled-back', ADDED])).code).toBe(0)
    const halfWay = await inCopy(['deploy'])
    expect(halfWay.code).toBe(1)
    expect(halfWay.stdout + halfWay.stderr).toMatch(/division by zero/)
    expect(await nicknameColumns()).toBe(0)

    app.write(`prisma/migrations/${ADDED}/migration.sql`, 'ALTER TABLE "users" ADD COLUMN "nickname" TEXT;\n')
    expect((await inCopy(['prisma', 'migrate', 'resolve', '--rolled-back', ADDED])).code).toBe(0)
    expect((await inCopy(['deploy'])).code).toBe(0)
    expect(await nicknameColumns()).toBe(1)
    expect((await inCopy(['status'])).code).toBe(0)
  }, 300_000)
})
