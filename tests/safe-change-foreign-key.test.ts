// `new --safe` for a foreign key over existing rows, end to end (tests/helpers/safe-change.ts): the expand leaves the
// relation out of the schema and builds the new @@index CONCURRENTLY, a backfill fixes the orphans (placeholder filled)
// while writers write, the contract adds the key NOT VALID, then VALIDATEs it in its own migration while they write;
// an orphan written after the backfill holds the contract until the backfill runs again.

import { backfillUnderWrites, deployAfterRestart, random, ROWS, Writer, useScenarios } from './helpers/safe-change'

const start = useScenarios()

const ORPHANS = 30

test('add a relation over rows with orphans: index CONCURRENTLY, fix orphans, then FOREIGN KEY NOT VALID and VALIDATE; over a new column: NOT VALID, then VALIDATE', async () => {
  const s = await start('fk')
  s.editSchema(
    (schema) => `${schema}\nmodel Post {\n  id       Int    @id @default(autoincrement())\n  title    String @unique\n  authorId Int\n}\n`,
  )
  await s.ok('new', 'add_posts')
  await s.ok('deploy')
  await s.db.query(`INSERT INTO "Post" (title, "authorId") SELECT 'post-' || g, g FROM generate_series(1, ${ROWS}) g`)
  await s.db.query(`INSERT INTO "Post" (title, "authorId") SELECT 'orphan-' || g, 100000 + g FROM generate_series(1, ${ORPHANS}) g`)

  s.editSchema((schema) =>
    schema
      .replace('  bio   String?\n', '  bio   String?\n  posts Post[]\n')
      .replace(
        '  authorId Int\n}',
        '  authorId Int\n  author   User   @relation(fields: [authorId], references: [id])\n\n  @@index([authorId])\n}',
      ),
  )
  const final = s.project.read('prisma/schema.prisma')
  const expand = await s.ok('new', 'link_posts', '--safe')
  expect(expand.stdout).toMatch(/foreign key Post_authorId_fkey: Post\(authorId\) → User/)
  const index = s.migration('link_posts_index')
  expect(s.project.read(`prisma/migrations/${index}/migration.sql`)).toMatch(
    /CREATE INDEX CONCURRENTLY "Post_authorId_idx" ON "Post"\("authorId"\);/,
  )
  expect(s.migrations()).toHaveLength(3)
  const schema = s.project.read('prisma/schema.prisma')
  expect(schema).toMatch(/\n {2}\/\/ posts Post\[\] \/\/ migrate-kit: the contract of link_posts puts this line back\n/)
  expect(schema).toMatch(/\n {2}\/\/ author {3}User {3}@relation\(fields: \[authorId\], references: \[id\]\) \/\/ migrate-kit/)
  const backfill = s.project.read('backfills/link_posts.ts')
  expect(backfill).toMatch(/update: placeholder\(/)
  expect(backfill).toMatch(/before: 'link_posts_contract_check'/)
  s.project.write('backfills/link_posts.ts', backfill.replace(/update: placeholder\([^\n]*\),\n/, 'update: sql`"authorId" = 1`,\n'))
  await s.ok('deploy')
  await s.assertNoDrift()

  const expected = new Map<string, number>()
  for (let g = 1; g <= ROWS; g++) expected.set(`post-${g}`, g)
  for (let g = 1; g <= ORPHANS; g++) expected.set(`orphan-${g}`, 1)
  const writers = () => [
    new Writer(s.db.url, async (client, n) => {
      const title = `w-${n}-${Date.now()}`
      await client.query('INSERT INTO "Post" (title, "authorId") VALUES ($1, $2)', [title, random(n)])
      expected.set(title, random(n))
    }),
    new Writer(s.db.url, async (client, n) => {
      await client.query('UPDATE "User" SET bio = $1 WHERE id = $2', [`bio-${n}`, random(n)])
    }),
  ]
  await backfillUnderWrites(s, 'link_posts', writers())

  const contract = await s.ok('new', '--continue', 'link_posts')
  expect(contract.stdout).toMatch(/0 errors/)
  expect(s.project.read('prisma/schema.prisma')).toBe(final)
  const check = s.migration('link_posts_contract_check')
  const validate = s.migration('link_posts_contract')
  expect(s.project.read(`prisma/migrations/${check}/migration.sql`)).toMatch(
    /ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY \("authorId"\) REFERENCES "User"\("id"\) ON DELETE RESTRICT ON UPDATE CASCADE NOT VALID;/,
  )
  expect(s.project.read(`prisma/migrations/${validate}/migration.sql`)).toMatch(
    /\nALTER TABLE "Post" VALIDATE CONSTRAINT "Post_authorId_fkey";\n$/,
  )

  // An orphan the running release writes after the backfill: the gate finds it, the contract waits.
  await s.db.query(`INSERT INTO "Post" (title, "authorId") VALUES ('late', 999999)`)
  expected.set('late', 1)
  await deployAfterRestart(s, 'link_posts', writers)
  const validated = `SELECT convalidated AS valid FROM pg_constraint WHERE conname = 'Post_authorId_fkey'`
  expect(await s.db.query(validated)).toEqual([{ valid: true }])
  const rows = await s.db.query<{ title: string; authorId: number }>('SELECT title, "authorId" FROM "Post"')
  expect(Object.fromEntries(rows.map((row) => [row.title, row.authorId]))).toEqual(Object.fromEntries(expected))

  await s.assertRollbacksVerified(5)
  await s.ok('rollback', validate)
  expect(await s.db.query(validated)).toEqual([{ valid: false }])
  await s.ok('rollback', check)
  expect(await s.db.query(validated)).toEqual([])
  await s.ok('deploy')
  await s.assertNoDrift()
  expect(await s.db.query(validated)).toEqual([{ valid: true }])

  // A relation over a column added with it: no row can be an orphan, so nothing to split, but no scan under the lock
  // either: ADD COLUMN + FOREIGN KEY … NOT VALID, then VALIDATE in a migration of its own.
  s.editSchema((schema) =>
    schema.replace(
      '\n  @@index([authorId])\n',
      '  parentId Int?\n  parent   Post?  @relation("thread", fields: [parentId], references: [id])\n  replies  Post[] @relation("thread")\n\n  @@index([authorId])\n',
    ),
  )
  const thread = await s.ok('new', 'thread', '--safe')
  expect(thread.stdout).toMatch(/Nothing to split/)
  expect(s.project.read(`prisma/migrations/${s.migration('thread_expand')}/migration.sql`)).toMatch(
    /ADD COLUMN +"parentId" INTEGER;[\s\S]*ADD CONSTRAINT "Post_parentId_fkey" FOREIGN KEY \("parentId"\) REFERENCES "Post"\("id"\)[^;]* NOT VALID;/,
  )
  expect(s.project.read(`prisma/migrations/${s.migration('thread_validate')}/migration.sql`)).toMatch(
    /\nALTER TABLE "Post" VALIDATE CONSTRAINT "Post_parentId_fkey";\n$/,
  )
  await s.ok('deploy')
  await s.assertNoDrift()
  expect(await s.db.query(`SELECT convalidated AS valid FROM pg_constraint WHERE conname = 'Post_parentId_fkey'`)).toEqual([
    { valid: true },
  ])
}, 600_000)
