// `new --safe` for a renamed model (its table renamed), end to end (tests/helpers/safe-change.ts): the expand renames
// the table (and Prisma's names of its key and indexes) and leaves an updatable view under the old name; the release
// of the old name reads and writes through the view while the new one writes the table; the contract drops the view.
// Another table's foreign key to it follows the rename.

import { random, ROWS, Writer, useScenarios } from './helpers/safe-change'

const start = useScenarios()

test('rename a table: RENAME TO + a view under the old name, then DROP VIEW; rows written through both names kept', async () => {
  const s = await start('rename_table')
  // Another table references it: its foreign key follows the rename (PostgreSQL keeps it by the table's identity).
  s.editSchema(
    (schema) =>
      `${schema.replace('  bio   String?\n', '  bio   String?\n  posts Post[]\n')}\nmodel Post {\n  id       Int  @id @default(autoincrement())\n  authorId Int\n  author   User @relation(fields: [authorId], references: [id])\n}\n`,
  )
  await s.ok('new', 'add_posts')
  await s.ok('deploy')
  await s.db.query('INSERT INTO "Post" ("authorId") SELECT g FROM generate_series(1, 50) g')
  s.editSchema((schema) =>
    schema.replace('model User {', 'model Account {').replace('  author   User @relation', '  author   Account @relation'),
  )

  // Unconfirmed, a dropped table and a new one with the same columns is refused: Prisma's migration loses every row.
  const unconfirmed = await s.mk('new', 'rename_user', '--safe')
  expect(unconfirmed.code).toBe(2)
  expect(unconfirmed.stderr).toMatch(/--rename-table User=Account/)
  expect(s.migrations()).toHaveLength(2)

  const expand = await s.ok('new', 'rename_user', '--safe', '--rename-table', 'User=Account')
  expect(expand.stdout).toMatch(/rename table User → Account/)
  expect(expand.stdout).toMatch(/0 errors/)
  const expandMigration = s.migration('rename_user_expand')
  const sql = s.project.read(`prisma/migrations/${expandMigration}/migration.sql`)
  expect(sql).toMatch(
    /ALTER TABLE "User" RENAME TO "Account";[\s\S]*"User_pkey"[\s\S]*"Account_email_key"[\s\S]*CREATE VIEW "User" AS SELECT \* FROM "Account";/,
  )
  await s.ok('deploy')
  await s.assertNoDrift()

  const expected = new Map<string, string>()
  for (let g = 1; g <= ROWS; g++) expected.set(`seed${g}@example.com`, `name-${g}`)
  // The running release knows the old name only (Prisma Client's statements: INSERT … RETURNING, UPDATE, SELECT).
  const old = new Writer(s.db.url, async (client, n) => {
    await client.query('INSERT INTO "public"."User" (email, name) VALUES ($1, $2) RETURNING "public"."User"."id"', [
      `old${n}@example.com`,
      `old-${n}`,
    ])
    expected.set(`old${n}@example.com`, `old-${n}`)
    await client.query('UPDATE "User" SET name = $1 WHERE email = $2', [`o-${n}`, `seed${random(n)}@example.com`])
    expected.set(`seed${random(n)}@example.com`, `o-${n}`)
  })
  const fresh = new Writer(s.db.url, async (client, n) => {
    await client.query('INSERT INTO "Account" (email, name) VALUES ($1, $2)', [`new${n}@example.com`, `new-${n}`])
    expected.set(`new${n}@example.com`, `new-${n}`)
  })
  await new Promise((resolve) => setTimeout(resolve, 1500))
  expect(await old.stop()).toBeGreaterThan(5)
  expect(await fresh.stop()).toBeGreaterThan(5)

  const contract = await s.ok('new', '--continue', 'rename_user')
  expect(contract.stdout).toMatch(/0 errors/)
  const final = s.migration('rename_user_contract')
  expect(s.project.read(`prisma/migrations/${final}/migration.sql`)).toMatch(/\nDROP VIEW "User";\n$/)
  await s.ok('deploy')
  await s.assertNoDrift()
  expect(await s.db.query(`SELECT 1 FROM pg_class WHERE relname = 'User'`)).toEqual([])
  expect(await s.db.query(`SELECT confrelid::regclass::text AS parent FROM pg_constraint WHERE conname = 'Post_authorId_fkey'`)).toEqual([
    { parent: '"Account"' },
  ])
  const rows = await s.db.query<{ email: string; name: string }>('SELECT email, name FROM "Account"')
  expect(Object.fromEntries(rows.map((row) => [row.email, row.name]))).toEqual(Object.fromEntries(expected))

  // Each step rolled back on these rows and applied again.
  await s.assertRollbacksVerified(4)
  await s.ok('rollback', final)
  await s.ok('rollback', expandMigration)
  const back = await s.db.query<{ email: string; name: string }>('SELECT email, name FROM "User"')
  expect(Object.fromEntries(back.map((row) => [row.email, row.name]))).toEqual(Object.fromEntries(expected))
  await s.ok('deploy')
  await s.assertNoDrift()
  expect(await s.db.query<{ count: string }>('SELECT count(*)::text AS count FROM "Account"')).toEqual([{ count: String(expected.size) }])
}, 600_000)
