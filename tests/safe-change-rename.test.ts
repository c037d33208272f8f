// `new --safe` for a renamed field, end to end on a table with rows (tests/helpers/safe-change.ts): the expand
// (new column + sync trigger) deployed, the backfill run while releases of the old and the new shape write, the
// contract written by `new --continue` and deployed; every row compared, no drift, each step rolled back and re-applied.

import { existsSync } from 'node:fs'
import { backfillUnderWrites, random, ROWS, Scenario, Writer } from './helpers/safe-change'

let scenario: Scenario | undefined

afterEach(async () => {
  await scenario?.remove()
  scenario = undefined
})

test('rename a field: add + trigger, copy, then CHECK NOT VALID, VALIDATE + SET NOT NULL, drop the old column', async () => {
  const s = (scenario = await Scenario.start('rename'))
  s.editSchema((schema) => schema.replace('  name  String\n', '  displayName String\n'))

  // Unconfirmed, a drop and an add of the same type is refused: it would lose the data if it is a rename.
  const unconfirmed = await s.mk('new', 'rename_name', '--safe')
  expect(unconfirmed.code).toBe(2)
  expect(unconfirmed.stderr).toMatch(/--rename User\.name=displayName/)
  expect(s.migrations()).toHaveLength(1)

  const expand = await s.ok('new', 'rename_name', '--safe', '--rename', 'User.name=displayName')
  expect(expand.stdout).toMatch(/0 errors/)
  expect(s.project.read('prisma/schema.prisma')).toMatch(/displayName String\?\n\s+name String \/\/ kept until the contract of rename_name/)
  const expandMigration = s.migration('rename_name_expand')
  expect(s.project.read(`prisma/migrations/${expandMigration}/migration.sql`)).toMatch(/CREATE TRIGGER "User_displayName_sync"/)
  expect(existsSync(s.project.path('rollbacks', expandMigration, 'rollback.sql'))).toBe(true)
  expect(s.project.read('backfills/rename_name.ts')).toMatch(/update: sql`"displayName" = "name"`/)
  await s.ok('deploy')
  await s.assertNoDrift()
  const status = JSON.parse((await s.mk('status', '--json')).stdout) as {
    splitChanges: Array<{ name: string; state: string; next: string }>
  }
  expect(status.splitChanges).toEqual([
    expect.objectContaining({
      name: 'rename_name',
      state: 'backfilling',
      next: expect.stringContaining('npx migrate-kit backfill run rename_name') as string,
    }),
  ])

  // Old release: writes name only. New shape: writes displayName only. Expected values are tracked per email.
  const expected = new Map<string, string>()
  for (let g = 1; g <= ROWS; g++) expected.set(`seed${g}@example.com`, `name-${g}`)
  const old = new Writer(s.db.url, async (client, n) => {
    if (n % 2 === 0) {
      await client.query('INSERT INTO "User" (email, name) VALUES ($1, $2)', [`old${n}@example.com`, `old-${n}`])
      expected.set(`old${n}@example.com`, `old-${n}`)
    } else {
      await client.query('UPDATE "User" SET name = $1 WHERE email = $2', [`renamed-old-${n}`, `seed${random(n)}@example.com`])
      expected.set(`seed${random(n)}@example.com`, `renamed-old-${n}`)
    }
  })
  const fresh = new Writer(s.db.url, async (client, n) => {
    if (n % 2 === 0) {
      await client.query('INSERT INTO "User" (email, "displayName") VALUES ($1, $2)', [`new${n}@example.com`, `new-${n}`])
      expected.set(`new${n}@example.com`, `new-${n}`)
    } else {
      const email = `seed${random(n + 1)}@example.com`
      await client.query('UPDATE "User" SET "displayName" = $1 WHERE email = $2', [`renamed-new-${n}`, email])
      expected.set(email, `renamed-new-${n}`)
    }
  })
  await backfillUnderWrites(s, 'rename_name', [old, fresh])

  const contract = await s.ok('new', '--continue', 'rename_name')
  expect(contract.stdout).toMatch(/0 errors/)
  expect(s.project.read('prisma/schema.prisma')).toMatch(/displayName String\n\s+bio/)
  expect(s.project.read('prisma/schema.prisma')).not.toMatch(/ name /)
  const check = s.migration('rename_name_contract_check')
  const final = s.migration('rename_name_contract')
  expect(s.project.read(`prisma/migrations/${check}/migration.sql`)).toMatch(/CHECK \("displayName" IS NOT NULL\) NOT VALID;/)
  expect(s.project.read(`prisma/migrations/${final}/migration.sql`)).toMatch(
    /VALIDATE CONSTRAINT[\s\S]*DROP COLUMN "name"[\s\S]*SET NOT NULL/,
  )
  const plan = await s.ok('plan')
  expect(plan.stdout).toMatch(/rename_name {2}contract-pending {2}\(expand applied, backfill done, contract 2 pending\)/)
  await s.ok('deploy')

  const rows = await s.db.query<{ email: string; displayName: string }>('SELECT email, "displayName" FROM "User"')
  expect(rows).toHaveLength(expected.size)
  expect(Object.fromEntries(rows.map((row) => [row.email, row.displayName]))).toEqual(Object.fromEntries(expected))

  // Each step rolled back and applied again: the schema on a scratch database, and the contract on these rows.
  const verified = await s.mk('verify-rollbacks')
  expect(verified.stdout).toMatch(/4 rollbacks verified: 4 ok, 0 failed/)
  expect(verified.code).toBe(0)
  await s.ok('rollback', final)
  const restored = await s.db.query<{ same: string; total: string }>(
    'SELECT count(*) FILTER (WHERE name = "displayName")::text AS same, count(*)::text AS total FROM "User"',
  )
  expect(restored).toEqual([{ same: String(expected.size), total: String(expected.size) }])
  await s.ok('deploy')
  await s.assertNoDrift()
  const again = await s.db.query<{ email: string; displayName: string }>('SELECT email, "displayName" FROM "User"')
  expect(Object.fromEntries(again.map((row) => [row.email, row.displayName]))).toEqual(Object.fromEntries(expected))
}, 600_000)
