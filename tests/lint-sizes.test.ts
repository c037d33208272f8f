import { existsSync } from 'node:fs'
import path from 'node:path'
import type { Finding } from '../packages/prisma-migrate-kit/src/lint'
import { measureFindings } from '../packages/prisma-migrate-kit/src/lint/measure'
import { SIZE_THRESHOLDS, sizeClass, sizedLevel } from '../packages/prisma-migrate-kit/src/lint/table-size'
import { runCli } from './helpers/cli'
import { createTestDatabase, type TestDatabase } from './helpers/database'
import { PACKAGE_ROOT, createTempProject, type TempProject } from './helpers/project'

describe('the size thresholds (one table, table-size.ts)', () => {
  test('small is a warning, large an error, medium keeps the rule’s level; bytes count when rows are unknown', () => {
    expect(sizeClass({ rows: 200, bytes: 16_384 })).toBe('small')
    expect(sizeClass({ rows: 50_000, bytes: 8_000_000 })).toBe('medium')
    expect(sizeClass({ rows: SIZE_THRESHOLDS.largeRows, bytes: 1 })).toBe('large')
    expect(sizeClass({ rows: 10, bytes: SIZE_THRESHOLDS.largeBytes })).toBe('large')
    expect(sizeClass({ bytes: 64 * 1024 * 1024 })).toBe('medium')
    expect(sizedLevel('error', { rows: 200, bytes: 16_384 })).toBe('warning')
    expect(sizedLevel('warning', { rows: 10_000_000, bytes: 2e9 })).toBe('error')
    expect(sizedLevel('warning', { rows: 50_000, bytes: 8_000_000 })).toBe('warning')
  })

  test('measureFindings sizes only findings about work on every row, of a table the database has', () => {
    const base: Finding = { level: 'error', rule: 'changing-column-type', file: 'm.sql', line: 1, message: 'Rewrites.', help: '' }
    const sized = { ...base, sized: { table: { name: 'events' }, work: 'rewrite' as const } }
    const unknown = { ...base, sized: { table: { name: 'created_later' }, work: 'rewrite' as const } }
    const lookup = (table: { name: string }) => (table.name === 'events' ? { rows: 120, bytes: 8192 } : undefined)
    const [small, plain, missing] = measureFindings([sized, base, unknown], lookup)
    expect(small).toMatchObject({
      level: 'warning',
      message: expect.stringContaining('Here it rewrites all of "events": about 120 rows, 8.0 kB'),
    })
    expect(plain).toBe(base)
    expect(missing).toBe(unknown)
  })
})

describe('lint --sizes-from and the PostgreSQL version, against a real database', () => {
  let db: TestDatabase
  let project: TempProject
  beforeAll(async () => {
    if (!existsSync(path.join(PACKAGE_ROOT, 'dist', 'lint', 'measure.js'))) throw new Error('run `npm run build` first')
    db = await createTestDatabase('lint_sizes')
    await db.query(`CREATE TABLE small (id int PRIMARY KEY, v int)`)
    await db.query(`INSERT INTO small SELECT g, g FROM generate_series(1, 200) g`)
    // Over the large threshold for real: 1.1 million rows (about 40 MB), analyzed so pg_class holds the estimate.
    await db.query(`CREATE TABLE large (id int, v int)`)
    await db.query(`INSERT INTO large SELECT g, g FROM generate_series(1, 1100000) g`)
    await db.query(`ANALYZE small; ANALYZE large`)
  }, 120_000)
  afterAll(() => db.drop())
  beforeEach(() => {
    project = createTempProject({ exampleApp: false })
    project.write(
      'prisma/migrations/20260102000000_widen/migration.sql',
      `SET lock_timeout = '5s';\nALTER TABLE small ALTER COLUMN v TYPE bigint;\nALTER TABLE large ALTER COLUMN v TYPE bigint;\n`,
    )
  })
  afterEach(() => project.remove())

  type Report = { findings: Array<Finding & { table?: { name: string; rows: number | null; bytes: number } }> }

  test('a rewrite of 200 rows is a warning, of 1.1 million an error; each says its size; JSON carries it', async () => {
    const unsized = await runCli(['lint', '--json'], { cwd: project.root })
    expect((JSON.parse(unsized.stdout) as Report).findings.map((finding) => finding.level)).toEqual(['error', 'error'])

    const result = await runCli(['lint', '--json', '--sizes-from', db.url], { cwd: project.root })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/Table sizes and PostgreSQL \d+ from /)
    const [small, large] = (JSON.parse(result.stdout) as Report).findings
    expect(small).toMatchObject({
      level: 'warning',
      line: 2,
      message: expect.stringContaining('about 200 rows'),
      table: { name: 'small', rows: 200 },
    })
    expect(large).toMatchObject({
      level: 'error',
      line: 3,
      message: expect.stringMatching(/about 1\.1 million rows, \d+(\.\d)? MB \(pg_class estimate, large table\)/),
    })
    expect(large.table?.bytes).toBeGreaterThan(30 * 1024 * 1024)
  })

  test('package.json "migrateKit.sizesFrom" names the variable; unset, it is said and nothing is sized', async () => {
    project.write('package.json', JSON.stringify({ name: 'app', migrateKit: { sizesFrom: 'REPLICA_URL' } }))
    const withVariable = await runCli(['lint', '--json'], { cwd: project.root, env: { REPLICA_URL: db.url } })
    expect((JSON.parse(withVariable.stdout) as Report).findings.map((finding) => finding.level)).toEqual(['warning', 'error'])
    const unset = await runCli(['lint', '--json'], { cwd: project.root })
    expect(unset.stderr).toContain('Table sizes unknown: REPLICA_URL (package.json "migrateKit.sizesFrom") is not set')
    expect((JSON.parse(unset.stdout) as Report).findings.map((finding) => finding.level)).toEqual(['error', 'error'])
  })

  test('a sizes database that cannot be reached is refused (exit 2); the project database down is only said', async () => {
    const refused = await runCli(['lint', '--sizes-from', 'postgresql://postgres@127.0.0.1:1/nowhere'], { cwd: project.root })
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('connection refused')
    const down = await runCli(['lint'], { cwd: project.root, env: { DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/nowhere' } })
    expect(down.code).toBe(1)
    expect(down.stderr).toContain('PostgreSQL version unknown (cannot connect to')
  })

  test("the project's database gives the version; --postgres-version still wins", async () => {
    project.write(
      'prisma/migrations/20260103000000_flag/migration.sql',
      `SET lock_timeout = '5s';\nALTER TABLE small ADD COLUMN flag boolean DEFAULT false;\n`,
    )
    const fromDatabase = await runCli(['lint', 'flag', '--json'], { cwd: project.root, env: { DATABASE_URL: db.url } })
    expect((JSON.parse(fromDatabase.stdout) as Report).findings).toEqual([])
    const overridden = await runCli(['lint', 'flag', '--json', '--postgres-version', '10'], {
      cwd: project.root,
      env: { DATABASE_URL: db.url },
    })
    expect((JSON.parse(overridden.stdout) as Report).findings.map((finding) => finding.rule)).toEqual(['adding-field-with-default'])
  })
})
