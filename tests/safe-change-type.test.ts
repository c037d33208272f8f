// `new --safe` for a field whose type changes, end to end on a table with rows (tests/helpers/safe-change.ts): the
// expand (a column of the new type, conversion functions, a converting trigger) deployed, the backfill run while
// releases of the old and the new shape write, the contract (the field over the new column through @map, the old one
// ignored) deployed while the expand's release writes, the drop deployed while the contract's release writes; every
// row compared, no drift, each step rolled back and re-applied. A cast that does not exist (text → integer): values
// that do not convert stop the backfill before it starts.

import { backfillUnderWrites, random, ROWS, Writer, useScenarios } from './helpers/safe-change'

const start = useScenarios()

test('Int → BigInt with a default: new column + converting trigger, convert, NOT NULL sequence over visits_new, then drop the old column', async () => {
  const s = await start('retype')
  s.editSchema((schema) => schema.replace('  bio   String?\n', '  bio   String?\n  visits Int @default(0)\n'))
  await s.ok('new', 'add_visits')
  await s.ok('deploy')
  await s.db.query('UPDATE "User" SET visits = id * 3')
  s.editSchema((schema) => schema.replace('visits Int @default(0)', 'visits BigInt @default(0)'))

  const expand = await s.ok('new', 'widen_visits', '--safe')
  expect(expand.stdout).toMatch(/type of User\.visits: int4 → int8, in a new column visits_new/)
  expect(expand.stdout).toMatch(/0 errors/)
  expect(s.project.read('prisma/schema.prisma')).toMatch(
    /\n {2}visits Int @default\(0\)\n {2}visits_new BigInt\? \/\/ kept until the contract of widen_visits/,
  )
  const expandMigration = s.migration('widen_visits_expand')
  const expandSql = s.project.read(`prisma/migrations/${expandMigration}/migration.sql`)
  expect(expandSql).toMatch(/ADD COLUMN {5}"visits_new" BIGINT;/)
  expect(expandSql).toMatch(/CREATE FUNCTION "User_visits_convert"\(value int4\) RETURNS int8/)
  expect(expandSql).toMatch(/CREATE TRIGGER "User_visits_new_sync"/)
  const backfill = s.project.read('backfills/widen_visits.ts')
  expect(backfill).toMatch(/update: sql`"visits_new" = "User_visits_convert"\("visits"\)`/)
  expect(backfill).toMatch(
    /precheck: sql`SELECT "id", "visits" FROM "User" WHERE "visits" IS NOT NULL AND "User_visits_convert"\("visits"\) IS NULL`/,
  )
  await s.ok('deploy')
  await s.assertNoDrift()

  // The old release writes visits (or leaves it to its default); the new shape writes visits_new alone, visits then
  // holding its default 0 until the trigger converts back.
  const expected = new Map<string, string>()
  for (let g = 1; g <= ROWS; g++) expected.set(`seed${g}@example.com`, String(g * 3))
  const old = new Writer(s.db.url, async (client, n) => {
    if (n % 3 === 0) {
      await client.query('INSERT INTO "User" (email, name, visits) VALUES ($1, $2, $3)', [`old${n}@example.com`, 'o', n])
      expected.set(`old${n}@example.com`, String(n))
    } else if (n % 3 === 1) {
      await client.query('INSERT INTO "User" (email, name) VALUES ($1, $2)', [`old${n}@example.com`, 'o'])
      expected.set(`old${n}@example.com`, '0')
    } else {
      await client.query('UPDATE "User" SET visits = $1 WHERE email = $2', [n * 10, `seed${random(n)}@example.com`])
      expected.set(`seed${random(n)}@example.com`, String(n * 10))
    }
  })
  const fresh = new Writer(s.db.url, async (client, n) => {
    if (n % 2 === 0) {
      await client.query('INSERT INTO "User" (email, name, visits_new) VALUES ($1, $2, $3)', [`new${n}@example.com`, 'n', n * 1000])
      expected.set(`new${n}@example.com`, String(n * 1000))
    } else {
      const email = `seed${random(n + 1)}@example.com`
      await client.query('UPDATE "User" SET visits_new = $1 WHERE email = $2', [n * 100, email])
      expected.set(email, String(n * 100))
    }
  })
  await backfillUnderWrites(s, 'widen_visits', [old, fresh])
  const converted = await s.db.query<{ same: number }>('SELECT count(*) FILTER (WHERE visits = visits_new)::int AS same FROM "User"')
  expect(converted[0].same).toBe(expected.size)

  const contract = await s.ok('new', '--continue', 'widen_visits')
  expect(contract.stdout).toMatch(/0 errors/)
  // The contract's release: the field keeps its name over the new column; the old column ignored until the drop.
  expect(s.project.read('prisma/schema.prisma')).toMatch(
    /\n {2}visits BigInt @default\(0\) @map\("visits_new"\)\n {2}visits_old Int\? @map\("visits"\) @ignore \/\/ kept until the drop of widen_visits \(migrate-kit new --continue widen_visits\)\n/,
  )
  const check = s.migration('widen_visits_contract_check')
  const final = s.migration('widen_visits_contract')
  expect(s.project.read(`prisma/migrations/${check}/migration.sql`)).toMatch(/CHECK \("visits_new" IS NOT NULL\) NOT VALID;/)
  const contractSql = s.project.read(`prisma/migrations/${final}/migration.sql`)
  expect(contractSql).toMatch(/"visits_new" SET NOT NULL/)
  expect(contractSql).toMatch(/"visits" DROP NOT NULL/)
  expect(contractSql).toMatch(/"visits" DROP DEFAULT/)
  expect(contractSql).toMatch(/CREATE OR REPLACE FUNCTION "User_visits_new_sync"/)
  expect(contractSql).not.toMatch(/DROP COLUMN|DROP TRIGGER/)

  // The expand's release keeps running while the contract deploys: it names visits, or leaves it to its default.
  const expandRelease = new Writer(s.db.url, async (client, n) => {
    if (n % 2 === 0) {
      await client.query('INSERT INTO "User" (email, name, visits) VALUES ($1, $2, $3)', [`e${n}@example.com`, 'e', n + 7])
      expected.set(`e${n}@example.com`, String(n + 7))
    } else {
      await client.query('INSERT INTO "User" (email, name) VALUES ($1, $2)', [`e${n}@example.com`, 'e'])
      expected.set(`e${n}@example.com`, '0')
    }
    await client.query('SELECT id, email, visits, visits_new FROM "User" WHERE email = $1', [`seed${random(n)}@example.com`])
  })
  await new Promise((resolve) => setTimeout(resolve, 100))
  await s.ok('deploy')
  await s.assertNoDrift()
  // The contract's release writes visits_new alone, or leaves it to its new default.
  const contractRelease = new Writer(s.db.url, async (client, n) => {
    if (n % 2 === 0) {
      await client.query('INSERT INTO "User" (email, name, visits_new) VALUES ($1, $2, $3)', [`c${n}@example.com`, 'c', n + 11])
      expected.set(`c${n}@example.com`, String(n + 11))
    } else {
      await client.query('INSERT INTO "User" (email, name) VALUES ($1, $2)', [`c${n}@example.com`, 'c'])
      expected.set(`c${n}@example.com`, '0')
    }
  })
  await new Promise((resolve) => setTimeout(resolve, 200))
  expect(await expandRelease.stop()).toBeGreaterThan(5)

  const dropped = await s.ok('new', '--continue')
  expect(dropped.stdout).toMatch(/Drop step of widen_visits/)
  expect(s.project.read('prisma/schema.prisma')).not.toMatch(/visits_old/)
  const drop = s.migration('widen_visits_drop')
  expect(s.project.read(`prisma/migrations/${drop}/migration.sql`)).toMatch(
    /DROP TRIGGER IF EXISTS "User_visits_new_sync"[\s\S]*DROP FUNCTION IF EXISTS "User_visits_convert"\(int4\);[\s\S]*DROP COLUMN "visits"/,
  )
  await s.ok('deploy')
  expect(await contractRelease.stop()).toBeGreaterThan(5)
  await s.assertNoDrift()

  const values = async () =>
    Object.fromEntries(
      (await s.db.query<{ email: string; visits: string }>('SELECT email, visits_new::text AS visits FROM "User"')).map((row) => [
        row.email,
        row.visits,
      ]),
    )
  expect(await values()).toEqual(Object.fromEntries(expected))

  // Each step rolled back and applied again: the schema on a scratch database, and the drop and contract on these rows.
  await s.assertRollbacksVerified(6)
  await s.ok('rollback', drop)
  await s.ok('rollback', final)
  const restored = await s.db.query<{ same: number; total: number }>(
    'SELECT count(*) FILTER (WHERE visits = visits_new)::int AS same, count(*)::int AS total FROM "User"',
  )
  expect(restored).toEqual([{ same: expected.size, total: expected.size }])
  await s.ok('deploy')
  await s.assertNoDrift()
  expect(await values()).toEqual(Object.fromEntries(expected))
  // The new type at work: a value the old column could not hold.
  await s.db.query('UPDATE "User" SET visits_new = 5000000000 WHERE email = $1', ['seed1@example.com'])
  expect(
    (await s.db.query<{ visits: string }>('SELECT visits_new::text AS visits FROM "User" WHERE email = $1', ['seed1@example.com']))[0]
      .visits,
  ).toBe('5000000000')
}, 600_000)

test('String → Int (no cast: Prisma drops and adds the column): the values that do not convert stop the backfill before it starts', async () => {
  const s = await start('retype_text')
  s.editSchema((schema) => schema.replace('  bio   String?\n', '  bio   String?\n  code  String?\n'))
  await s.ok('new', 'add_code')
  await s.ok('deploy')
  await s.db.query(`UPDATE "User" SET code = CASE WHEN id % 50 = 0 THEN 'n/a' WHEN id % 7 = 0 THEN NULL ELSE (id * 2)::text END`)
  s.editSchema((schema) => schema.replace('code  String?', 'code  Int?'))

  // Prisma's own migration would lose every value.
  const expand = await s.ok('new', 'code_to_int', '--safe')
  expect(expand.stdout).toMatch(/type of User\.code: text → int4/)
  expect(s.project.read('prisma/schema.prisma')).toMatch(/\n {2}code {2}String\?\n {2}code_new {2}Int\? \/\/ kept until the contract/)
  await s.ok('deploy')
  await s.assertNoDrift()

  const refused = await s.mk('backfill', 'run', 'code_to_int')
  expect(refused.code).toBe(2)
  expect(refused.stderr).toMatch(
    /backfill code_to_int did not start: precheck returned 8 rows the update cannot handle; first: \{"id":50,"code":"n\/a"\}/,
  )
  expect((await s.db.query<{ n: number }>('SELECT count(*)::int AS n FROM "User" WHERE code_new IS NOT NULL'))[0].n).toBe(0)
  const held = await s.mk('new', '--continue', 'code_to_int')
  expect(held.code).toBe(3)

  await s.db.query(`UPDATE "User" SET code = '-1' WHERE code = 'n/a'`)
  await s.ok('backfill', 'run', 'code_to_int')
  await s.ok('new', '--continue', 'code_to_int')
  expect(s.project.read('prisma/schema.prisma')).toMatch(
    /\n {2}code {2}Int\? @map\("code_new"\)\n {2}code_old {2}String\? @map\("code"\) @ignore .*\n/,
  )
  await s.ok('deploy')
  await s.assertNoDrift()
  await s.ok('new', '--continue', 'code_to_int')
  await s.ok('deploy')
  await s.assertNoDrift()
  const rows = await s.db.query<{ id: number; code: number | null }>('SELECT id, code_new AS code FROM "User" ORDER BY id')
  expect(rows).toHaveLength(ROWS)
  for (const row of rows) expect(row.code).toBe(row.id % 50 === 0 ? -1 : row.id % 7 === 0 ? null : row.id * 2)
  await s.assertRollbacksVerified(5)
}, 600_000)
