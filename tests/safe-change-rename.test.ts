// `new --safe` for a renamed field, end to end on a table with rows (tests/helpers/safe-change.ts): the expand
// (new column + sync trigger) deployed, the backfill run while releases of the old and the new shape write, the
// contract (old field ignored) deployed while the expand's release writes, the drop deployed while the contract's
// release writes; every row compared, no drift, each step rolled back and re-applied.

import { existsSync } from 'node:fs'
import { backfillUnderWrites, random, ROWS, Writer, useScenarios } from './helpers/safe-change'

const start = useScenarios()

test('rename a field: add + trigger, copy, then CHECK NOT VALID, VALIDATE + SET NOT NULL (old field ignored), then drop the old column', async () => {
  const s = await start('rename')
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
  // The contract's release: displayName required, name ignored by Prisma Client (its column stays for the expand's release).
  expect(s.project.read('prisma/schema.prisma')).toMatch(
    /displayName String\n\s+name String\? @ignore \/\/ kept until the drop of rename_name \(migrate-kit new --continue rename_name\)\n\s+bio/,
  )
  const check = s.migration('rename_name_contract_check')
  const final = s.migration('rename_name_contract')
  expect(s.project.read(`prisma/migrations/${check}/migration.sql`)).toMatch(/CHECK \("displayName" IS NOT NULL\) NOT VALID;/)
  const contractSql = s.project.read(`prisma/migrations/${final}/migration.sql`)
  expect(contractSql).toMatch(/VALIDATE CONSTRAINT[\s\S]*"displayName" SET NOT NULL/)
  expect(contractSql).toMatch(/"name" DROP NOT NULL/)
  expect(contractSql).not.toMatch(/DROP COLUMN|DROP TRIGGER/)
  const plan = await s.ok('plan')
  expect(plan.stdout).toMatch(/rename_name {2}contract-pending {2}\(expand applied, backfill done, contract 2 pending, drop not written\)/)
  // The drop is refused before the contract is applied: it is for the release after the contract's.
  const early = await s.mk('new', '--continue', 'rename_name')
  expect(early.code).toBe(3)
  expect(early.stderr).toMatch(/waits for its contract to be applied/)

  // The expand's release keeps running while the contract deploys: it reads every field and writes both names.
  const expandRelease = new Writer(s.db.url, async (client, n) => {
    await client.query('INSERT INTO "User" (email, name, "displayName") VALUES ($1, $2, $2)', [`e${n}@example.com`, `e-${n}`])
    expected.set(`e${n}@example.com`, `e-${n}`)
    await client.query('SELECT id, email, name, "displayName", bio FROM "User" WHERE email = $1', [`seed${random(n)}@example.com`])
  })
  await new Promise((resolve) => setTimeout(resolve, 100))
  await s.ok('deploy')
  await s.assertNoDrift()
  // The contract's release writes displayName alone; the trigger still fills name for the expand's release.
  const contractRelease = new Writer(s.db.url, async (client, n) => {
    await client.query('INSERT INTO "User" (email, "displayName") VALUES ($1, $2)', [`c${n}@example.com`, `c-${n}`])
    expected.set(`c${n}@example.com`, `c-${n}`)
  })
  await new Promise((resolve) => setTimeout(resolve, 200))
  expect(await expandRelease.stop()).toBeGreaterThan(5)
  const afterContract = JSON.parse((await s.mk('status', '--json')).stdout) as { splitChanges: Array<{ state: string; next: string }> }
  expect(afterContract.splitChanges).toEqual([
    expect.objectContaining({
      state: 'drop-to-write',
      next: expect.stringContaining('npx migrate-kit new --continue rename_name') as string,
    }),
  ])

  const dropped = await s.ok('new', '--continue')
  expect(dropped.stdout).toMatch(/Drop step of rename_name/)
  expect(s.project.read('prisma/schema.prisma')).toMatch(/displayName String\n\s+bio/)
  expect(s.project.read('prisma/schema.prisma')).not.toMatch(/ name /)
  const drop = s.migration('rename_name_drop')
  expect(s.project.read(`prisma/migrations/${drop}/migration.sql`)).toMatch(
    /DROP TRIGGER IF EXISTS "User_displayName_sync"[\s\S]*DROP COLUMN "name"/,
  )
  await s.ok('deploy')
  expect(await contractRelease.stop()).toBeGreaterThan(5)
  await s.assertNoDrift()
  const done = await s.mk('new', '--continue', 'rename_name')
  expect(done.code).toBe(2)
  expect(done.stderr).toMatch(/every step of rename_name is written already/)

  const rows = await s.db.query<{ email: string; displayName: string }>('SELECT email, "displayName" FROM "User"')
  expect(rows).toHaveLength(expected.size)
  expect(Object.fromEntries(rows.map((row) => [row.email, row.displayName]))).toEqual(Object.fromEntries(expected))

  // Each step rolled back and applied again: the schema on a scratch database, and the drop and contract on these rows.
  await s.assertRollbacksVerified(5)
  await s.ok('rollback', drop)
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
