import { Client } from 'pg'
import { backfillProject, waitFor, type BackfillProject } from './helpers/backfill'
import { createTestDatabase, type TestDatabase } from './helpers/database'
import { startReplicatedServer, type ReplicatedServer } from './helpers/replica'

// Health throttling: --max-replica-lag against a real streaming replica (pg_basebackup), its lag made by pausing its
// replay; --max-app-latency with a probe query the test slows down.

let server: ReplicatedServer
let app: BackfillProject

beforeAll(async () => {
  server = await startReplicatedServer()
  app = backfillProject(server.primary)
}, 90_000)
afterAll(() => {
  app?.remove()
  server?.stop()
})

async function onReplica(sql: string): Promise<void> {
  const client = new Client({ connectionString: server.replicaUrl })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

const counterBackfill = (name: string) => `import { defineBackfill, sql } from 'prisma-migrate-kit'
export default defineBackfill({ name: '${name}', table: '${name}', update: sql\`n = n + 1\` })
`

async function doneRows(db: TestDatabase, table: string): Promise<number> {
  const [row] = await db.query<{ done: number }>(`SELECT count(*)::int AS done FROM ${table} WHERE n = 1`)
  return row.done
}

/** Once the batch in flight has ended, no row moves for 1.5 s while the run holds itself; returns the rows done. */
async function rowsWhileHeld(db: TestDatabase, table: string): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 500))
  const heldAt = await doneRows(db, table)
  await new Promise((resolve) => setTimeout(resolve, 1_500))
  expect(await doneRows(db, table)).toBe(heldAt)
  return heldAt
}

test('--max-replica-lag holds the batches while the replica is behind, says why in the output and in status, and goes on by itself once it caught up', async () => {
  const db = server.primary
  await db.query(`CREATE TABLE counters (id integer PRIMARY KEY, n integer NOT NULL DEFAULT 0)`)
  await db.query(`INSERT INTO counters (id) SELECT g FROM generate_series(1, 20000) g`)
  app.backfill('counters.ts', counterBackfill('counters'))
  const running = app.start([
    'backfill',
    'run',
    'counters',
    '--batch-size',
    '500',
    '--max-rows-per-second',
    '4000',
    '--max-replica-lag',
    '1s',
  ])
  await waitFor('a few batches', async () => (await doneRows(db, 'counters')) >= 2_000)
  expect(running.output().stderr).not.toMatch(/Throttled/)
  await onReplica('SELECT pg_wal_replay_pause()')
  const held = /Throttled: replica \S+ \(127\.0\.0\.1\) is [\d.]+ s behind, over --max-replica-lag 1\.0 s\. Holding the batches/
  await waitFor('the run to hold itself for the replica', () => held.test(running.output().stderr), 20_000).catch((error: Error) => {
    throw new Error(`${error.message}\n${running.output().stderr}`)
  })
  expect(await rowsWhileHeld(db, 'counters')).toBeLessThan(20_000)
  const status = JSON.parse((await app.cli(['backfill', 'status', 'counters', '--json'])).stdout) as { status: string; throttled: string }
  expect(status.status).toBe('running')
  expect(status.throttled).toMatch(/^replica \S+ \(127\.0\.0\.1\) is [\d.]+ s behind, over --max-replica-lag 1\.0 s \(since \d{4}-/)
  expect((await app.cli(['backfill', 'status', 'counters'])).stdout).toMatch(/ {2}throttled +replica \S+ \(127\.0\.0\.1\) is/)

  await onReplica('SELECT pg_wal_replay_resume()')
  const result = await running.done
  expect(result.code).toBe(0)
  expect(result.stderr).toMatch(/replica \S+ \(127\.0\.0\.1\) is [\d.]+ m?s behind again: going on\./)
  expect(await db.query(`SELECT n, count(*)::int AS rows FROM counters GROUP BY n`)).toEqual([{ n: 1, rows: 20_000 }])
  const after = JSON.parse((await app.cli(['backfill', 'status', 'counters', '--json'])).stdout) as { throttled: string | null }
  expect(after.throttled).toBeNull()
}, 90_000)

test('--max-replica-lag is refused up front where no replica streams, rather than never acting (exit 2)', async () => {
  const lone = await createTestDatabase('backfill_replica_none')
  const project = backfillProject(lone)
  try {
    await lone.query(`CREATE TABLE lone (id integer PRIMARY KEY, n integer NOT NULL DEFAULT 0)`)
    await lone.query(`INSERT INTO lone (id) VALUES (1)`)
    project.backfill('lone.ts', counterBackfill('lone'))
    const result = await project.cli(['backfill', 'run', 'lone', '--max-replica-lag', '5s'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--max-replica-lag: no replica is streaming from this database (pg_stat_replication has none)')
    expect(await doneRows(lone, 'lone')).toBe(0)
    const bad = await project.cli(['backfill', 'run', 'lone', '--max-replica-lag', '5'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('expected a duration such as 500ms, 10s or 2m')
  } finally {
    project.remove()
    await lone.drop()
  }
})

test('--max-app-latency holds the batches while the probe query the user names is slow, and goes on once it is fast again', async () => {
  const db = await createTestDatabase('backfill_latency')
  const project = backfillProject(db)
  try {
    await db.query(`CREATE TABLE slow (id integer PRIMARY KEY, n integer NOT NULL DEFAULT 0)`)
    await db.query(`INSERT INTO slow (id) SELECT g FROM generate_series(1, 20000) g`)
    await db.query(`CREATE TABLE probe_delay (seconds float8 NOT NULL)`)
    await db.query(`INSERT INTO probe_delay VALUES (0)`)
    project.backfill('slow.ts', counterBackfill('slow'))
    const probe = 'SELECT pg_sleep((SELECT seconds FROM probe_delay))'
    const running = project.start([
      'backfill',
      'run',
      'slow',
      '--batch-size',
      '500',
      '--max-rows-per-second',
      '3000',
      '--max-app-latency',
      '100ms',
      '--app-latency-query',
      probe,
    ])
    await waitFor('a few batches', async () => (await doneRows(db, 'slow')) >= 2_000)
    await db.query(`UPDATE probe_delay SET seconds = 0.3`)
    const held = /Throttled: the app latency probe takes [\d.]+ m?s \(median of its last 5 runs\), over --max-app-latency 100 ms\./
    await waitFor('the run to hold itself', () => held.test(running.output().stderr), 20_000)
    await rowsWhileHeld(db, 'slow')
    const status = JSON.parse((await project.cli(['backfill', 'status', 'slow', '--json'])).stdout) as { throttled: string }
    expect(status.throttled).toMatch(/^the app latency probe takes .* over --max-app-latency 100 ms \(since /)
    await db.query(`UPDATE probe_delay SET seconds = 0`)
    const result = await running.done
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(/the app latency probe takes \d+ ms \(median of its last 5 runs\) again: going on\./)
    expect(await db.query(`SELECT n, count(*)::int AS rows FROM slow GROUP BY n`)).toEqual([{ n: 1, rows: 20_000 }])

    const failing = await project.cli([
      'backfill',
      'run',
      'slow',
      '--max-app-latency',
      '1s',
      '--app-latency-query',
      'SELECT * FROM no_such_table',
    ])
    expect(failing.code).toBe(2)
    expect(failing.stderr).toContain('--app-latency-query failed: relation "no_such_table" does not exist')
    const alone = await project.cli(['backfill', 'run', 'slow', '--app-latency-query', 'SELECT 1'])
    expect(alone.code).toBe(2)
    expect(alone.stderr).toContain('--app-latency-query names the probe of --max-app-latency, which is not given')
  } finally {
    project.remove()
    await db.drop()
  }
}, 90_000)
