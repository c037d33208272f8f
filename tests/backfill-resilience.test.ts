import { Client } from 'pg'
import {
  backfillProject,
  countsByN,
  createCounters,
  incrementBackfill,
  rangesDone,
  runnerBackends,
  waitFor,
  type BackfillProject,
} from './helpers/backfill'
import { createTestDatabase, type TestDatabase } from './helpers/database'

let db: TestDatabase
let app: BackfillProject

beforeAll(async () => {
  db = await createTestDatabase('backfill_resilience')
  app = backfillProject(db)
})
afterAll(async () => {
  app.remove()
  await db.drop()
})

test('a database restart mid-run (every runner session terminated, twice) is retried with backoff and the run goes on', async () => {
  await createCounters(db, 10_000, 'restarted')
  app.backfill('restarted.ts', incrementBackfill('restarted', { table: 'restarted' }))
  const running = app.start(['backfill', 'run', 'restarted', '--concurrency', '2', '--batch-size', '200', '--max-rows-per-second', '4000'])
  for (const after of [2, 6]) {
    await waitFor(`${after} batches`, async () => (await rangesDone(db, 'restarted')) >= after)
    // What a restart does to the runner: every one of its sessions ends (found by application_name, as a DBA would).
    // After the first restart the pool opens its second session when a worker next needs one: wait for both.
    const pids = await waitFor('both runner sessions', async () => {
      const found = await runnerBackends(db, 'restarted')
      return found.length >= 2 && found
    })
    await db.query(`SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid`, [pids])
  }
  const result = await running.done
  expect(result.code).toBe(0)
  expect(result.stderr).toMatch(/Lost the database connection \(.+\); reconnecting with backoff/)
  expect(result.stderr).toMatch(/Reconnected after [\d.]+ s; carrying on/)
  expect(result.stdout).toMatch(/restarted done: 10,000 rows, 10,000 changed/)
  expect(await countsByN(db, 'restarted')).toEqual({ '1': 10_000 })
})

test('a poison row is found by halving its batch; the run fails naming its key range; after the fix, run resumes to done', async () => {
  await createCounters(db, 6_000, 'poisoned')
  // Row 4321 may not be incremented: every batch containing it fails.
  await db.query(`ALTER TABLE poisoned ADD CONSTRAINT no_4321 CHECK (id <> 4321 OR n = 0)`)
  app.backfill('poisoned.ts', incrementBackfill('poisoned', { table: 'poisoned' }))
  const failed = await app.cli(['backfill', 'run', 'poisoned', '--batch-size', '1000'])
  expect(failed.code).toBe(1)
  expect(failed.stderr).toMatch(
    /error: backfill poisoned failed at keys \(4320, 4321\]: new row for relation "poisoned" violates check constraint "no_4321" \(SQLSTATE 23514\)/,
  )
  expect(failed.stderr).toContain('then resume where it stopped: migrate-kit backfill run poisoned')
  const splits = await db.query<{ rows: number; status: string }>(
    `SELECT rows, status FROM migrate_kit.backfill_ranges WHERE backfill = 'poisoned' AND status <> 'done'`,
  )
  expect(splits).toEqual([{ rows: 1, status: 'failed' }])
  const status = JSON.parse((await app.cli(['backfill', 'status', 'poisoned', '--json'])).stdout) as Record<string, unknown>
  expect(status).toMatchObject({
    status: 'failed',
    failedRange: { after: '4320', upTo: '4321' },
    lastError: expect.stringMatching(/no_4321/),
  })
  expect(Number(status.cursor)).toBeLessThanOrEqual(4320)
  expect(await db.query(`SELECT n FROM poisoned WHERE id = 4321`)).toEqual([{ n: 0 }])
  expect((await countsByN(db, 'poisoned'))['2']).toBeUndefined()

  // The row's values (PostgreSQL's DETAIL: "Failing row contains (4321, 1).") are personal data in many tables: kept
  // nowhere, said nowhere, unless asked for.
  expect(failed.stderr).not.toContain('Failing row contains')
  expect(failed.stderr).toContain("PostgreSQL's DETAIL, which may hold the row's values, is not kept: --keep-error-detail keeps it")
  expect(JSON.stringify(status)).not.toContain('Failing row contains')
  const ledger = await db.query<{ last_error: string | null }>(
    `SELECT last_error FROM migrate_kit.backfill_ranges WHERE backfill = 'poisoned'`,
  )
  expect(ledger.filter((range) => range.last_error?.includes('Failing row contains'))).toEqual([])
  const detailed = await app.cli(['backfill', 'run', 'poisoned', '--keep-error-detail'])
  expect(detailed.code).toBe(1)
  expect(detailed.stderr).toContain('Failing row contains (4321, 1')

  await db.query(`ALTER TABLE poisoned DROP CONSTRAINT no_4321`)
  const resumed = await app.cli(['backfill', 'run', 'poisoned'])
  expect(resumed.code).toBe(0)
  expect(resumed.stderr).toMatch(/poisoned failed last time \(keys \(4320, 4321\]\): .*no_4321.*Retrying from there/)
  expect(await countsByN(db, 'poisoned')).toEqual({ '1': 6_000 })
})

test('a row the app keeps locked makes the batch give up after lock_timeout and retry, not wait, naming the session that holds it', async () => {
  await createCounters(db, 3_000, 'contended')
  app.backfill('contended.ts', incrementBackfill('contended', { table: 'contended' }))
  const app_ = new Client({ connectionString: db.url, application_name: 'test app' })
  await app_.connect()
  try {
    await app_.query('BEGIN')
    await app_.query('SELECT * FROM contended WHERE id = 1500 FOR UPDATE')
    const running = app.start(['backfill', 'run', 'contended', '--batch-size', '500', '--lock-timeout-ms', '600', '--json'])
    // While the app holds row 1500, the batches around it keep timing out on the lock; the others get done.
    await waitFor('the other batches', async () => (await db.query(`SELECT 1 FROM contended WHERE n = 0 AND id > 2000`)).length === 0)
    await new Promise((resolve) => setTimeout(resolve, 300))
    await app_.query('COMMIT')
    const result = await running.done
    expect(result.code).toBe(0)
    const json = JSON.parse(result.stdout) as { status: string; retries: number }
    expect(json.status).toBe('done')
    expect(json.retries).toBeGreaterThan(0)
    expect(result.stderr).toMatch(
      /met the app \(canceling statement due to lock timeout \(SQLSTATE 55P03\); held by session pid \d+ \("test app", idle in transaction, its last query started .+: SELECT \* FROM contended WHERE id = 1500 FOR UPDATE\)\); it is retried with backoff/,
    )
    // A lock is the app's, not the rows' fault: a split says so.
    expect(result.stderr).not.toMatch(/rows at fault/)
  } finally {
    await app_.end()
  }
  expect(await countsByN(db, 'contended')).toEqual({ '1': 3_000 })
})

test('rows inserted while the backfill runs are covered by the catch-up pass', async () => {
  await createCounters(db, 4_000, 'growing')
  app.backfill('growing.ts', incrementBackfill('growing', { table: 'growing' }))
  const running = app.start(['backfill', 'run', 'growing', '--batch-size', '200', '--max-rows-per-second', '4000'])
  await waitFor('the run to be under way', async () => (await rangesDone(db, 'growing')) >= 2)
  await db.query(`INSERT INTO growing (id) SELECT g FROM generate_series(4001, 4500) g`)
  const result = await running.done
  expect(result.code).toBe(0)
  expect(result.stderr).toMatch(/Catch-up pass: covering rows inserted since the backfill started/)
  expect(await countsByN(db, 'growing')).toEqual({ '1': 4_500 })
})
