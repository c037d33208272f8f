import { runPrisma } from '../packages/prisma-migrate-kit/src/prisma/cli'
import { projectAt } from '../packages/prisma-migrate-kit/src/project'
import { runCli, startCli } from './helpers/cli'
import { createTestDatabase, type TestDatabase } from './helpers/database'
import { createTempProject, type TempProject } from './helpers/project'

let db: TestDatabase
let app: TempProject

beforeAll(async () => {
  db = await createTestDatabase('status')
  app = createTempProject({ migrations: (name) => name === '20261123105730_init' })
})
afterAll(async () => {
  await db.drop()
  app.remove()
})

interface StatusJson {
  migrations: Array<{ name: string; state: string; rollback: string; onDisk: boolean; checksumMatches: boolean | null }>
  backfills: unknown[]
}

/** status --json, whose exit code is Prisma's: 0 every migration applied, 1 anything else. */
async function status(expectedCode: 0 | 1): Promise<StatusJson> {
  const result = await runCli(['status', '--json'], { cwd: app.root, env: { DATABASE_URL: db.url } })
  expect(result.stderr).toBe('')
  expect(result.code).toBe(expectedCode)
  return JSON.parse(result.stdout) as StatusJson
}

const prisma = (args: string[]) => runPrisma(projectAt(app.root), args, { databaseUrl: db.url })

test('a database Prisma never touched: every migration pending (exit 1), and status creates nothing', async () => {
  const { migrations } = await status(1)
  expect(migrations).toEqual([
    expect.objectContaining({ name: '20261123105730_init', state: 'pending', rollback: 'present', onDisk: true }),
  ])
  expect(await db.query(`SELECT nspname FROM pg_namespace WHERE nspname = 'migrate_kit'`)).toEqual([])
})

test('reads applied, failed, rolled back and pending exactly as Prisma recorded them', async () => {
  app.write('prisma/migrations/20261124000000_add_badges/migration.sql', 'CREATE TABLE badges (id int PRIMARY KEY);\n')
  app.write(
    'prisma/migrations/20261125000000_broken/migration.sql',
    'CREATE TABLE half_done (id int);\nALTER TABLE no_such_table ADD COLUMN x int;\n',
  )
  const deploy = await prisma(['migrate', 'deploy'])
  expect(deploy.code).toBe(1) // the broken migration fails, after the first two applied

  let { migrations } = await status(1)
  expect(migrations.map(({ name, state, rollback }) => [name, state, rollback])).toEqual([
    ['20261123105730_init', 'applied', 'present'],
    ['20261124000000_add_badges', 'applied', 'missing'],
    ['20261125000000_broken', 'failed', 'missing'],
  ])

  expect((await prisma(['migrate', 'resolve', '--rolled-back', '20261125000000_broken'])).code).toBe(0)
  app.write('prisma/migrations/20261126000000_later/migration.sql', 'CREATE TABLE later (id int);\n')
  ;({ migrations } = await status(1))
  expect(migrations.map(({ state }) => state)).toEqual(['applied', 'applied', 'rolled_back', 'pending'])
})

test('notices an applied migration edited since, and one whose folder is gone', async () => {
  app.write('prisma/migrations/20261124000000_add_badges/migration.sql', 'CREATE TABLE badges (id bigint PRIMARY KEY);\n')
  await db.query(
    `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
     VALUES ('manual', 'x', '20261101000000_removed_later', now(), now(), 1)`,
  )
  const { migrations } = await status(1)
  expect(migrations.find((m) => m.name === '20261124000000_add_badges')).toMatchObject({ checksumMatches: false })
  expect(migrations.find((m) => m.name === '20261101000000_removed_later')).toMatchObject({ state: 'applied', onDisk: false })
  expect(migrations.find((m) => m.name === '20261123105730_init')).toMatchObject({ checksumMatches: true })

  const table = await runCli(['status'], { cwd: app.root, env: { DATABASE_URL: db.url } })
  expect(table.code).toBe(1)
  expect(table.stdout).toMatch(/20261124000000_add_badges\s+applied\s+missing\s+migration\.sql edited since it was applied/)
  expect(table.stdout).toMatch(/20261101000000_removed_later\s+applied\s+missing\s+folder missing from prisma\/migrations/)
  expect(table.stdout).toMatch(/rolled back/)
})

test('a migration folder without migration.sql is bad input, exit 2, naming the folder', async () => {
  app.write('prisma/migrations/20261127000000_empty/notes.txt', 'nothing here')
  const result = await runCli(['status'], { cwd: app.root, env: { DATABASE_URL: db.url } })
  expect(result.code).toBe(2)
  expect(result.stderr).toMatch(/20261127000000_empty has no migration.sql/)
})

test('exit 0 once every migration in the folder is applied, 1 again when one is pending', async () => {
  const fresh = createTempProject({ migrations: (name) => name.endsWith('_init') })
  const database = await createTestDatabase('status_applied')
  try {
    const run = (args: string[]) => runCli(args, { cwd: fresh.root, env: { DATABASE_URL: database.url } })
    expect((await run(['status'])).code).toBe(1)
    expect((await runPrisma(projectAt(fresh.root), ['migrate', 'deploy'], { databaseUrl: database.url })).code).toBe(0)
    const applied = await run(['status'])
    expect({ code: applied.code, stderr: applied.stderr }).toEqual({ code: 0, stderr: '' })
    expect((await run(['status', '--json'])).code).toBe(0)
    fresh.write('prisma/migrations/20991231000000_next/migration.sql', 'CREATE TABLE next_one (id int);\n')
    expect((await run(['status', '--json'])).code).toBe(1)
  } finally {
    fresh.remove()
    await database.drop()
  }
})

test('output piped into a reader that is gone (`| head`): no crash, no stack trace, the exit code as usual', async () => {
  const child = startCli(['status', '--help'], { cwd: app.root })
  // The reader closes before the command prints: every write of the child meets EPIPE.
  child.stdout!.destroy()
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  expect(stderr).not.toMatch(/EPIPE|Unhandled 'error' event/)
  expect(code).toBe(0)
})
