import { connect, controlBackfill, defineBackfill, runBackfill, sql, type LoadedBackfill } from 'prisma-migrate-kit'
import {
  RateMeter,
  RowRateLimiter,
  backoffMs,
  batchSizing,
  eta,
  nextBatchSize,
  type BatchSizing,
} from '../packages/prisma-migrate-kit/src/backfill/pacing'
import { createCounters, rangesDone, waitFor } from './helpers/backfill'
import { createTestDatabase, type TestDatabase } from './helpers/database'

const sizing: BatchSizing = { targetBatchMs: 200, minBatchSize: 10, maxBatchSize: 100_000 }

describe('batch size (pure)', () => {
  test('grows toward the target by at most ×1.2 per batch, however fast the batch was', () => {
    expect(nextBatchSize(1_000, 20, sizing)).toBe(1_200)
    expect(nextBatchSize(1_000, 1, sizing)).toBe(1_200)
    expect(nextBatchSize(1_000, 180, sizing)).toBe(1_000) // within 10 % of the target: left alone
    expect(nextBatchSize(1_000, 175, sizing)).toBe(1_142) // a little fast: grows only as much as needed (200 / 175)
  })

  test('shrinks in proportion when a batch is slow: twice too slow halves it', () => {
    expect(nextBatchSize(1_000, 400, sizing)).toBe(500)
    expect(nextBatchSize(1_000, 2_000, sizing)).toBe(100)
    expect(nextBatchSize(1_000, 200_000, sizing)).toBe(10) // never below the minimum
  })

  test('stays within its bounds, and still grows from a tiny size', () => {
    expect(nextBatchSize(100_000, 1, sizing)).toBe(100_000)
    expect(nextBatchSize(10, 1, sizing)).toBe(12)
    expect(nextBatchSize(1, 1, { ...sizing, minBatchSize: 1 })).toBe(2)
  })

  test('a rate limit caps the batch at one second of rows', () => {
    expect(batchSizing({ maxRowsPerSecond: 500 }).maxBatchSize).toBe(500)
    expect(batchSizing({}).maxBatchSize).toBe(100_000)
  })
})

describe('rate and backoff (pure)', () => {
  test('the rate and the time left leave out the time a pause held the run, and say nothing while it holds', () => {
    let now = 0
    const meter = new RateMeter(10_000, () => now)
    meter.record(0)
    now = 1_000
    meter.record(1_000)
    expect(meter.perSecond()).toBe(1_000)
    expect(eta(1_000, 5_000, meter.perSecond())).toBe(4)
    meter.hold()
    now = 61_000
    // Held: no rate, so no ETA frozen at the value it had when the pause came.
    expect(meter.perSecond()).toBe(0)
    expect(eta(1_000, 5_000, meter.perSecond())).toBeUndefined()
    meter.release()
    now = 62_000
    meter.record(2_000)
    // A minute held is not a minute of work: 2,000 rows in 2 s of running, not in 62 s.
    expect(meter.perSecond()).toBe(1_000)
    meter.release() // releasing a run that is not held changes nothing
    expect(meter.perSecond()).toBe(1_000)
  })

  test('the row limiter spaces batches so the rows per second stay under the limit', () => {
    let now = 0
    const limiter = new RowRateLimiter(1_000, () => now)
    expect(limiter.reserve(500)).toBe(0)
    expect(limiter.reserve(500)).toBe(500)
    expect(limiter.reserve(500)).toBe(1_000)
    now = 5_000 // idle time is not saved up into a burst
    expect(limiter.reserve(500)).toBe(0)
    limiter.settle(250) // the batch turned out bigger than booked
    expect(limiter.reserve(100)).toBe(750)
  })

  test('backoff doubles per attempt between half and all of its ceiling, capped', () => {
    expect(backoffMs(0, {}, () => 0)).toBe(50)
    expect(backoffMs(3, {}, () => 1)).toBe(800)
    expect(backoffMs(20, { capMs: 5_000 }, () => 1)).toBe(5_000)
  })
})

describe('adaptive batch size, live', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase('backfill_pacing')
  })
  afterAll(() => db.drop())

  function inline(definition: ReturnType<typeof defineBackfill>): LoadedBackfill {
    return { name: definition.name, definition, file: '<inline>', relativeFile: `backfills/${definition.name}.ts`, checksum: 'inline' }
  }

  async function ledger(name: string): Promise<Array<{ rows: number; batch_ms: number }>> {
    return db.query(`SELECT rows, batch_ms FROM migrate_kit.backfill_ranges WHERE backfill = $1 ORDER BY id`, [name])
  }

  test('grows batch after batch while batches are faster than the target', async () => {
    await createCounters(db, 12_000, 'fast_rows')
    const definition = defineBackfill({ name: 'grow', table: 'fast_rows', update: sql`n = n + 1` })
    const result = await runBackfill(db.url, inline(definition), { batchSize: 100, targetBatchMs: 200 })
    expect(result.status).toBe('done')
    const ranges = await ledger('grow')
    expect(ranges[0].rows).toBe(100)
    // After each fast batch (well under 200 ms) the next one is bigger, by at most ×1.2. The last range is the
    // table's tail, cut short.
    const fastPairs = ranges.slice(1, -1).filter((_, index) => ranges[index].batch_ms < 150)
    expect(fastPairs.length).toBeGreaterThan(10)
    ranges.slice(1, -1).forEach((range, index) => {
      const previous = ranges[index]
      if (previous.batch_ms >= 150) return
      expect(range.rows).toBeGreaterThan(previous.rows)
      expect(range.rows).toBeLessThanOrEqual(Math.floor(previous.rows * 1.2) + 1)
    })
    expect(result.batchSize).toBeGreaterThan(1_500)
  })

  test('a verify query that takes long is said while it runs (its session has no client-side bound), not a silent wait', async () => {
    await createCounters(db, 300, 'verified_slowly')
    const definition = defineBackfill({
      name: 'verified_slowly',
      table: 'verified_slowly',
      update: sql`n = n + 1`,
      verify: sql`SELECT id FROM verified_slowly, (SELECT pg_sleep(0.8)) AS wait WHERE n = 0`,
    })
    const notices: string[] = []
    const result = await runBackfill(db.url, inline(definition), {
      verifyNoticeEveryMs: 200,
      onEvent: (event) => {
        if (event.type === 'notice') notices.push(event.message)
      },
    })
    expect(result.status).toBe('done')
    expect(result.verify).toMatchObject({ failures: 0 })
    expect(notices.filter((notice) => /^verify still running \(\d+ s\)…$/.test(notice)).length).toBeGreaterThanOrEqual(2)
  })

  test('shrinks to the size that meets the target when rows are slow', async () => {
    await createCounters(db, 700, 'slow_rows')
    // Every row costs 2 ms: a 200-row batch takes about 400 ms, twice the 100 ms target.
    await db.query(`CREATE FUNCTION slow_one() RETURNS integer LANGUAGE sql VOLATILE AS 'SELECT 1 FROM pg_sleep(0.002)'`)
    const definition = defineBackfill({ name: 'shrink', table: 'slow_rows', update: sql`n = n + slow_one()` })
    const result = await runBackfill(db.url, inline(definition), { batchSize: 200, targetBatchMs: 100 })
    expect(result.status).toBe('done')
    const ranges = await ledger('shrink')
    expect(ranges[0]).toMatchObject({ rows: 200 })
    expect(ranges[0].batch_ms).toBeGreaterThan(300)
    expect(ranges[1].rows).toBeLessThan(100)
    // Once resized, batches take about the target: their median is far below the first batch (the machine is shared,
    // so single batches may stray).
    const later = ranges
      .slice(2, -1)
      .map((range) => range.batch_ms)
      .sort((a, b) => a - b)
    expect(later.length).toBeGreaterThan(2)
    expect(later[Math.floor(later.length / 2)]).toBeLessThan(200)
    expect(await db.query(`SELECT count(*)::int AS wrong FROM slow_rows WHERE n <> 1`)).toEqual([{ wrong: 0 }])
  })

  // The last batch may not start before (batches - 1) × its booked time; the second case books more than the control
  // loop's 250 ms poll, which must not cut the wait short.
  test.each([
    { what: 'holds the rate under the limit', table: 'rated_rows', rows: 2_000, batchSize: 500, maxRowsPerSecond: 2_000, atLeastMs: 700 },
    {
      what: 'holds when a batch must wait longer than the control poll',
      table: 'slow_rated_rows',
      rows: 300,
      batchSize: 100,
      maxRowsPerSecond: 200,
      atLeastMs: 950,
    },
  ])('--max-rows-per-second $what', async ({ table, rows, batchSize, maxRowsPerSecond, atLeastMs }) => {
    await createCounters(db, rows, table)
    const definition = defineBackfill({ name: table, table, update: sql`n = n + 1` })
    const result = await runBackfill(db.url, inline(definition), { batchSize, maxRowsPerSecond })
    expect(result).toMatchObject({ status: 'done', rowsThisRun: rows })
    expect(result.durationMs).toBeGreaterThanOrEqual(atLeastMs)
  })

  test('a pause that comes while a worker waits out the rate holds it before its next batch', async () => {
    await createCounters(db, 300, 'paused_rated_rows')
    const definition = defineBackfill({ name: 'paused_rated_rows', table: 'paused_rated_rows', update: sql`n = n + 1` })
    // 100-row batches at 100 rows/s (a batch is never more than a second of rows): the second waits 1 s for the first.
    const run = runBackfill(db.url, inline(definition), { batchSize: 100, maxRowsPerSecond: 100 })
    let settled = false
    void run.finally(() => (settled = true)).catch(() => undefined)
    const control = await connect(db.url)
    try {
      await waitFor('the first batch', async () => (await rangesDone(db, 'paused_rated_rows')) >= 1)
      const pausedAt = Date.now()
      await controlBackfill(control, 'paused_rated_rows', 'pause')
      // The runner reads the request within 250 ms and wakes its sleeping worker, well before the rate lets the
      // second batch start. The worker must hold, not run it.
      await new Promise((resolve) => setTimeout(resolve, 600))
      expect(Date.now() - pausedAt).toBeLessThan(850)
      expect(await rangesDone(db, 'paused_rated_rows')).toBe(1)
      expect(await db.query(`SELECT count(*)::int AS changed FROM paused_rated_rows WHERE n = 1`)).toEqual([{ changed: 100 }])
      await controlBackfill(control, 'paused_rated_rows', 'resume')
      const result = await run
      expect(result).toMatchObject({ status: 'done', rowsThisRun: 300 })
      // The 600 ms held (less the quarter second the runner takes to read the request) is not run time.
      expect(result.heldMs).toBeGreaterThanOrEqual(300)
      expect(result.heldMs).toBeLessThan(result.durationMs)
      expect(await db.query(`SELECT count(*)::int AS wrong FROM paused_rated_rows WHERE n <> 1`)).toEqual([{ wrong: 0 }])
    } finally {
      // A failed expectation must not leave the runner holding forever: cancel it, then let it end.
      if (!settled) await controlBackfill(control, 'paused_rated_rows', 'cancel').catch(() => undefined)
      await run.catch(() => undefined)
      await control.end()
    }
  })
})
