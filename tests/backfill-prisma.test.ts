import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { backfillProject, countsByN, kill9, runnerBackends, waitFor, type BackfillProject } from './helpers/backfill'
import { createTestDatabase, type TestDatabase } from './helpers/database'
import { REPO_ROOT } from './helpers/project'

/**
 * Prisma Client inside process(rows, tx): tx.prisma(PrismaClient) gives a client whose queries run in the batch's
 * own transaction, and whose $transaction is a savepoint of it. Proved the hard way: kill -9 in the middle of a batch
 * must undo that batch's Prisma writes along with its range.
 */
let db: TestDatabase
let app: BackfillProject
let scratch: string

const SCHEMA = `generator client {
  provider = "prisma-client"
  output   = "./generated/client"
}

datasource db {
  provider = "postgresql"
}

model Account {
  id Int @id
  n  Int @default(0)

  @@map("accounts")
}

model Audit {
  id        Int    @id @default(autoincrement())
  accountId Int    @map("account_id")
  note      String

  @@map("audits")
}
`

const BACKFILL = `import { existsSync, writeFileSync } from 'node:fs'
import { defineBackfill } from 'prisma-migrate-kit'
import { PrismaClient } from '../prisma/generated/client/client'

export default defineBackfill({
  name: 'prisma_accounts',
  table: 'accounts',
  async process(rows, tx) {
    const prisma = await tx.prisma(PrismaClient)
    const ids = rows.map((row) => Number(row.id))
    await prisma.account.updateMany({ where: { id: { in: ids } }, data: { n: { increment: 1 } } })
    // An interactive transaction inside the batch: a savepoint that commits with the batch.
    await prisma.$transaction(async (inner) => {
      await inner.audit.create({ data: { accountId: ids[0]!, note: 'batch' } })
    })
    // One that fails: rolled back to its savepoint, the batch goes on.
    await prisma.$transaction(async (inner) => {
      await inner.audit.create({ data: { accountId: ids[0]!, note: 'discarded' } })
      throw new Error('changed my mind')
    }).catch(() => undefined)
    const marker = process.env.HOLD_MARKER
    if (marker && ids.includes(1501) && !existsSync(marker)) {
      writeFileSync(marker, '')
      await new Promise((resolve) => setTimeout(resolve, 60_000))
    }
  },
})
`

beforeAll(async () => {
  db = await createTestDatabase('backfill_prisma')
  await db.query(`CREATE TABLE accounts (id integer PRIMARY KEY, n integer NOT NULL DEFAULT 0)`)
  await db.query(`CREATE TABLE audits (id serial PRIMARY KEY, account_id integer NOT NULL, note text NOT NULL)`)
  await db.query(`INSERT INTO accounts (id) SELECT g FROM generate_series(1, 3000) g`)
  app = backfillProject(db)
  scratch = mkdtempSync(path.join(os.tmpdir(), 'mk-prisma-'))
  app.project.write('prisma/schema.prisma', SCHEMA)
  // `prisma generate` never starts the schema engine; any existing file stands in for it on a machine without one.
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'prisma', 'build', 'index.js'), 'generate'], {
    cwd: app.project.root,
    env: { ...process.env, DATABASE_URL: db.url, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, CHECKPOINT_DISABLE: '1' },
    stdio: 'pipe',
  })
  app.backfill('prisma_accounts.ts', BACKFILL)
})
afterAll(async () => {
  app.remove()
  rmSync(scratch, { recursive: true, force: true })
  await db.drop()
})

test('Prisma Client queries in process() commit with the batch, and roll back with it on kill -9', async () => {
  const marker = path.join(scratch, 'held')
  const running = app.start(['backfill', 'run', 'prisma_accounts', '--batch-size', '500'], { HOLD_MARKER: marker })
  await waitFor('the batch holding account 1501 to be in flight', () => existsSync(marker))
  await kill9(running)
  await waitFor('the killed runner’s sessions to be gone', async () => (await runnerBackends(db, 'prisma_accounts')).length === 0)

  // The held batch's Prisma updateMany and its $transaction's audit row are gone with it.
  expect(await db.query(`SELECT n FROM accounts WHERE id = 1501`)).toEqual([{ n: 0 }])
  const [done] = await db.query<{ ranges: number }>(
    `SELECT count(*)::int AS ranges FROM migrate_kit.backfill_ranges WHERE backfill = 'prisma_accounts' AND status = 'done'`,
  )
  expect(await db.query(`SELECT note, count(*)::int AS count FROM audits GROUP BY note`)).toEqual([{ note: 'batch', count: done.ranges }])
  expect((await countsByN(db, 'accounts'))['2']).toBeUndefined()

  const resumed = await app.cli(['backfill', 'run', 'prisma_accounts'], { HOLD_MARKER: marker })
  expect(resumed.code).toBe(0)
  expect(await countsByN(db, 'accounts')).toEqual({ '1': 3000 })
  const [after] = await db.query<{ ranges: number }>(
    `SELECT count(*)::int AS ranges FROM migrate_kit.backfill_ranges WHERE backfill = 'prisma_accounts' AND status = 'done'`,
  )
  expect(await db.query(`SELECT note, count(*)::int AS count FROM audits GROUP BY note`)).toEqual([{ note: 'batch', count: after.ranges }])
})

test('a Prisma Client error in process() reaches the user with Prisma’s own message; a data error is narrowed down to its row', async () => {
  await db.query(`CREATE TABLE limited (id integer PRIMARY KEY, n integer NOT NULL DEFAULT 0 CHECK (n < 1 OR id <> 777))`)
  await db.query(`INSERT INTO limited (id) SELECT g FROM generate_series(1, 1000) g`)
  app.project.write('prisma/schema.prisma', SCHEMA + `\nmodel Limited {\n  id Int @id\n  n  Int @default(0)\n\n  @@map("limited")\n}\n`)
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'prisma', 'build', 'index.js'), 'generate'], {
    cwd: app.project.root,
    env: { ...process.env, DATABASE_URL: db.url, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, CHECKPOINT_DISABLE: '1' },
    stdio: 'pipe',
  })
  app.backfill(
    'prisma_limited.ts',
    `import { defineBackfill } from 'prisma-migrate-kit'
import { PrismaClient } from '../prisma/generated/client/client'

export default defineBackfill({
  name: 'prisma_limited',
  table: 'limited',
  async process(rows, tx) {
    const prisma = await tx.prisma(PrismaClient)
    for (const row of rows) await prisma.limited.update({ where: { id: Number(row.id) }, data: { n: 1 } })
  },
})
`,
  )
  const result = await app.cli(['backfill', 'run', 'prisma_limited', '--batch-size', '100'])
  expect(result.code).toBe(1)
  expect(result.stderr).not.toContain("reading 'sep'")
  expect(result.stderr).toMatch(/backfill prisma_limited failed at keys \(776, 777\]: Invalid `prisma\.limited\.update\(\)` invocation/)
  // The notices of each halving say the last line of Prisma's message, the final error all of it.
  expect(result.stderr).toMatch(
    /failed \(Database error\. Code: `23514`\. Message: `new row for relation "limited" violates check constraint "limited_check"`\); split in two/,
  )
  expect(result.stderr).toContain('violates check constraint')
  expect(await db.query(`SELECT n FROM limited WHERE id = 777`)).toEqual([{ n: 0 }])
  const [changed] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM limited WHERE n = 1 AND id < 777`)
  expect(changed.n).toBe(776)
})

test('an exception thrown by process() stops the run at once, naming its range and the code’s own message; no halving', async () => {
  await db.query(`CREATE TABLE thrown (id integer PRIMARY KEY, n integer NOT NULL DEFAULT 0)`)
  await db.query(`INSERT INTO thrown (id) SELECT g FROM generate_series(1, 1000) g`)
  app.backfill(
    'thrown.ts',
    `import { defineBackfill, sql } from 'prisma-migrate-kit'

function scoreOf(row: Record<string, unknown>): number {
  if (Number(row.id) > 250) throw new TypeError('scoreOf: no rule for row ' + String(row.id))
  return 1
}

export default defineBackfill({
  name: 'thrown',
  table: 'thrown',
  async process(rows, tx) {
    for (const row of rows) await tx.query(sql\`UPDATE thrown SET n = \${scoreOf(row)} WHERE id = \${row.id}\`)
  },
})
`,
  )
  const result = await app.cli(['backfill', 'run', 'thrown', '--batch-size', '100'])
  expect(result.code).toBe(1)
  const failedAt = /backfill thrown failed at keys \((\d+), (\d+)\]: TypeError: scoreOf: no rule for row 251\n/.exec(result.stderr)
  expect(failedAt).not.toBeNull()
  expect(result.stderr).not.toMatch(/split in two/)
  expect(result.stderr).not.toMatch(/\bat scoreOf\b/)
  // The range that failed is the whole batch as it was cut: nothing was halved, and the rows before it are done.
  const [after, upTo] = [Number(failedAt![1]), Number(failedAt![2])]
  expect(after).toBeLessThan(251)
  expect(upTo).toBeGreaterThanOrEqual(251)
  const ranges = await db.query<{ rows: number; status: string }>(
    `SELECT rows, status FROM migrate_kit.backfill_ranges WHERE backfill = 'thrown' AND status <> 'done'`,
  )
  expect(ranges).toEqual([{ rows: upTo - after, status: 'failed' }])
  expect(await db.query(`SELECT count(*)::int AS n FROM thrown WHERE n = 1`)).toEqual([{ n: after }])

  // With MIGRATE_KIT_DEBUG=1 the code's stack is printed too, pointing into the backfill file.
  const debug = await app.cli(['backfill', 'run', 'thrown'], { MIGRATE_KIT_DEBUG: '1' })
  expect(debug.code).toBe(1)
  expect(debug.stderr).toMatch(/at scoreOf \(.*thrown\.ts:\d+/)
})
