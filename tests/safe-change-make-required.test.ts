// `new --safe` for a field made required with a @default, end to end on a table with rows
// (tests/helpers/safe-change.ts): the backfill writes the default, the contract tightens the column.

import { backfillUnderWrites, ROWS, Writer, useScenarios } from './helpers/safe-change'

const start = useScenarios()

test('a field made required with a @default: the backfill writes the default, then the NOT NULL steps', async () => {
  const s = await start('make_required')
  s.editSchema((schema) => schema.replace('  bio   String?\n', '  bio   String  @default("")\n'))
  const expand = await s.ok('new', 'require_bio', '--safe')
  expect(expand.stdout).toMatch(/User\.bio made required/)
  expect(s.project.read('backfills/require_bio.ts')).toMatch(/update: sql`"bio" = DEFAULT`/)
  expect(s.project.read('prisma/schema.prisma')).toMatch(/bio {3}String\? {1,2}@default\(""\)/)
  await s.ok('deploy')
  await s.assertNoDrift()

  const expected = new Map<string, string>()
  for (let g = 1; g <= ROWS; g++) expected.set(`seed${g}@example.com`, g % 3 === 0 ? '' : `bio-${g}`)
  // The old release leaves bio out (the expand's default fills it); the new one writes it.
  const old = new Writer(s.db.url, async (client, n) => {
    await client.query('INSERT INTO "User" (email, name) VALUES ($1, $2)', [`old${n}@example.com`, `old-${n}`])
    expected.set(`old${n}@example.com`, '')
  })
  const fresh = new Writer(s.db.url, async (client, n) => {
    await client.query('INSERT INTO "User" (email, name, bio) VALUES ($1, $2, $3)', [`new${n}@example.com`, `new-${n}`, `fresh-${n}`])
    expected.set(`new${n}@example.com`, `fresh-${n}`)
  })
  await backfillUnderWrites(s, 'require_bio', [old, fresh])
  await s.ok('new', '--continue', 'require_bio')
  await s.ok('deploy')

  const rows = await s.db.query<{ email: string; bio: string }>('SELECT email, bio FROM "User"')
  expect(rows).toHaveLength(expected.size)
  expect(Object.fromEntries(rows.map((row) => [row.email, row.bio]))).toEqual(Object.fromEntries(expected))
  await s.assertRollbacksVerified(4)
  await s.ok('rollback', s.migration('require_bio_contract'))
  await s.ok('deploy')
  await s.assertNoDrift()
}, 600_000)

test("nothing to split: a nullable field is Prisma's migration as it is; an index on a table with rows is built CONCURRENTLY", async () => {
  const s = await start('no_split')
  s.editSchema((schema) => schema.replace('  bio   String?\n', '  bio   String?\n  note  String?\n'))
  const single = await s.ok('new', 'add_note', '--safe')
  expect(single.stdout).toMatch(/Safe as one migration, written as Prisma makes it: .*adds column User\.note/)
  expect(s.project.read(`prisma/migrations/${s.migration('add_note')}/migration.sql`)).toMatch(/ADD COLUMN +"note" TEXT;/)
  await s.ok('deploy')

  s.editSchema((schema) => schema.replace('  note  String?\n', '  note  String?\n\n  @@index([name])\n'))
  const index = await s.ok('new', 'index_name', '--safe')
  expect(index.stdout).toMatch(/Nothing to split into expand → backfill → contract/)
  expect(s.project.read(`prisma/migrations/${s.migration('index_name_index')}/migration.sql`)).toMatch(
    /^CREATE INDEX CONCURRENTLY "User_name_idx" ON "User"\("name"\);$/m,
  )
  expect(s.migrations().filter((name) => name.includes('index_name'))).toHaveLength(1)
  await s.ok('deploy')
  await s.assertNoDrift()
  const status = JSON.parse((await s.mk('status', '--json')).stdout) as { splitChanges: unknown[] }
  expect(status.splitChanges).toEqual([])

  // A field renamed through @map keeps its column: nothing to migrate, and new says why; a --rename of nothing is refused.
  s.editSchema((schema) => schema.replace('  note  String?\n', '  remark String? @map("note")\n'))
  const mapped = await s.ok('new', 'rename_note', '--safe', '--rename', 'User.note=remark')
  expect(mapped.stdout).toMatch(/User\.note → remark keeps its column "note" through @map: .*no migration is needed/)
  const wrong = await s.mk('new', 'rename_bio', '--safe', '--rename', 'User.bio=about')
  expect(wrong.code).toBe(2)
  expect(wrong.stderr).toMatch(/--rename User\.bio=about: schema\.prisma matches the migrations/)
  expect(s.migrations().filter((name) => name.includes('rename_'))).toEqual([])
}, 600_000)
