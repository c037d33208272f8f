// `new --safe` for a unique index over existing rows, end to end (tests/helpers/safe-change.ts): no expand migration
// (the schema of that release leaves the @unique out), a de-duplication backfill whose placeholder the developer
// fills, run while two releases write; the contract builds the index CONCURRENTLY under Prisma's name while they
// write; a duplicate written after the backfill holds the contract until the backfill runs again.

import { backfillUnderWrites, deployAfterRestart, random, ROWS, Writer, useScenarios } from './helpers/safe-change'

const start = useScenarios()

test('add @unique over rows with duplicates: de-duplicate (placeholder filled), then CREATE UNIQUE INDEX CONCURRENTLY', async () => {
  const s = await start('unique')
  // 40 rows share 7 names: the first of each (by id) keeps its name, the others must change.
  await s.db.query(`UPDATE "User" SET name = 'dup-' || (id % 7) WHERE id % 10 = 0`)
  const original = s.project.read('prisma/schema.prisma')
  s.editSchema((schema) => schema.replace('  name  String\n', '  name  String @unique // one per person\n'))

  const expand = await s.ok('new', 'unique_name', '--safe')
  expect(expand.stdout).toMatch(/unique User\(name\) over existing rows: User_name_key/)
  expect(s.migrations()).toHaveLength(1)
  // The release of this step has the schema the database has: the @unique comes back with the contract.
  expect(s.project.read('prisma/schema.prisma')).toBe(original.replace('  name  String\n', '  name  String // one per person\n'))
  const backfill = s.project.read('backfills/unique_name.ts')
  expect(backfill).toMatch(/update: placeholder\(/)
  expect(backfill).toMatch(/before: 'unique_name_unique'/)
  expect(backfill).not.toMatch(/after:/)
  expect((await s.mk('check')).code).toBe(1)
  s.project.write(
    'backfills/unique_name.ts',
    backfill.replace(/update: placeholder\([^\n]*\),\n/, 'update: sql`"name" = "name" || \'-\' || "id"`,\n'),
  )
  await s.assertNoDrift()

  const expected = new Map<string, string>()
  for (let id = 1; id <= ROWS; id++) expected.set(`seed${id}@example.com`, `name-${id}`)
  const kept = new Set<number>()
  for (let id = 10; id <= ROWS; id += 10) {
    const value = `dup-${id % 7}`
    const first = ![...kept].some((other) => other % 7 === id % 7)
    if (first) kept.add(id)
    expected.set(`seed${id}@example.com`, first ? value : `${value}-${id}`)
  }
  const writers = () => [
    new Writer(s.db.url, async (client, n) => {
      await client.query('INSERT INTO "User" (email, name) VALUES ($1, $2)', [`a${n}-${Date.now()}@example.com`, `a-${n}-${Date.now()}`])
    }),
    new Writer(s.db.url, async (client, n) => {
      await client.query('UPDATE "User" SET bio = $1 WHERE email = $2', [`bio-${n}`, `seed${random(n)}@example.com`])
    }),
  ]
  await backfillUnderWrites(s, 'unique_name', writers())

  const contract = await s.ok('new', '--continue', 'unique_name')
  expect(contract.stdout).toMatch(/0 errors/)
  expect(s.project.read('prisma/schema.prisma')).toMatch(/ {2}name {2}String @unique \/\/ one per person\n/)
  const unique = s.migration('unique_name_unique')
  expect(s.migrations()).toHaveLength(2)
  expect(s.project.read(`prisma/migrations/${unique}/migration.sql`)).toMatch(
    /\nCREATE UNIQUE INDEX CONCURRENTLY "User_name_key" ON "User"\("name"\);\n$/,
  )

  // A duplicate the running release writes after the backfill: the gate finds it, the contract waits.
  await s.db.query(`INSERT INTO "User" (email, name) VALUES ('late@example.com', 'dup-3')`)
  const [late] = await s.db.query<{ id: number }>(`SELECT id FROM "User" WHERE email = 'late@example.com'`)
  expected.set('late@example.com', `dup-3-${late.id}`)
  await deployAfterRestart(s, 'unique_name', writers)
  const [index] = await s.db.query<{ valid: boolean }>(
    `SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = '"User_name_key"'::regclass`,
  )
  expect(index).toEqual({ valid: true })

  const rows = await s.db.query<{ email: string; name: string }>(`SELECT email, name FROM "User" WHERE email NOT LIKE 'a%'`)
  expect(Object.fromEntries(rows.map((row) => [row.email, row.name]))).toEqual(Object.fromEntries(expected))
  const [{ duplicates }] = await s.db.query<{ duplicates: string }>(
    'SELECT (count(*) - count(DISTINCT name))::text AS duplicates FROM "User"',
  )
  expect(duplicates).toBe('0')

  await s.assertRollbacksVerified(2)
  await s.ok('rollback', unique)
  expect(await s.db.query(`SELECT 1 FROM pg_class WHERE relname = 'User_name_key'`)).toEqual([])
  await s.ok('deploy')
  await s.assertNoDrift()
}, 600_000)
