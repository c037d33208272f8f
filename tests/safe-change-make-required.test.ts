// `new --safe` for a field made required with a @default, end to end on a table with rows
// (tests/helpers/safe-change.ts): the backfill writes the default, the contract tightens the column.

import { backfillUnderWrites, ROWS, Scenario, Writer } from './helpers/safe-change'

let scenario: Scenario | undefined

afterEach(async () => {
  await scenario?.remove()
  scenario = undefined
})

test('a field made required with a @default: the backfill writes the default, then the NOT NULL steps', async () => {
  const s = (scenario = await Scenario.start('make_required'))
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
  const verified = await s.mk('verify-rollbacks')
  expect(verified.stdout).toMatch(/4 rollbacks verified: 4 ok, 0 failed/)
  await s.ok('rollback', s.migration('require_bio_contract'))
  await s.ok('deploy')
  await s.assertNoDrift()
}, 600_000)
