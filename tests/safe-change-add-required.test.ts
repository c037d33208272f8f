// `new --safe` for a new required field, end to end on a table with rows (tests/helpers/safe-change.ts): the
// placeholder that blocks check, deploy and the backfill until filled; the deploy gate holding the contract while a
// row written by the old release after the backfill is NULL.

import { backfillUnderWrites, random, ROWS, Writer, useScenarios } from './helpers/safe-change'

const start = useScenarios()

test('a new required field: added nullable, a placeholder to fill, then the NOT NULL steps; the gate holds the contract', async () => {
  const s = await start('add_required')
  s.editSchema((schema) => schema.replace('  bio   String?\n', '  bio   String?\n  score Int\n'))
  const expand = await s.ok('new', 'add_score', '--safe')
  expect(expand.stdout).toMatch(/new required field User\.score/)
  expect(s.project.read('prisma/schema.prisma')).toMatch(/score Int\?\n/)
  const backfill = s.project.read('backfills/add_score.ts')
  expect(backfill).toMatch(/update: placeholder\(/)

  // Until the placeholder is replaced, check fails and deploy and the backfill refuse, naming it.
  const check = await s.mk('check', '--json')
  expect(check.code).toBe(1)
  expect(check.stdout).toMatch(/add_score[\s\S]*placeholder/)
  for (const args of [['deploy'], ['backfill', 'run', 'add_score']]) {
    const refused = await s.mk(...args)
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/backfills\/add_score\.ts: backfill "add_score": update: is a placeholder/)
  }
  expect((await s.db.query("SELECT 1 FROM information_schema.columns WHERE column_name = 'score'")).length).toBe(0)

  s.project.write(
    'backfills/add_score.ts',
    backfill
      .replace(/update: placeholder\([^\n]*\),/, 'update: sql`"score" = length("name")`,')
      .replace('defineBackfill, placeholder, sql', 'defineBackfill, sql'),
  )
  await s.ok('deploy')
  await s.assertNoDrift()

  // The old release never writes score; the new one always does.
  const expected = new Map<string, number>()
  for (let g = 1; g <= ROWS; g++) expected.set(`seed${g}@example.com`, `name-${g}`.length)
  const old = new Writer(s.db.url, async (client, n) => {
    const email = `seed${random(n)}@example.com`
    await client.query('UPDATE "User" SET bio = $1 WHERE email = $2', [`old-${n}`, email])
  })
  const fresh = new Writer(s.db.url, async (client, n) => {
    await client.query('INSERT INTO "User" (email, name, score) VALUES ($1, $2, $3)', [`new${n}@example.com`, `new-${n}`, 1000 + n])
    expected.set(`new${n}@example.com`, 1000 + n)
  })
  await backfillUnderWrites(s, 'add_score', [old, fresh])
  await s.ok('new', '--continue', 'add_score')

  // A row the old release inserts after the backfill: the gate's verify finds it and holds the contract (exit 3).
  await s.db.query(`INSERT INTO "User" (email, name) VALUES ('late@example.com', 'late-one')`)
  expected.set('late@example.com', 'late-one'.length)
  const held = await s.mk('deploy')
  expect(held.code).toBe(3)
  expect(`${held.stdout}${held.stderr}`).toMatch(/add_score/)
  expect((await s.db.query(`SELECT 1 FROM "User" WHERE score IS NULL`)).length).toBe(1)
  await s.ok('backfill', 'run', 'add_score', '--restart')
  await s.ok('deploy')

  const rows = await s.db.query<{ email: string; score: number; nullable: string }>(
    `SELECT email, score, (SELECT is_nullable FROM information_schema.columns WHERE table_name = 'User' AND column_name = 'score') AS nullable FROM "User"`,
  )
  expect(rows).toHaveLength(expected.size)
  expect(Object.fromEntries(rows.map((row) => [row.email, row.score]))).toEqual(Object.fromEntries(expected))
  expect(new Set(rows.map((row) => row.nullable))).toEqual(new Set(['NO']))
  expect((await s.db.query(`SELECT conname FROM pg_constraint WHERE conname LIKE '%not_null'`)).length).toBe(0)

  await s.assertRollbacksVerified(4)
  for (const suffix of ['add_score_contract', 'add_score_contract_check']) await s.ok('rollback', s.migration(suffix))
  await s.ok('deploy')
  await s.assertNoDrift()
}, 600_000)
