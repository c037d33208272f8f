import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import Redis from 'ioredis'
import { backfillProject, type BackfillProject } from './helpers/backfill'
import { createTestDatabase, type TestDatabase } from './helpers/database'
import { TEST_REDIS_URL, closedPort, createTestRedis, redisDoor, type TestRedis } from './helpers/redis'
import { kill9, waitFor } from './helpers/backfill'

let db: TestDatabase
let app: BackfillProject
let cache: TestRedis

beforeAll(async () => {
  db = await createTestDatabase('backfill_safety')
  app = backfillProject(db)
  cache = await createTestRedis('backfill_safety')
})
afterAll(async () => {
  app.remove()
  await cache.cleanup()
  await db.drop()
})

async function fingerprint(table: string): Promise<string> {
  const [row] = await db.query<{ md5: string }>(`SELECT md5(string_agg(t::text, ',' ORDER BY t.id)) AS md5 FROM ${table} t`)
  return row.md5
}

describe('dry run, snapshot, report, restore', () => {
  beforeAll(async () => {
    // Prices 0…49 (so some stay 0 when doubled); every third label is already upper case.
    await db.query(`CREATE TABLE prices (id integer PRIMARY KEY, price numeric(10,2) NOT NULL, label text NOT NULL)`)
    await db.query(
      `INSERT INTO prices SELECT g, g % 50, CASE WHEN g % 3 = 0 THEN 'ITEM ' || g ELSE 'item ' || g END FROM generate_series(1, 2000) g`,
    )
    app.backfill(
      'recompute.ts',
      `import { defineBackfill, sql } from 'prisma-migrate-kit'

export default defineBackfill({
  name: 'recompute',
  table: 'prices',
  update: sql\`price = price * \${2}, label = upper(label)\`,
  where: sql\`id <= \${1500}\`,
  snapshot: ['price', 'label'],
})
`,
    )
  })

  // First in this file: nothing has created the migrate_kit tables yet, so the dry run must not either.
  test('--dry-run counts and shows the rows that would change, and touches nothing', async () => {
    const before = await fingerprint('prices')
    const [expected] = await db.query<{ changing: number }>(
      `SELECT count(*)::int AS changing FROM prices WHERE id <= 1500 AND (price <> price * 2 OR label <> upper(label))`,
    )
    const text = await app.cli(['backfill', 'run', 'recompute', '--dry-run'])
    expect(text.code).toBe(0)
    expect(text.stdout).toContain(
      `2,000 rows in the table; 1,500 match its where; ${expected.changing.toLocaleString('en-US')} would change.`,
    )
    expect(text.stdout).toContain('id 1: price: "1.00" → "2.00", label: "item 1" → "ITEM 1"')
    const json = await app.cli(['backfill', 'run', 'recompute', '--dry-run', '--json'])
    expect(JSON.parse(json.stdout)).toMatchObject({ dryRun: true, rows: 2000, rowsMatching: 1500, rowsChanging: expected.changing })
    expect(await fingerprint('prices')).toBe(before)
    expect(await db.query(`SELECT nspname FROM pg_namespace WHERE nspname = 'migrate_kit'`)).toEqual([])
  })

  test('the snapshot keeps the old values in the batch transaction; report shows per-row deltas and flags', async () => {
    const run = await app.cli(['backfill', 'run', 'recompute', '--batch-size', '300'])
    expect(run.code).toBe(0)
    expect(await db.query(`SELECT count(*)::int AS wrong FROM prices WHERE id <= 1500 AND label <> upper(label)`)).toEqual([{ wrong: 0 }])
    expect(await db.query(`SELECT count(*)::int AS snapshots FROM migrate_kit.backfill_snapshots WHERE backfill = 'recompute'`)).toEqual([
      { snapshots: 1500 },
    ])

    const file = app.project.path('report.json')
    const report = await app.cli(['backfill', 'report', 'recompute', '--out', file, '--threshold', '1.5'])
    expect(report.code).toBe(0)
    const written = JSON.parse(readFileSync(file, 'utf8')) as {
      threshold: number
      rows: Array<{ key: string; flagged: boolean; changes: Record<string, unknown> }>
      summary: {
        rows: number
        changed: number
        unchanged: number
        flagged: number
        byColumn: Record<string, { changed: number; flagged: number }>
      }
    }
    // Per row, from the data: price changes unless 0; label changes unless already upper (id % 3 = 0).
    const [truth] = await db.query<{ changed: number; labels: number; prices: number }>(
      `SELECT count(*) FILTER (WHERE id % 50 <> 0 OR id % 3 <> 0)::int AS changed,
              count(*) FILTER (WHERE id % 3 <> 0)::int AS labels, count(*) FILTER (WHERE id % 50 <> 0)::int AS prices
         FROM generate_series(1, 1500) id`,
    )
    expect(written.summary).toMatchObject({
      rows: 1500,
      changed: truth.changed,
      unchanged: 1500 - truth.changed,
      // A doubled price is +100 %, under the 150 % threshold: only label changes are flagged.
      flagged: truth.labels,
      byColumn: { price: { changed: truth.prices, flagged: 0 }, label: { changed: truth.labels, flagged: truth.labels } },
    })
    expect(written.rows.find((row) => row.key === '3')).toEqual({
      key: '3',
      flagged: false,
      changes: { price: { before: 3, after: 6, delta: 3, relative: 1, flagged: false } },
    })
    expect(written.rows.find((row) => row.key === '4')).toEqual({
      key: '4',
      flagged: true,
      changes: {
        price: { before: 4, after: 8, delta: 4, relative: 1, flagged: false },
        label: { before: 'item 4', after: 'ITEM 4', flagged: true },
      },
    })
    expect(report.stdout).toMatch(/Report of recompute written to .*report\.json: 1,500 rows compared/)
  })

  test('restore puts every old value back, in batches, and leaves the backfill pending to run again', async () => {
    const restored = await app.cli(['backfill', 'restore', 'recompute', '--batch-size', '400'])
    expect(restored.code).toBe(0)
    expect(restored.stdout).toContain('Restored 1,500 rows of public.prices from the snapshot.')
    expect(restored.stderr).toContain('migrate-kit backfill run recompute')
    const [original] = await db.query<{ wrong: number }>(
      `SELECT count(*)::int AS wrong FROM prices
        WHERE price <> id % 50 OR label <> CASE WHEN id % 3 = 0 THEN 'ITEM ' || id ELSE 'item ' || id END`,
    )
    expect(original).toEqual({ wrong: 0 })
    const status = JSON.parse((await app.cli(['backfill', 'status', 'recompute', '--json'])).stdout) as { status: string; rowsDone: number }
    expect(status).toMatchObject({ status: 'pending', rowsDone: 0 })
    // Run again: every row recomputed once from the restored values.
    expect((await app.cli(['backfill', 'run', 'recompute'])).code).toBe(0)
    expect(await db.query(`SELECT count(*)::int AS wrong FROM prices WHERE id <= 1500 AND price <> (id % 50) * 2`)).toEqual([{ wrong: 0 }])
  })
})

describe('cache invalidation', () => {
  async function profiles(table: string): Promise<void> {
    await db.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, name text NOT NULL)`)
    await db.query(`INSERT INTO ${table} SELECT g, 'user ' || g FROM generate_series(1, 300) g`)
    const pipeline = cache.redis.pipeline()
    for (let id = 1; id <= 300; id++) pipeline.set(`${cache.prefix}:${table}:${id}`, 'cached')
    pipeline
      .set(`${cache.prefix}:${table}:list:a`, 'cached')
      .set(`${cache.prefix}:${table}:list:b`, 'cached')
      .set(`${cache.prefix}:keep:${table}`, 'x')
    await pipeline.exec()
    app.backfill(
      `${table}.ts`,
      `import { defineBackfill, sql } from 'prisma-migrate-kit'

export default defineBackfill({
  name: '${table}',
  table: '${table}',
  update: sql\`name = upper(name)\`,
  where: sql\`id <= 200\`,
  invalidate: ['${cache.prefix}:${table}:{id}', '${cache.prefix}:${table}:list:*'],
})
`,
    )
  }

  async function cachedIds(table: string): Promise<{ rows: number; lists: number; kept: boolean }> {
    const keys = await cache.keys()
    return {
      rows: keys.filter((key) => new RegExp(`:${table}:\\d+$`).test(key)).length,
      lists: keys.filter((key) => key.includes(`:${table}:list:`)).length,
      kept: keys.includes(`${cache.prefix}:keep:${table}`),
    }
  }

  test('after each committed batch the changed rows’ keys and the globs are removed (UNLINK, SCAN), nothing else', async () => {
    await profiles('redis_up')
    // Small batches, so more than ten flushes share the pool's connections: none may pile listeners on them.
    const result = await app.cli(['backfill', 'run', 'redis_up', '--batch-size', '10', '--json'], { REDIS_URL: TEST_REDIS_URL })
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout).batchesThisRun).toBeGreaterThan(11)
    expect(result.stderr).not.toContain('MaxListenersExceededWarning')
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'done', invalidation: { enabled: true, keysRemoved: 202, pending: 0 } })
    expect(await cachedIds('redis_up')).toEqual({ rows: 100, lists: 0, kept: true })
    expect(await cache.redis.exists(`${cache.prefix}:redis_up:201`)).toBe(1)
  })

  test('without REDIS_URL the run says once that invalidation is skipped, and the data still commits', async () => {
    await profiles('no_redis')
    const result = await app.cli(['backfill', 'run', 'no_redis', '--batch-size', '50'])
    expect(result.code).toBe(0)
    expect(result.stderr.match(/REDIS_URL is not set: cache invalidation .* is skipped/g)).toHaveLength(1)
    expect(await cachedIds('no_redis')).toEqual({ rows: 300, lists: 2, kept: true })
    expect(await db.query(`SELECT count(*)::int AS done FROM no_redis WHERE name = upper(name)`)).toEqual([{ done: 200 }])
  })

  test('Redis down: the data commits, the invalidations wait in migrate_kit, and the next run delivers them', async () => {
    await profiles('redis_down')
    const port = await closedPort()
    const down = await app.cli(['backfill', 'run', 'redis_down', '--batch-size', '50'], { REDIS_URL: `redis://127.0.0.1:${port}` })
    expect(down.code).toBe(0)
    expect(down.stderr).toMatch(
      new RegExp(
        `Redis at 127\\.0\\.0\\.1:${port} did not take the cache invalidation \\(connect ECONNREFUSED[^)]*\\): the data is committed; \\d+ invalidations? (is|are) kept in migrate_kit\\.backfill_invalidations`,
      ),
    )
    expect(down.stderr).toMatch(/`migrate-kit backfill flush redis_down` delivers them, as does the next run/)
    expect(await db.query(`SELECT count(*)::int AS done FROM redis_down WHERE name = upper(name)`)).toEqual([{ done: 200 }])
    expect(await cachedIds('redis_down')).toEqual({ rows: 300, lists: 2, kept: true })
    const waiting = JSON.parse((await app.cli(['backfill', 'status', 'redis_down', '--json'])).stdout) as { pendingInvalidations: number }
    expect(waiting.pendingInvalidations).toBeGreaterThan(0)

    const up = await app.cli(['backfill', 'run', 'redis_down'], { REDIS_URL: TEST_REDIS_URL })
    expect(up.code).toBe(0)
    expect(up.stdout).toMatch(/redis_down is already done/)
    expect(await cachedIds('redis_down')).toEqual({ rows: 100, lists: 0, kept: true })
    const delivered = JSON.parse((await app.cli(['backfill', 'status', 'redis_down', '--json'])).stdout) as { pendingInvalidations: number }
    expect(delivered.pendingInvalidations).toBe(0)
  })

  test('Redis back during the run: the waiting invalidations go out after a later batch, before the run ends', async () => {
    await profiles('redis_back')
    const door = await redisDoor()
    try {
      // 300 keys at 50 rows/s: about 6 s, time for Redis to come back while it runs.
      const running = app.start(['backfill', 'run', 'redis_back', '--batch-size', '20', '--max-rows-per-second', '50'], {
        REDIS_URL: door.url,
      })
      await waitFor('Redis to be reported down', () => running.output().stderr.includes('did not take the cache invalidation'))
      door.open()
      await waitFor('the first batch’s keys gone', async () => (await cache.redis.exists(`${cache.prefix}:redis_back:1`)) === 0)
      expect(running.child.exitCode).toBeNull()
      const result = await running.done
      expect(result.code).toBe(0)
      expect(result.stderr).toMatch(/Redis at 127\.0\.0\.1:\d+ is back: \d+ pending invalidations? delivered/)
      expect(await cachedIds('redis_back')).toEqual({ rows: 100, lists: 0, kept: true })
    } finally {
      await door.close()
    }
  })

  test('a hung Redis (stopped: it takes connections, never answers) holds nothing: the run ends, the outbox keeps the work, `backfill flush` delivers it', async () => {
    await profiles('redis_hung')
    const port = await closedPort()
    const hungUrl = `redis://127.0.0.1:${port}`
    const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    })
    const privateRedis = () => new Redis(hungUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    try {
      await waitFor('the private Redis to answer', async () => {
        const probe = privateRedis()
        try {
          await probe.connect()
          return (await probe.ping()) === 'PONG'
        } catch {
          return false
        } finally {
          probe.disconnect()
        }
      })
      // The private Redis caches the same rows, so the flush afterwards has keys to remove there.
      const seed = privateRedis()
      await seed.connect()
      for (let id = 1; id <= 300; id++) await seed.set(`${cache.prefix}:redis_hung:${id}`, 'cached')
      await seed.set(`${cache.prefix}:redis_hung:list:a`, 'cached')
      seed.disconnect()
      process.kill(server.pid!, 'SIGSTOP')

      const started = Date.now()
      const running = app.start(['backfill', 'run', 'redis_hung', '--batch-size', '50'], { REDIS_URL: hungUrl })
      // While Redis hangs, no session of the run may sit in an open transaction (it would hold the outbox's row locks).
      const heldTransactions: unknown[] = []
      while (running.child.exitCode === null && Date.now() - started < 60_000) {
        heldTransactions.push(
          ...(await db.query(
            `SELECT application_name, query FROM pg_stat_activity
              WHERE application_name LIKE 'migrate-kit backfill redis_hung%' AND state = 'idle in transaction'
                AND now() - state_change > interval '500 ms'`,
          )),
        )
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      const result = await running.done
      expect(heldTransactions).toEqual([])
      expect(result.code).toBe(0)
      expect(Date.now() - started).toBeLessThan(30_000)
      expect(result.stderr).toMatch(/did not take the cache invalidation \(Command timed out\)/)
      expect(result.stderr).toMatch(
        /\d+ cache invalidations? still pending in migrate_kit\.backfill_invalidations \(Redis: Command timed out\): `migrate-kit backfill flush redis_hung` delivers them/,
      )
      expect(await db.query(`SELECT count(*)::int AS done FROM redis_hung WHERE name = upper(name)`)).toEqual([{ done: 200 }])
      expect(
        await db.query(`SELECT count(*)::int AS held FROM pg_stat_activity WHERE application_name LIKE 'migrate-kit backfill redis_hung%'`),
      ).toEqual([{ held: 0 }])
      const status = JSON.parse((await app.cli(['backfill', 'status', 'redis_hung', '--json'])).stdout) as { pendingInvalidations: number }
      expect(status.pendingInvalidations).toBeGreaterThan(0)

      // Still hung: flush gives up in seconds, says so, exit 1, and keeps every entry.
      const refused = await app.cli(['backfill', 'flush', 'redis_hung'], { REDIS_URL: hungUrl })
      expect(refused.code).toBe(1)
      expect(refused.stderr).toMatch(
        new RegExp(`\\d+ cache invalidations? not delivered to Redis at 127\\.0\\.0\\.1:${port} \\(Command timed out\\): redis_hung`),
      )
      const kept = JSON.parse((await app.cli(['backfill', 'status', 'redis_hung', '--json'])).stdout) as { pendingInvalidations: number }
      expect(kept.pendingInvalidations).toBe(status.pendingInvalidations)

      // Redis answers again: flush delivers everything, the keys of the 200 changed rows and the glob are gone.
      process.kill(server.pid!, 'SIGCONT')
      const flushed = await app.cli(['backfill', 'flush', 'redis_hung', '--json'], { REDIS_URL: hungUrl })
      expect(flushed.code).toBe(0)
      expect(JSON.parse(flushed.stdout)).toEqual({
        ok: true,
        backfills: [{ name: 'redis_hung', delivered: status.pendingInvalidations, keysRemoved: 201, pending: 0, error: null }],
      })
      const check = privateRedis()
      await check.connect()
      expect((await check.keys(`${cache.prefix}:redis_hung:*`)).length).toBe(100)
      check.disconnect()
      const again = await app.cli(['backfill', 'flush'], { REDIS_URL: hungUrl })
      expect(again).toMatchObject({ code: 0, stdout: 'No cache invalidations are waiting: nothing to flush.\n' })
    } finally {
      process.kill(server.pid!, 'SIGCONT')
      server.kill('SIGKILL')
    }
  })

  test('backfill flush refuses without REDIS_URL and for a backfill the database does not know (exit 2)', async () => {
    const noRedis = await app.cli(['backfill', 'flush', 'redis_up'])
    expect(noRedis.code).toBe(2)
    expect(noRedis.stderr).toMatch(/REDIS_URL is not set: there is no Redis to deliver cache invalidations to/)
    const unknown = await app.cli(['backfill', 'flush', 'no_such_backfill'], { REDIS_URL: TEST_REDIS_URL })
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/the database has no state for backfill "no_such_backfill": nothing to flush/)
  })

  test('keys of a batch that did not commit are not removed: invalidation follows the commit, never precedes it', async () => {
    await profiles('rolled_back')
    await db.query(`ALTER TABLE rolled_back ADD CONSTRAINT not_150 CHECK (id <> 150 OR name = 'user 150')`)
    const result = await app.cli(['backfill', 'run', 'rolled_back', '--batch-size', '50'], { REDIS_URL: TEST_REDIS_URL })
    expect(result.code).toBe(1)
    expect(await cache.redis.exists(`${cache.prefix}:rolled_back:150`)).toBe(1)
    expect(await cache.redis.exists(`${cache.prefix}:rolled_back:149`)).toBe(0)
    expect(await cache.redis.exists(`${cache.prefix}:rolled_back:1`)).toBe(0)
  })
})

test('a restore killed half-way blocks new runs until it is finished, then every old value is back once', async () => {
  await db.query(`CREATE TABLE balances (id integer PRIMARY KEY, amount integer NOT NULL)`)
  await db.query(`INSERT INTO balances SELECT g, g FROM generate_series(1, 1000) g`)
  app.backfill(
    'balances.ts',
    `import { defineBackfill, sql } from 'prisma-migrate-kit'
export default defineBackfill({ name: 'balances', table: 'balances', update: sql\`amount = amount + 1000\`, snapshot: ['amount'] })
`,
  )
  expect((await app.cli(['backfill', 'run', 'balances'])).code).toBe(0)
  // Restoring row 700 waits in the database until the test lets go.
  await db.query(`CREATE TABLE restore_hold (held boolean)`)
  await db.query(`INSERT INTO restore_hold VALUES (true)`)
  await db.query(`CREATE FUNCTION hold_restore() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      WHILE NEW.id = 700 AND EXISTS (SELECT 1 FROM restore_hold) LOOP PERFORM pg_sleep(0.05); END LOOP;
      RETURN NEW;
    END $$`)
  await db.query(`CREATE TRIGGER hold_restore BEFORE UPDATE ON balances FOR EACH ROW EXECUTE FUNCTION hold_restore()`)
  const restoring = app.start(['backfill', 'restore', 'balances', '--batch-size', '100'])
  await waitFor('the restore to reach row 700', async () => {
    const rows = await db.query(`SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event = 'PgSleep'`, [db.name])
    return rows.length > 0
  })
  await kill9(restoring)
  await db.query(`DELETE FROM restore_hold`)
  await waitFor('the killed restore’s sessions to end', async () => {
    const rows = await db.query(
      `SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND application_name = 'migrate-kit backfill balances restore'`,
      [db.name],
    )
    return rows.length === 0
  })
  const refused = await app.cli(['backfill', 'run', 'balances'])
  expect(refused.code).toBe(2)
  expect(refused.stderr).toMatch(/a restore of backfill "balances" started at .* is unfinished/)
  expect(refused.stderr).toContain('migrate-kit backfill restore balances')
  const finished = await app.cli(['backfill', 'restore', 'balances'])
  expect(finished.code).toBe(0)
  expect(await db.query(`SELECT count(*)::int AS wrong FROM balances WHERE amount <> id`)).toEqual([{ wrong: 0 }])
  expect((await app.cli(['backfill', 'run', 'balances'])).code).toBe(0)
  expect(await db.query(`SELECT count(*)::int AS wrong FROM balances WHERE amount <> id + 1000`)).toEqual([{ wrong: 0 }])
})
