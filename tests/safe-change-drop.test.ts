// `new --safe` for a deleted field, end to end on a table with rows (tests/helpers/safe-change.ts): the expand keeps
// the column as a nullable field Prisma Client ignores (`@ignore`), so the release without the field inserts rows
// while the old release still writes it; the contract drops the column once that release shipped.

import { ROWS, Writer, useScenarios } from './helpers/safe-change'

const start = useScenarios()

test('drop a field: NOT NULL dropped, its index dropped CONCURRENTLY and the field @ignore in the expand, the column dropped in the contract', async () => {
  const s = await start('drop')
  s.editSchema((schema) => schema.replace('  bio   String?\n', '  bio   String?\n\n  @@index([name])\n'))
  await s.ok('new', 'index_name', '--safe')
  await s.ok('deploy')
  s.editSchema((schema) => schema.replace('  name  String\n', '').replace('\n  @@index([name])\n', ''))
  const expand = await s.ok('new', 'drop_name', '--safe')
  // Its index goes in the expand, CONCURRENTLY and alone (a plain DROP INDEX blocks the table's reads and writes).
  expect(s.project.read(`prisma/migrations/${s.migration('drop_name_drop_index')}/migration.sql`)).toMatch(
    /\nDROP INDEX CONCURRENTLY "User_name_idx";\n$/,
  )
  expect(expand.stdout).toMatch(/drop User's column name \(kept as User\.name @ignore until the contract\)/)
  expect(s.project.read('prisma/schema.prisma')).toMatch(/\n {2}name String\? @ignore \/\/ kept until the contract of drop_name/)
  expect(s.project.read(`prisma/migrations/${s.migration('drop_name_expand')}/migration.sql`)).toMatch(/ALTER COLUMN "name" DROP NOT NULL/)
  // Nothing to fill: no backfill, and the contract can be written once the release without the field shipped.
  expect(expand.stdout).not.toMatch(/backfills\//)
  await s.ok('deploy')
  await s.assertNoDrift()
  const status = JSON.parse((await s.mk('status', '--json')).stdout) as { splitChanges: Array<{ state: string }> }
  expect(status.splitChanges.map((change) => change.state)).toEqual(['contract-to-write'])

  // The old release still writes name; the new one cannot (its client has no such field).
  const old = new Writer(s.db.url, async (client, n) => {
    await client.query('INSERT INTO "User" (email, name) VALUES ($1, $2)', [`old${n}@example.com`, `old-${n}`])
  })
  const fresh = new Writer(s.db.url, async (client, n) => {
    await client.query('INSERT INTO "User" (email, bio) VALUES ($1, $2)', [`new${n}@example.com`, `fresh-${n}`])
  })
  await new Promise((resolve) => setTimeout(resolve, 1500))
  const written = (await old.stop()) + (await fresh.stop())
  expect(written).toBeGreaterThan(10)

  const contract = await s.ok('new', '--continue', 'drop_name')
  expect(contract.stdout).toMatch(/0 errors/)
  const final = s.migration('drop_name_contract')
  expect(s.project.read(`prisma/migrations/${final}/migration.sql`)).toMatch(
    /-- migrate-kit-ignore ban-drop-column: dropped by drop_name[^\n]*\nALTER TABLE "User" DROP COLUMN "name";/,
  )
  expect(s.project.read('prisma/schema.prisma')).not.toMatch(/name/)
  await s.ok('deploy')
  const rows = await s.db.query<{ count: string }>('SELECT count(*)::text AS count FROM "User"')
  expect(rows).toEqual([{ count: String(ROWS + written) }])
  expect(await s.db.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'User' AND column_name = 'name'`)).toEqual([])

  await s.assertRollbacksVerified(5)
  await s.ok('rollback', final)
  await s.ok('deploy')
  await s.assertNoDrift()
}, 600_000)
