import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  backfillProject,
  countsByN,
  createCounters,
  incrementBackfill,
  kill9,
  rangesDone,
  runnerBackends,
  waitFor,
  type BackfillProject,
} from './helpers/backfill'
import { createTestDatabase, type TestDatabase } from './helpers/database'

/**
 * Every backfill here is `n = n + 1` without a where: run twice on a row, it shows 2. Whatever is killed, whenever,
 * the end state must be n = 1 on every row, and at every moment the rows must agree with the range ledger.
 */
const ROWS = 10_000

let db: TestDatabase
let app: BackfillProject
let scratch: string

beforeAll(async () => {
  db = await createTestDatabase('backfill_crash')
  app = backfillProject(db)
  scratch = mkdtempSync(path.join(os.tmpdir(), 'mk-crash-'))
})
afterAll(async () => {
  app.remove()
  rmSync(scratch, { recursive: true, force: true })
  await db.drop()
})

/** Rows whose n disagrees with the ledger: changed outside a done range, or unchanged inside one. Must be 0. */
async function ledgerDisagreements(table: string, name: string): Promise<number> {
  const [row] = await db.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM ${table} c
      WHERE (c.n = 1) <> EXISTS (
        SELECT 1 FROM migrate_kit.backfill_ranges r
         WHERE r.backfill = $1 AND r.status = 'done' AND (r.lower IS NULL OR c.id > r.lower::int) AND c.id <= r.upper::int)`,
    [name],
  )
  return row.count
}

/** Done ranges that overlap another: each key range must be done once. */
async function overlappingRanges(name: string): Promise<number> {
  const [row] = await db.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM migrate_kit.backfill_ranges a JOIN migrate_kit.backfill_ranges b
        ON a.backfill = b.backfill AND a.id < b.id AND a.status = 'done' AND b.status = 'done'
       AND coalesce(a.lower::int, -2147483648) < b.upper::int AND coalesce(b.lower::int, -2147483648) < a.upper::int
     WHERE a.backfill = $1`,
    [name],
  )
  return row.count
}

async function expectPartlyDoneAndConsistent(table: string, name: string): Promise<void> {
  const counts = await countsByN(db, table)
  expect(counts['2']).toBeUndefined()
  expect(counts['1'] ?? 0).toBeGreaterThan(0)
  expect(await ledgerDisagreements(table, name)).toBe(0)
}

async function resumeToDone(table: string, name: string, extraArgs: string[] = []): Promise<void> {
  const resumed = await app.cli(['backfill', 'run', name, ...extraArgs])
  expect({ code: resumed.code, stderr: resumed.stderr }).toEqual({ code: 0, stderr: expect.any(String) })
  expect(resumed.stdout).toMatch(new RegExp(`${name} done: ${ROWS.toLocaleString('en-US')} rows`))
  expect(await countsByN(db, table)).toEqual({ '1': ROWS })
  expect(await overlappingRanges(name)).toBe(0)
}

test('kill -9 after some batches, then run again: every row changed exactly once', async () => {
  await createCounters(db, ROWS, 'after_batches')
  app.backfill('after_batches.ts', incrementBackfill('after_batches', { table: 'after_batches' }))
  const running = app.start(['backfill', 'run', 'after_batches', '--batch-size', '200', '--pause-ms', '40'])
  await waitFor('five batches committed', async () => (await rangesDone(db, 'after_batches')) >= 5)
  const killed = await kill9(running)
  expect(killed.signal).toBe('SIGKILL')
  await expectPartlyDoneAndConsistent('after_batches', 'after_batches')
  await resumeToDone('after_batches', 'after_batches')
})

test('kill -9 in the middle of a batch transaction (process() holding it open): the batch rolls back whole, then runs once', async () => {
  await createCounters(db, ROWS, 'mid_batch')
  const marker = path.join(scratch, 'mid_batch.held')
  app.backfill(
    'mid_batch.ts',
    `import { existsSync, writeFileSync } from 'node:fs'
import { defineBackfill, sql } from 'prisma-migrate-kit'

export default defineBackfill({
  name: 'mid_batch',
  table: 'mid_batch',
  async process(rows, tx) {
    const ids = rows.map((row) => Number(row.id))
    await tx.query(sql\`UPDATE mid_batch SET n = n + 1 WHERE id = ANY(\${ids})\`)
    // The test's hook: on the batch holding row 3001, say so and wait inside the open transaction.
    const marker = process.env.HOLD_MARKER
    if (marker && ids.includes(3001) && !existsSync(marker)) {
      writeFileSync(marker, String(process.pid))
      await new Promise((resolve) => setTimeout(resolve, 60_000))
    }
  },
})
`,
  )
  const running = app.start(['backfill', 'run', 'mid_batch', '--batch-size', '500'], { HOLD_MARKER: marker })
  await waitFor('the batch holding row 3001 to be in flight', () => existsSync(marker))
  // Inside the open transaction the rows of that batch are already changed, invisible to us.
  await kill9(running)
  await waitFor('the killed runner’s sessions to be gone', async () => (await runnerBackends(db, 'mid_batch')).length === 0)
  expect(await db.query(`SELECT n FROM mid_batch WHERE id = 3001`)).toEqual([{ n: 0 }])
  await expectPartlyDoneAndConsistent('mid_batch', 'mid_batch')
  const resumed = await app.cli(['backfill', 'run', 'mid_batch'], { HOLD_MARKER: marker })
  expect(resumed.code).toBe(0)
  expect(await countsByN(db, 'mid_batch')).toEqual({ '1': ROWS })
})

test('kill -9 while the database is in the middle of a batch statement: the next run waits for that batch to end, then covers it once', async () => {
  await createCounters(db, ROWS, 'mid_statement')
  await db.query(`CREATE TABLE hold_flag (held boolean)`)
  await db.query(`INSERT INTO hold_flag VALUES (true)`)
  // Row 5000's update sleeps inside the statement until the test lets go: the server keeps running it after the
  // client is killed, holding the range's lock, as a real long statement would.
  await db.query(`CREATE FUNCTION hold_at(k integer) RETURNS integer LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
      IF k = 5000 THEN
        WHILE EXISTS (SELECT 1 FROM hold_flag) LOOP PERFORM pg_sleep(0.05); END LOOP;
      END IF;
      RETURN 1;
    END $$`)
  app.backfill(
    'mid_statement.ts',
    incrementBackfill('mid_statement', { table: 'mid_statement' }).replace('n = n + 1', 'n = n + hold_at(id)'),
  )
  const running = app.start(['backfill', 'run', 'mid_statement', '--batch-size', '400'])
  await waitFor('a batch statement sleeping in the database', async () => {
    const rows = await db.query(
      `SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event = 'PgSleep' AND application_name LIKE 'migrate-kit backfill%'`,
      [db.name],
    )
    return rows.length > 0
  })
  await kill9(running)
  const resume = app.start(['backfill', 'run', 'mid_statement'])
  // The resumed run does every other range, then waits on the one the orphaned statement still holds.
  await waitFor('every range done but the one the orphaned statement holds', async () => {
    const [row] = await db.query<{ outside: number; inside: number }>(
      `WITH held AS (
         SELECT lower, upper FROM migrate_kit.backfill_ranges
          WHERE backfill = 'mid_statement' AND status = 'pending' AND (lower IS NULL OR 5000 > lower::int) AND 5000 <= upper::int)
       SELECT count(*) FILTER (WHERE NOT in_held)::int AS outside, count(*) FILTER (WHERE in_held)::int AS inside
         FROM (SELECT EXISTS (SELECT 1 FROM held WHERE (held.lower IS NULL OR c.id > held.lower::int) AND c.id <= held.upper::int) AS in_held
                 FROM mid_statement c WHERE c.n = 0) open_rows`,
    )
    return row.outside === 0 && row.inside > 0
  })
  expect(await db.query(`SELECT n FROM mid_statement WHERE id = 5000`)).toEqual([{ n: 0 }])
  await db.query(`DELETE FROM hold_flag`)
  const result = await resume.done
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) })
  expect(await countsByN(db, 'mid_statement')).toEqual({ '1': ROWS })
  expect(await overlappingRanges('mid_statement')).toBe(0)
})

test('--concurrency 4, killed -9 three times at random moments: every row changed exactly once', async () => {
  await createCounters(db, ROWS, 'concurrent')
  app.backfill('concurrent.ts', incrementBackfill('concurrent', { table: 'concurrent' }))
  for (let round = 0; round < 3; round++) {
    const before = await rangesDone(db, 'concurrent')
    // Rate-limited so that the three kills land while it works (10,000 rows at 4,000 rows/s).
    const running = app.start([
      'backfill',
      'run',
      'concurrent',
      '--concurrency',
      '4',
      '--batch-size',
      '100',
      '--max-rows-per-second',
      '4000',
    ])
    await waitFor('four more batches', async () => (await rangesDone(db, 'concurrent')) >= before + 4)
    await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 150)))
    await kill9(running)
    await expectPartlyDoneAndConsistent('concurrent', 'concurrent')
    expect(await overlappingRanges('concurrent')).toBe(0)
  }
  await resumeToDone('concurrent', 'concurrent', ['--concurrency', '4'])
})

test('two runner processes share one backfill; killing one mid-way leaves the other to finish, each range once', async () => {
  await createCounters(db, ROWS, 'two_runners')
  app.backfill('two_runners.ts', incrementBackfill('two_runners', { table: 'two_runners' }))
  // Rate-limited so the first is still at work when the second has started (Node's start alone takes a second).
  const first = app.start(['backfill', 'run', 'two_runners', '--batch-size', '100', '--max-rows-per-second', '1500'])
  await waitFor('the first runner to start', async () => (await rangesDone(db, 'two_runners')) >= 2)
  const second = app.start(['backfill', 'run', 'two_runners', '--join', '--batch-size', '100', '--max-rows-per-second', '1500'])
  const secondPid = second.child.pid!
  await waitFor('both runners to have done ranges', async () => {
    const rows = await db.query<{ runners: number }>(
      `SELECT count(DISTINCT done_by)::int AS runners FROM migrate_kit.backfill_ranges WHERE backfill = 'two_runners'`,
    )
    return rows[0].runners >= 2
  })
  await kill9(first)
  await expectPartlyDoneAndConsistent('two_runners', 'two_runners')
  const result = await second.done
  expect(result.code).toBe(0)
  expect(result.stdout).toMatch(/two_runners done: 10,000 rows, 10,000 changed/)
  expect(await countsByN(db, 'two_runners')).toEqual({ '1': ROWS })
  expect(await overlappingRanges('two_runners')).toBe(0)
  const byRunner = await db.query<{ done_by: string }>(
    `SELECT DISTINCT done_by FROM migrate_kit.backfill_ranges WHERE backfill = 'two_runners'`,
  )
  expect(byRunner.map((row) => row.done_by)).toContain(`${os.hostname()}:${secondPid}`)
})
