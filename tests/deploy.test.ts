import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Client } from 'pg'
import { PRISMA_MIGRATE_LOCK, applyingMigration } from '../packages/prisma-migrate-kit/src/prisma/migrations'
import { sweepStagedFolders } from '../packages/prisma-migrate-kit/src/rollback/staging'
import { runPrisma } from '../packages/prisma-migrate-kit/src/prisma/cli'
import { projectAt } from '../packages/prisma-migrate-kit/src/project'
import { runCli, startCli, collect, type CliResult } from './helpers/cli'
import { createTestDatabase, type TestDatabase } from './helpers/database'
import { createTempProject, type TempProject } from './helpers/project'
import { addMigration, prismaRows } from './helpers/rollback'
import { assertBuilt } from './helpers/schema-engine'
import { waitFor } from './helpers/backfill'

// `migrate-kit plan` and `migrate-kit deploy`, the real binary running the real `prisma migrate deploy`: the example
// app stops at its gate until the backfill is done, --until and --dry-run, --run-backfills, the refusals, a second
// deploy at the same time, and a gate found from column effects alone.

let db: TestDatabase
const projects: TempProject[] = []

const EXPAND = ['20261123105730_init', '20261123113452_expand_display_name', '20261123113457_expand_total_puzzles']
const CONTRACT = ['20261123115833_contract_display_name_check', '20261123115901_contract_display_name']

function project(): TempProject {
  const created = createTempProject()
  projects.push(created)
  return created
}

const run = (app: TempProject, ...args: string[]): Promise<CliResult> =>
  runCli(args, { cwd: app.root, env: { DATABASE_URL: db.url }, timeoutMs: 120_000 })

/** Empties the database: every test starts from a database Prisma never touched. */
async function resetDatabase(): Promise<void> {
  await db.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public; DROP SCHEMA IF EXISTS migrate_kit CASCADE')
}

/** Migrations Prisma recorded as applied (finished, not rolled back), in order. */
async function applied(): Promise<string[]> {
  const [present] = await db.query<{ present: boolean }>(`SELECT to_regclass('_prisma_migrations') IS NOT NULL AS present`)
  if (!present?.present) return []
  return (await prismaRows(db)).filter((row) => row.finished && !row.rolled_back).map((row) => row.migration_name)
}

interface StepJson {
  kind: string
  migrations?: Array<{ name: string; phase: string; waitsFor: string[] }>
  backfill?: string
  migration?: string
  runBy?: string
  command?: string
  waits?: Array<{ backfill: string; ready: boolean; why: string }>
  result?: { status: string; seconds: number; detail: string; checks?: Array<{ name: string; status: string }> }
}

interface PlanJson {
  steps: StepJson[]
  migrations: string[]
}

/** A step without what the run added to it: what the plan said. */
function planned(step: StepJson): StepJson {
  const { result: _result, ...rest } = step
  return rest
}

beforeAll(async () => {
  assertBuilt()
  db = await createTestDatabase('deploy')
})

beforeEach(resetDatabase)

afterAll(async () => {
  for (const created of projects) created.remove()
  await db?.drop()
})

test('plan lists the steps with their commands: expand, the backfill, the gate, the contract, the checks', async () => {
  const app = project()
  const text = await run(app, 'plan')
  expect(text.code).toBe(0)
  expect(text.stdout).toContain('Plan: 5 migrations to apply (3 expand, 2 contract); 1 backfill a migration waits for; 1 gate.')
  expect(text.stdout).toContain('$ npx migrate-kit backfill run users_display_name')
  expect(text.stdout).toContain('deploy stops here (exit 3) unless users_display_name is done and verified by then')

  const json = await run(app, 'plan', '--json')
  expect(json.code).toBe(0)
  const plan = JSON.parse(json.stdout) as PlanJson
  expect(
    plan.steps.map((step) => [step.kind, step.backfill ?? step.migration ?? step.migrations?.map((m) => m.name).join(',') ?? '']),
  ).toEqual([
    ['migrate', EXPAND.join(',')],
    ['backfill', 'users_display_name'],
    ['backfill', 'users_total_puzzles'],
    ['gate', CONTRACT[0]],
    ['migrate', CONTRACT.join(',')],
    ['checks', ''],
  ])
  expect(plan.steps[0].migrations!.map((migration) => migration.phase)).toEqual(['expand', 'expand', 'expand'])
  expect(plan.steps[4].migrations).toEqual([
    { name: CONTRACT[0], phase: 'contract', waitsFor: ['users_display_name'] },
    { name: CONTRACT[1], phase: 'contract', waitsFor: ['users_display_name'] },
  ])
  expect(plan.steps[1]).toEqual(
    expect.objectContaining({ runBy: 'operator', command: 'npx migrate-kit backfill run users_display_name', unblocks: CONTRACT }),
  )
  expect(plan.steps[3].waits).toEqual([
    expect.objectContaining({ backfill: 'users_display_name', ready: false, why: expect.stringContaining('users.display_name') }),
  ])
  // plan is read-only: nothing was created.
  expect(await applied()).toEqual([])
  expect(await db.query(`SELECT nspname FROM pg_namespace WHERE nspname = 'migrate_kit'`)).toEqual([])
})

test('the dry run changes nothing and prints the steps the real run then executes; the run stops at the gate (exit 3)', async () => {
  const app = project()
  const dry = await run(app, 'deploy', '--dry-run', '--json')
  expect(dry.code).toBe(0)
  const plan = JSON.parse(dry.stdout) as PlanJson & { dryRun: boolean }
  expect(plan.dryRun).toBe(true)
  expect(await applied()).toEqual([])

  const real = await run(app, 'deploy', '--json')
  expect(real.code).toBe(3)
  const executed = JSON.parse(real.stdout) as PlanJson & { outcome: string; next: string[] }
  expect(executed.steps.map(planned)).toEqual(plan.steps)
  expect(executed.steps.map((step) => step.result!.status)).toEqual([
    'done',
    'skipped',
    'skipped',
    'blocked',
    'not_executed',
    'not_executed',
  ])
  expect(executed.outcome).toBe('blocked')
  expect(executed.next).toEqual(['npx migrate-kit backfill run users_display_name', 'npx migrate-kit deploy'])
  expect(real.stderr).toContain(
    `deploy stopped at a gate: ${CONTRACT[0]} (contract) waits for backfill users_display_name, which is not run yet`,
  )
  expect(real.stderr).toMatch(/Next:\n {2}npx migrate-kit backfill run users_display_name\n {2}npx migrate-kit deploy\n/)
  // Prisma applied the expand migrations and never saw the contract ones.
  expect(await applied()).toEqual(EXPAND)
  expect((await prismaRows(db)).map((row) => row.migration_name)).toEqual(EXPAND)
  const [column] = await db.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'username'`)
  expect(column).toBeDefined()

  // The terminal form: each step with what it did and how long it took.
  const again = await run(app, 'deploy')
  expect(again.code).toBe(3)
  expect(again.stdout).toMatch(/^BLOCKED +\d+\. gate +closed: users_display_name not run yet \(\d+\.\d s\)$/m)

  // Once the backfill is done and verified, the gate opens: the contract runs, then the integrity checks.
  await db.query(`INSERT INTO users (email, username) SELECT 'u' || g || '@example.com', 'user' || g FROM generate_series(1, 50) g`)
  expect((await run(app, 'backfill', 'run', 'users_display_name')).code).toBe(0)
  const passed = await run(app, 'deploy')
  expect(passed.code).toBe(0)
  expect(passed.stdout).toMatch(/^ok +\d+\. gate +open: users_display_name done and verified/m)
  expect(passed.stdout).toMatch(new RegExp(`^ok +\\d+\\. migrate +applied ${CONTRACT.join(', ')} \\(\\d+\\.\\d s\\)$`, 'm'))
  expect(passed.stdout).toMatch(/^ok +\d+\. checks +3 integrity checks pass/m)
  expect(await applied()).toEqual([...EXPAND, ...CONTRACT])

  // Its contract applied, the backfill has nothing left to do: it says so instead of failing on the dropped username.
  const obsolete = await run(app, 'backfill', 'run', 'users_display_name')
  expect(obsolete.code).toBe(0)
  expect(obsolete.stdout).toContain(`users_display_name is no longer needed: ${CONTRACT[1]}, the migration it prepared, is already applied`)

  const nothing = await run(app, 'deploy')
  expect(nothing.code).toBe(0)
  expect(nothing.stdout).toContain('Done: nothing to apply: every migration is applied, and the integrity checks pass.')
}, 120_000)

test('--until applies up to that migration; an unknown or applied one is refused (exit 2)', async () => {
  const app = project()
  const until = await run(app, 'deploy', '--until', 'expand_display_name')
  expect(until.code).toBe(0)
  expect(until.stdout).toContain('Done: applied 2 migrations up to 20261123113452_expand_display_name; 3 migrations left for later.')
  expect(until.stdout).not.toContain('checks')
  expect(await applied()).toEqual(EXPAND.slice(0, 2))

  const unknown = await run(app, 'deploy', '--until', 'no_such_migration')
  expect(unknown.code).toBe(2)
  expect(unknown.stderr).toContain('no migration named "no_such_migration"')
  const behind = await run(app, 'deploy', '--until', EXPAND[0])
  expect(behind.code).toBe(2)
  expect(behind.stderr).toContain(`deploy refused, nothing was changed: --until ${EXPAND[0]}: migration ${EXPAND[0]} is already applied`)
  expect(await applied()).toEqual(EXPAND.slice(0, 2))
}, 60_000)

test('--run-backfills runs the backfill the gate waits for, with the --backfill-* settings, and goes on to the end', async () => {
  const app = project()
  expect((await run(app, 'deploy', '--until', EXPAND[2])).code).toBe(0)
  await db.query(`INSERT INTO users (email, username) SELECT 'u' || g || '@example.com', 'user' || g FROM generate_series(1, 30) g`)
  // Throttled as an operator would: 10 rows a second caps each batch at 10 rows (one second of rows).
  const result = await run(
    app,
    'deploy',
    '--run-backfills',
    '--backfill-max-rows-per-second',
    '10',
    '--backfill-lock-timeout-ms',
    '300',
    '--json',
  )
  expect(result.code).toBe(0)
  const batches = await db.query<{ rows: number }>(`SELECT rows FROM migrate_kit.backfill_ranges WHERE backfill = 'users_display_name'`)
  expect(batches.length).toBeGreaterThanOrEqual(3)
  expect(Math.max(...batches.map((batch) => batch.rows))).toBeLessThanOrEqual(10)
  const document = JSON.parse(result.stdout) as PlanJson & { outcome: string }
  expect(document.steps.map((step) => [step.kind, step.result!.status])).toEqual([
    ['backfill', 'done'],
    ['backfill', 'skipped'], // users_total_puzzles: nothing waits for it, so deploy leaves it to a person
    ['gate', 'done'],
    ['migrate', 'done'],
    ['checks', 'done'],
  ])
  expect(document.steps[0]).toEqual(expect.objectContaining({ backfill: 'users_display_name', runBy: 'deploy' }))
  expect(await applied()).toEqual([...EXPAND, ...CONTRACT])
  expect(await db.query(`SELECT count(*)::int AS missing FROM users WHERE display_name IS NULL`)).toEqual([{ missing: 0 }])
}, 60_000)

test('refused before anything runs (exit 2): a failed migration, an applied migration.sql edited since', async () => {
  const app = project()
  addMigration(app, '20261201000000_broken', 'CREATE TABLE half_done (id int);\nALTER TABLE no_such_table ADD COLUMN x int;\n')
  const prisma = await runPrisma(projectAt(app.root), ['migrate', 'deploy'], { databaseUrl: db.url })
  expect(prisma.code).toBe(1)
  const failed = await run(app, 'deploy')
  expect(failed.code).toBe(2)
  expect(failed.stderr).toContain('deploy refused, nothing was changed: migration 20261201000000_broken failed in this database')
  expect(failed.stderr).toContain('npx migrate-kit prisma migrate resolve --rolled-back 20261201000000_broken')
  expect((await run(app, 'deploy', '--dry-run')).code).toBe(2)
  rmSync(app.path('prisma/migrations/20261201000000_broken'), { recursive: true })
  await db.query(`DELETE FROM _prisma_migrations WHERE migration_name = '20261201000000_broken'`)

  app.write(
    'prisma/migrations/20261123105730_init/migration.sql',
    `-- edited\n${readFileSync(app.path('prisma/migrations/20261123105730_init/migration.sql'), 'utf8')}`,
  )
  const rowsBefore = await prismaRows(db)
  const edited = await run(app, 'deploy')
  expect(edited.code).toBe(2)
  expect(edited.stderr).toContain('prisma/migrations/20261123105730_init/migration.sql was edited after it was applied')
  expect(await prismaRows(db)).toEqual(rowsBefore)
}, 60_000)

test("a second deploy while one runs exits 4 at once; so does one while Prisma's own lock is held", async () => {
  const app = project()
  const [first, second] = await Promise.all([
    collect(startCli(['deploy'], { cwd: app.root, env: { DATABASE_URL: db.url } })),
    collect(startCli(['deploy'], { cwd: app.root, env: { DATABASE_URL: db.url } })),
  ])
  const results = [first, second].sort((a, b) => (a.code ?? 0) - (b.code ?? 0))
  expect(results.map((result) => result.code)).toEqual([3, 4])
  expect(results[1].stderr).toMatch(
    /another migrate-kit deploy is running on this database \(session pid \d+, "migrate-kit deploy \(.+, pid \d+\)"/,
  )
  expect(await applied()).toEqual(EXPAND)

  // A bare `prisma migrate deploy` (or a rollback) holds Prisma's lock: refused rather than queued behind it.
  await resetDatabase()
  const holder = new Client({ connectionString: db.url, application_name: 'someone else' })
  await holder.connect()
  try {
    await holder.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK])
    const started = Date.now()
    const refused = await run(app, 'deploy')
    expect(refused.code).toBe(4)
    expect(refused.stderr).toContain(
      `Prisma Migrate's lock on this database (pg_advisory_lock(${PRISMA_MIGRATE_LOCK})) is held (session pid`,
    )
    expect(refused.stderr).toContain('"someone else"')
    expect(Date.now() - started).toBeLessThan(15_000)
    expect(await applied()).toEqual([])
  } finally {
    await holder.end()
  }
}, 60_000)

/** Whether a process is gone (a zombie nobody reaps counts as gone: it runs nothing). */
function gone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true
  } catch {
    return true
  }
}

function childrenOf(pid: number): number[] {
  const result = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
  return result.stdout.split('\n').filter(Boolean).map(Number)
}

test('a migration being applied shows as in progress and a second deploy exits 4 naming it; deploy killed with -9 takes Prisma and its engine with it, the server rolls the migration back, no temporary folder is left', async () => {
  const app = project()
  const waiting = '20261123105731_wait_for_lock'
  addMigration(app, waiting, 'CREATE TABLE waited (id integer);\nSELECT pg_advisory_xact_lock(4242);\n')
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'mk-deploy-kill-'))
  const blocker = new Client({ connectionString: db.url, application_name: 'test blocker' })
  await blocker.connect()
  try {
    await blocker.query('SELECT pg_advisory_lock(4242)')
    // A lock_timeout longer than the test: with the default 5 s, a loaded machine's three CLI runs below outlast it, and
    // the first deploy is between two tries (nothing being applied) when the second one looks.
    const first = startCli(['deploy', '--lock-timeout', '600000'], { cwd: app.root, env: { DATABASE_URL: db.url, TMPDIR: tmp } })
    const firstDone = collect(first)
    await waitFor(
      'the migration to wait for the lock',
      async () =>
        (
          await db.query(
            `SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND query LIKE '%pg_advisory_xact_lock(4242)%'`,
            [db.name],
          )
        ).length > 0,
      60_000,
    )

    const status = await run(app, 'status', '--json')
    const states = JSON.parse(status.stdout) as { migrations: Array<{ name: string; state: string }> }
    expect(states.migrations.find((migration) => migration.name === waiting)?.state).toBe('in_progress')
    const text = await run(app, 'status')
    expect(text.stdout).toMatch(new RegExp(`${waiting} +in progress .*being applied now`))
    expect(text.stdout).toMatch(/1 in progress/)
    const second = await run(app, 'deploy')
    expect(second.code).toBe(4)
    expect(second.stderr).toMatch(
      new RegExp(`another migrate-kit deploy is running on this database .*; it is applying migration ${waiting} \\(started `),
    )

    const staged = readdirSync(tmp).filter((name) => name.startsWith(`migrate-kit-deploy-${first.pid}-`))
    expect(staged).toHaveLength(1)
    const prisma = spawnSync('pgrep', ['-f', staged[0]], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number)
    expect(prisma.length).toBeGreaterThan(0)
    const descendants = [...prisma, ...prisma.flatMap(childrenOf)]
    expect(descendants.length).toBeGreaterThan(prisma.length) // the schema engine, started by the Prisma CLI

    first.kill('SIGKILL')
    await firstDone
    await waitFor('Prisma and its engine to die with it', () => descendants.every(gone), 10_000)
    // (jiti, which loads the config files, keeps its own cache there: not ours.)
    await waitFor('its temporary folder removed', () => readdirSync(tmp).every((name) => !name.startsWith('migrate-kit-')), 10_000)
    await waitFor(
      'the server to end the migration’s session',
      async () =>
        (
          await db.query(
            `SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_advisory_xact_lock(4242)%' AND datname = $1 AND pid <> pg_backend_pid()`,
            [db.name],
          )
        ).length === 0,
      15_000,
    )
  } finally {
    await blocker.end()
    rmSync(tmp, { recursive: true, force: true })
  }
  // Nothing of it committed, even with the lock free now; Prisma's row is unfinished: it failed, and says so.
  expect(await db.query(`SELECT to_regclass('waited') AS waited`)).toEqual([{ waited: null }])
  const after = JSON.parse((await run(app, 'status', '--json')).stdout) as { migrations: Array<{ name: string; state: string }> }
  expect(after.migrations.find((migration) => migration.name === waiting)?.state).toBe('failed')
  const refused = await run(app, 'deploy')
  expect(refused.code).toBe(2)
  expect(refused.stderr).toContain(`migration ${waiting} failed in this database`)
}, 120_000)

test('the temporary folders of processes that are gone are swept; a live process keeps its own', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'mk-sweep-'))
  try {
    const deadPid = spawnSync('true').pid
    const dead = `migrate-kit-deploy-${deadPid}-abc123`
    const live = `migrate-kit-verify-${process.pid}-def456`
    for (const name of [dead, live, 'migrate-kit-notes', 'other-folder']) mkdirSync(path.join(tmp, name))
    expect(sweepStagedFolders(tmp)).toEqual([dead])
    expect(readdirSync(tmp).sort()).toEqual(['migrate-kit-notes', live, 'other-folder'].sort())
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
})

test('an unfinished row is a migration in progress only while Prisma holds its lock in a session older than the row', () => {
  const row = (name: string, startedAt: string, finished = false) => ({
    id: name,
    name,
    checksum: 'x',
    startedAt: new Date(startedAt),
    finishedAt: finished ? new Date(startedAt) : null,
    rolledBackAt: null,
    logs: null,
    appliedStepsCount: 0,
  })
  const records = [
    row('1_old_failure', '2026-12-01T00:00:00Z'),
    row('2_done', '2026-12-02T00:00:00Z', true),
    row('3_now', '2026-12-07T10:00:05Z'),
  ]
  const holder = { pid: 1, application: 'prisma', since: new Date('2026-12-07T10:00:00Z'), client: null }
  expect(applyingMigration(records, holder)?.name).toBe('3_now')
  expect(applyingMigration(records, undefined)).toBeUndefined()
  // The lock is held by a session that started after the newest unfinished row: that row is an old failure.
  expect(applyingMigration(records.slice(0, 2), holder)).toBeUndefined()
  expect(applyingMigration(records, { ...holder, since: null })?.name).toBe('3_now')
})

test('a migration that waits for a lock an app transaction holds gives up after --lock-timeout, is rolled back and retried with backoff, naming the session; it goes on once the lock is free', async () => {
  const app = project()
  expect((await run(app, 'deploy', '--until', '20261123105730_init')).code).toBe(0)
  // No SET lock_timeout of its own (the example app's migrations have one): --lock-timeout bounds its wait.
  const expand = '20261123105731_add_nickname'
  addMigration(app, expand, 'ALTER TABLE "users" ADD COLUMN "nickname" TEXT;\n')
  const blocker = new Client({ connectionString: db.url, application_name: 'test app' })
  await blocker.connect()
  try {
    await blocker.query('BEGIN')
    await blocker.query('SELECT * FROM users LIMIT 1')
    const started = Date.now()
    const refused = await run(app, 'deploy', '--lock-timeout', '300', '--lock-retries', '1')
    expect(refused.code).toBe(1)
    const holder = String.raw`session pid \d+ \("test app", idle in transaction, its last query started .+?: SELECT \* FROM users LIMIT 1\)`
    expect(refused.stderr).toMatch(
      new RegExp(
        `migration ${expand} gave up waiting for a lock \\(lock_timeout: --lock-timeout 300 ms; held by ${holder}\\); nothing of it was applied; trying again in 1 s \\(attempt 2 of 2\\)`,
      ),
    )
    expect(refused.stderr).toMatch(
      new RegExp(
        `deploy failed: migration ${expand} gave up waiting for a lock .*, 2 times; it is marked rolled back, so the next deploy applies it`,
      ),
    )
    expect(refused.stderr).not.toMatch(/resolve --rolled-back/)
    expect(Date.now() - started).toBeLessThan(30_000)
    const states = JSON.parse((await run(app, 'status', '--json')).stdout) as { migrations: Array<{ name: string; state: string }> }
    expect(states.migrations.find((migration) => migration.name === expand)?.state).toBe('rolled_back')
    expect(
      await db.query(
        `SELECT count(*)::int AS columns FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'nickname'`,
      ),
    ).toEqual([{ columns: 0 }])

    // The app's transaction ends while deploy waits to try again: the next attempt applies it.
    const deploying = startCli(['deploy', '--lock-timeout', '1500'], { cwd: app.root, env: { DATABASE_URL: db.url } })
    let stderr = ''
    deploying.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const done = collect(deploying)
    // A wait over a second is said while it lasts, naming the holder.
    await waitFor(
      'the wait to be said',
      () => /A migration is waiting for a lock held by session pid \d+ \("test app", idle in transaction/.test(stderr),
      30_000,
    )
    await waitFor('a first lock timeout', () => stderr.includes('trying again in 1 s (attempt 2 of 4)'), 30_000)
    await blocker.query('COMMIT')
    const result = await done
    expect(result.code).toBe(3)
    expect(result.stdout).toMatch(/ok +1\. migrate +applied .*20261123113457_expand_total_puzzles \(after 1 lock timeout\)/)
    expect(await applied()).toEqual([EXPAND[0], expand, ...EXPAND.slice(1)])
  } finally {
    await blocker.end()
  }
}, 120_000)

test('a migration that drops or tightens a column a backfill writes waits for it, with no before: anywhere', async () => {
  const app = project()
  addMigration(app, '20261201000000_expand_nickname', `ALTER TABLE "users" ADD COLUMN "nickname" TEXT;\n`)
  addMigration(
    app,
    '20261202000000_contract_nickname',
    `SET lock_timeout = '5s';\nALTER TABLE "users" ALTER COLUMN "nickname" SET NOT NULL;\n`,
  )
  app.write(
    'backfills/users_nickname.ts',
    `import { defineBackfill, sql } from 'prisma-migrate-kit'\n\nexport default defineBackfill({\n  name: 'users_nickname',\n  after: 'expand_nickname',\n  table: 'users',\n  update: sql\`nickname = display_name\`,\n  where: sql\`nickname IS NULL\`,\n})\n`,
  )
  expect((await run(app, 'deploy', '--until', 'expand_nickname', '--run-backfills')).code).toBe(0)
  await db.query(`INSERT INTO users (email, display_name) VALUES ('late@example.com', 'late')`)

  const stopped = await run(app, 'deploy')
  expect(stopped.code).toBe(3)
  expect(stopped.stderr).toContain('20261202000000_contract_nickname (contract) waits for backfill users_nickname, which is not run yet')
  const plan = JSON.parse((await run(app, 'plan', '--json')).stdout) as PlanJson
  expect(plan.steps.find((step) => step.kind === 'gate')!.waits).toEqual([
    expect.objectContaining({
      backfill: 'users_nickname',
      why: 'line 2 makes users.nickname NOT NULL (users.nickname, which the backfill touches)',
    }),
  ])
  expect(await applied()).toEqual([...EXPAND, ...CONTRACT, '20261201000000_expand_nickname'])

  expect((await run(app, 'backfill', 'run', 'users_nickname')).code).toBe(0)
  expect((await run(app, 'deploy')).code).toBe(0)
  expect(await applied()).toEqual([...EXPAND, ...CONTRACT, '20261201000000_expand_nickname', '20261202000000_contract_nickname'])
}, 90_000)

test('a done backfill whose expand migration is rolled back is not applicable (no verify on a dropped column); applied again, its run starts over', async () => {
  const app = project()
  expect((await run(app, 'deploy', '--until', EXPAND[2])).code).toBe(0)
  await db.query(`INSERT INTO users (email, username) SELECT 'u' || g || '@example.com', 'user' || g FROM generate_series(1, 30) g`)
  expect((await run(app, 'backfill', 'run', 'users_display_name')).code).toBe(0)
  expect((await run(app, 'rollback', EXPAND[2])).code).toBe(0)
  expect((await run(app, 'rollback', EXPAND[1])).code).toBe(0)

  // The plan reads the backfill without running its verify on users.display_name, which the rollback dropped.
  const plan = await run(app, 'plan')
  expect(plan.stderr).not.toContain('does not exist')
  expect(plan.code).toBe(0)
  expect(plan.stdout).toContain(
    `its after migration ${EXPAND[1]} is not applied any more (rolled back since it ran): not applicable until it is applied again`,
  )
  const status = await run(app, 'backfill', 'status', 'users_display_name', '--json')
  expect(status.code).toBe(0)
  expect(JSON.parse(status.stdout)).toMatchObject({ status: 'pending', reset: expect.stringContaining('not applicable') })

  // Applied again, the column is new and empty: the run knows the old ledger speaks of rows changed back, and starts over.
  expect((await run(app, 'deploy', '--until', EXPAND[2])).code).toBe(0)
  const again = await run(app, 'backfill', 'run', 'users_display_name')
  expect(again.stderr).toContain(`its after migration ${EXPAND[1]} was rolled back and applied again since it ran`)
  expect(again.code).toBe(0)
  expect(await db.query(`SELECT count(*)::int AS missing FROM users WHERE display_name IS NULL`)).toEqual([{ missing: 0 }])
}, 120_000)
