import { backfillProject, waitFor, type BackfillProject } from './helpers/backfill'
import { createTestDatabase, type TestDatabase } from './helpers/database'
import { stallProxy } from './helpers/stall-proxy'

let db: TestDatabase
let app: BackfillProject

beforeAll(async () => {
  db = await createTestDatabase('backfill_stall')
  app = backfillProject(db)
})
afterAll(async () => {
  app.remove()
  await db.drop()
})

async function counters(table: string, rows: number): Promise<void> {
  await db.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, n integer NOT NULL DEFAULT 0)`)
  await db.query(`INSERT INTO ${table} (id) SELECT g FROM generate_series(1, ${rows}) g`)
  app.backfill(
    `${table}.ts`,
    `import { defineBackfill, sql } from 'prisma-migrate-kit'
export default defineBackfill({ name: '${table}', table: '${table}', update: sql\`n = n + 1\` })
`,
  )
}

async function doneRows(table: string): Promise<number> {
  const [row] = await db.query<{ done: number }>(`SELECT count(*)::int AS done FROM ${table} WHERE n = 1`)
  return row.done
}

test('connections that stall mid-run (open, nothing comes back) are reported within seconds and replaced; every row is done exactly once', async () => {
  await counters('stalled', 3000)
  const proxy = await stallProxy(db.url)
  try {
    // 400 rows/s: about 8 s of work; statement timeout 1 s, so a silent connection is given up after 1 + 5 s.
    const running = app.start(
      ['backfill', 'run', 'stalled', '--batch-size', '100', '--max-rows-per-second', '400', '--statement-timeout-ms', '1000', '--json'],
      { DATABASE_URL: proxy.url },
    )
    await waitFor('a few batches', async () => (await doneRows('stalled')) >= 500)
    proxy.stall()
    const stalledAt = Date.now()
    expect(proxy.stalled()).toBeGreaterThan(0)
    await waitFor('the stall reported', () => /did not answer for \d+ s/.test(running.output().stderr), 30_000)
    expect(Date.now() - stalledAt).toBeLessThan(15_000)
    const result = await running.done
    expect(result.stderr).toMatch(/The database did not answer for \d+ s \(a stalled connection: open, but nothing comes back\)/)
    expect(result.stderr).toMatch(
      /Ended the stalled sessions? \(pid [\d, ]+\) on the server|Ended this runner's previous session \(pid \d+\)/,
    )
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'done', rowsDone: 3000 })
    expect(await db.query(`SELECT n, count(*)::int AS rows FROM stalled GROUP BY n`)).toEqual([{ n: 1, rows: 3000 }])
    // The server still had the stalled sessions (the dead path carried no hang-up): the runner ended them itself.
    expect(
      await db.query(`SELECT count(*)::int AS left FROM pg_stat_activity WHERE application_name LIKE 'migrate-kit backfill stalled%'`),
    ).toEqual([{ left: 0 }])
  } finally {
    await proxy.close()
  }
})

test('status shows a runner whose heartbeat stopped (frozen: its session open, nothing written) as stale, in text and JSON', async () => {
  await counters('frozen', 20_000)
  const running = app.start(['backfill', 'run', 'frozen', '--batch-size', '100', '--max-rows-per-second', '500'])
  try {
    await waitFor(
      'a runner registered',
      async () => (await db.query(`SELECT 1 FROM migrate_kit.backfill_runners WHERE backfill = 'frozen'`)).length > 0,
    )
    const fresh = JSON.parse((await app.cli(['backfill', 'status', 'frozen', '--json'])).stdout) as {
      runners: { stale: boolean; heartbeatAgeSeconds: number }[]
    }
    expect(fresh.runners).toHaveLength(1)
    expect(fresh.runners[0].stale).toBe(false)
    process.kill(running.child.pid!, 'SIGSTOP')
    // Its last heartbeat, aged as if it had been frozen for two minutes (the runner cannot write it meanwhile).
    await db.query(`UPDATE migrate_kit.backfill_runners SET heartbeat_at = now() - interval '2 minutes' WHERE backfill = 'frozen'`)
    const stale = await app.cli(['backfill', 'status', 'frozen', '--json'])
    const json = JSON.parse(stale.stdout) as {
      status: string
      staleRunners: number
      runners: { stale: boolean; heartbeatAgeSeconds: number }[]
    }
    expect(json.status).toBe('running')
    expect(json.staleRunners).toBe(1)
    expect(json.runners[0]).toMatchObject({ stale: true })
    expect(json.runners[0].heartbeatAgeSeconds).toBeGreaterThanOrEqual(120)
    const text = await app.cli(['backfill', 'status', 'frozen'])
    expect(text.stdout).toMatch(/runner +\S+ pid \d+ \(primary\) since \S+: STALE, no heartbeat for 2 min( \d+ s)? \(limit 30 s\)/)
    expect(text.stdout).toMatch(/stalled or frozen/)
    const list = await app.cli(['backfill', 'status'])
    expect(list.stdout).toMatch(/frozen +running .*1 runner \(stale\)/)
    process.kill(running.child.pid!, 'SIGCONT')
    await waitFor('a fresh heartbeat', async () => {
      const again = JSON.parse((await app.cli(['backfill', 'status', 'frozen', '--json'])).stdout) as { staleRunners: number }
      return again.staleRunners === 0
    })
  } finally {
    process.kill(running.child.pid!, 'SIGCONT')
    running.child.kill('SIGINT')
    await running.done
  }
})
