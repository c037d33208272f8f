import os from 'node:os'
import {
  backfillProject,
  countsByN,
  createCounters,
  incrementBackfill,
  rangesDone,
  waitFor,
  type BackfillProject,
} from './helpers/backfill'
import { createTestDatabase, type TestDatabase } from './helpers/database'

const ROWS = 8_000
/** Slow enough to act on while it runs: 8,000 rows at 2,000 rows/s take about 4 s. */
const SLOW = ['--batch-size', '200', '--max-rows-per-second', '2000']

let db: TestDatabase
let app: BackfillProject

beforeAll(async () => {
  db = await createTestDatabase('backfill_control')
  app = backfillProject(db)
})
afterAll(async () => {
  app.remove()
  await db.drop()
})

interface StatusJson {
  name: string
  status: string
  rowsDone: number
  rowsTotal: number | null
  batchSize: number | null
  cursor: string | null
  lastError: string | null
}

async function status(name: string): Promise<StatusJson> {
  const result = await app.cli(['backfill', 'status', name, '--json'])
  expect(result.code).toBe(0)
  return JSON.parse(result.stdout) as StatusJson
}

test('a second run of the same backfill exits 4 at once, naming the holder (host, pid, since) and --join', async () => {
  await createCounters(db, ROWS, 'locked')
  app.backfill('locked.ts', incrementBackfill('locked', { table: 'locked' }))
  const first = app.start(['backfill', 'run', 'locked', ...SLOW])
  await waitFor('the first run to work', async () => (await rangesDone(db, 'locked')) >= 1)
  const started = Date.now()
  const second = await app.cli(['backfill', 'run', 'locked'])
  expect(Date.now() - started).toBeLessThan(5_000)
  expect(second.code).toBe(4)
  expect(second.stderr).toMatch(
    new RegExp(`backfill "locked" is already running: host ${os.hostname()}, pid ${first.child.pid}, since \\d{4}-\\d{2}-\\d{2}T[\\d:.]+Z`),
  )
  expect(second.stderr).toContain('migrate-kit backfill run locked --join')
  first.child.kill('SIGINT')
  expect((await first.done).code).toBe(0)
})

test.each(['SIGINT', 'SIGTERM'] as const)(
  '%s lets the batch in flight commit, records paused, exits 0 with the command to resume; run resumes it',
  async (signal) => {
    const name = `interrupted_${signal.toLowerCase()}`
    await createCounters(db, ROWS, name)
    app.backfill(`${name}.ts`, incrementBackfill(name, { table: name }))
    const running = app.start(['backfill', 'run', name, ...SLOW])
    await waitFor('a few batches', async () => (await rangesDone(db, name)) >= 3)
    running.child.kill(signal)
    const result = await running.done
    expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null })
    expect(result.stderr).toContain(`Paused. Resume with: migrate-kit backfill run ${name}`)
    // Off a terminal, progress is a plain line every few seconds (and one at the end).
    expect(result.stderr).toMatch(
      new RegExp(`^${name}: [\\d,]+ / 8,000 rows \\(\\d+ %\\), [\\d,]+ rows/s, ETA [\\d.]+ s, batch [\\d,]+$`, 'm'),
    )
    const paused = await status(name)
    expect(paused).toMatchObject({ name, status: 'paused', rowsTotal: ROWS, lastError: null })
    expect(paused.rowsDone).toBeGreaterThan(0)
    expect(paused.rowsDone).toBeLessThan(ROWS)
    // The cursor is the last key of the contiguous done prefix: rows up to it are done, the next is not.
    expect(await db.query(`SELECT count(*)::int AS wrong FROM ${name} WHERE id <= $1 AND n <> 1`, [Number(paused.cursor)])).toEqual([
      { wrong: 0 },
    ])
    expect(await db.query(`SELECT n FROM ${name} WHERE id = $1 + 1`, [Number(paused.cursor)])).toEqual([{ n: 0 }])
    const resumed = await app.cli(['backfill', 'run', name])
    expect(resumed.code).toBe(0)
    expect(await countsByN(db, name)).toEqual({ '1': ROWS })
    expect(await status(name)).toEqual(
      expect.objectContaining({
        status: 'done',
        rowsDone: ROWS,
        rowsTotal: ROWS,
        cursor: String(ROWS),
        lastError: null,
        batchSize: expect.any(Number),
      }),
    )
  },
)

test('pause, resume and cancel from another process act on the running runner', async () => {
  await createCounters(db, ROWS, 'remote')
  app.backfill('remote.ts', incrementBackfill('remote', { table: 'remote' }))
  // Slower than SLOW: three control commands (each loading the project's Prisma config, ≈0.4 s, over 1 s on a busy
  // machine) must land mid-run; 8,000 rows at 400 rows/s leave 20 s.
  const running = app.start(['backfill', 'run', 'remote', '--batch-size', '200', '--max-rows-per-second', '400'])
  await waitFor('a few batches', async () => (await rangesDone(db, 'remote')) >= 2)

  const pause = await app.cli(['backfill', 'pause', 'remote'])
  expect(pause.code).toBe(0)
  expect(pause.stdout).toMatch(/Pause requested: 1 runner hold after the batches in flight/)
  await waitFor('the runner to say it holds', () => running.output().stderr.includes('Paused by'))
  const held = await status('remote')
  expect(held.status).toBe('paused')
  await new Promise((resolve) => setTimeout(resolve, 800))
  expect((await status('remote')).rowsDone).toBe(held.rowsDone)

  const resume = await app.cli(['backfill', 'resume', 'remote'])
  expect(resume.stdout).toMatch(/Resumed: 1 runner carry on/)
  await waitFor('progress after resume', async () => (await status('remote')).rowsDone > held.rowsDone)
  expect((await status('remote')).status).toBe('running')

  const cancel = await app.cli(['backfill', 'cancel', 'remote'])
  expect(cancel.code).toBe(0)
  const result = await running.done
  expect(result.code).toBe(1)
  expect(result.stderr).toMatch(/Cancelled by .*: stopping after the batches in flight/)
  const cancelled = await status('remote')
  expect(cancelled.status).toBe('cancelled')
  expect(cancelled.rowsDone).toBeLessThan(ROWS)
  expect((await countsByN(db, 'remote'))['2']).toBeUndefined()

  // A cancelled backfill keeps what it did; run resumes it, once per row.
  const resumed = await app.cli(['backfill', 'run', 'remote'])
  expect(resumed.stderr).toMatch(/remote was cancelled; resuming where it stopped/)
  expect(await countsByN(db, 'remote')).toEqual({ '1': ROWS })
})

test('--join adds a second runner deliberately: both share the ranges and the backfill is done once', async () => {
  await createCounters(db, ROWS, 'joined')
  app.backfill('joined.ts', incrementBackfill('joined', { table: 'joined' }))
  const first = app.start(['backfill', 'run', 'joined', ...SLOW])
  await waitFor('the first runner', async () => (await rangesDone(db, 'joined')) >= 1)
  const second = app.start(['backfill', 'run', 'joined', '--join', ...SLOW])
  const [a, b] = await Promise.all([first.done, second.done])
  expect([a.code, b.code]).toEqual([0, 0])
  expect(await countsByN(db, 'joined')).toEqual({ '1': ROWS })
  const runners = await db.query<{ done_by: string }>(
    `SELECT DISTINCT done_by FROM migrate_kit.backfill_ranges WHERE backfill = 'joined' ORDER BY 1`,
  )
  expect(runners.map((row) => row.done_by).sort()).toEqual(
    [`${os.hostname()}:${first.child.pid}`, `${os.hostname()}:${second.child.pid}`].sort(),
  )
})

test('backfill status --json has exactly the documented fields first, and migrate-kit status lists every backfill', async () => {
  const json = await status('joined')
  expect(Object.keys(json).slice(0, 7)).toEqual(['name', 'status', 'rowsDone', 'rowsTotal', 'batchSize', 'cursor', 'lastError'])
  app.backfill('never_run.ts', incrementBackfill('never_run', { table: 'joined' }))
  const overall = await app.cli(['status', '--json'])
  expect(overall.code).toBe(0)
  const backfills = (JSON.parse(overall.stdout) as { backfills: Array<{ name: string }> }).backfills
  expect(backfills).toEqual(
    expect.arrayContaining([
      { name: 'joined', status: 'done', rowsDone: ROWS, rowsTotal: ROWS },
      { name: 'never_run', status: 'pending', rowsDone: 0, rowsTotal: null },
      { name: 'remote', status: 'done', rowsDone: ROWS, rowsTotal: ROWS },
    ]),
  )
  const text = await app.cli(['status'])
  expect(text.stdout).toMatch(/never_run\s+pending/)
  expect(text.stdout).toMatch(/joined\s+done\s+8,000\/8,000 rows \(100 %\)/)
})
