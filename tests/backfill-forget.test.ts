import { rmSync } from 'node:fs'
import { Client } from 'pg'
import { releaseBackfillLock, tryBackfillLock } from '../packages/prisma-migrate-kit/src/backfill/lock'
import { describeWait } from '../packages/prisma-migrate-kit/src/deploy/readiness'
import { backfillProject, type BackfillProject } from './helpers/backfill'
import { createTestDatabase, type TestDatabase } from './helpers/database'

// State that must not go stale: a backfill can be forgotten, its snapshot purged, one whose file is gone is listed as
// orphaned, and one whose table was reset under it is pending again.

let db: TestDatabase
let app: BackfillProject

const definition = (name: string, table: string, snapshot: boolean) => `import { defineBackfill, sql } from 'prisma-migrate-kit'

export default defineBackfill({
  name: '${name}',
  table: '${table}',
  update: sql\`label = upper(label)\`,
  where: sql\`label <> upper(label)\`,${snapshot ? "\n  snapshot: ['label']," : ''}
})
`

interface StatusJson {
  status: string
  rowsDone: number
  snapshotRows: number
  snapshotBytes: number
  orphaned: boolean
  reset: string | null
}

const status = async (name: string): Promise<StatusJson> =>
  JSON.parse((await app.cli(['backfill', 'status', name, '--json'])).stdout) as StatusJson
const counts = async (name: string) =>
  (
    await db.query<{ backfills: number; ranges: number; snapshots: number }>(
      `SELECT (SELECT count(*)::int FROM migrate_kit.backfills WHERE name = $1) AS backfills,
              (SELECT count(*)::int FROM migrate_kit.backfill_ranges WHERE backfill = $1) AS ranges,
              (SELECT count(*)::int FROM migrate_kit.backfill_snapshots WHERE backfill = $1) AS snapshots`,
      [name],
    )
  )[0]

beforeAll(async () => {
  db = await createTestDatabase('backfill_forget')
  app = backfillProject(db)
  for (const table of ['items', 'notes']) {
    await db.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, label text NOT NULL)`)
    await db.query(`INSERT INTO ${table} SELECT g, 'item ' || g FROM generate_series(1, 3000) g`)
  }
  app.backfill('upper_items.ts', definition('upper_items', 'items', true))
  app.backfill('upper_notes.ts', definition('upper_notes', 'notes', false))
  for (const name of ['upper_items', 'upper_notes']) {
    const run = await app.cli(['backfill', 'run', name, '--batch-size', '500'])
    expect({ name, code: run.code }).toEqual({ name, code: 0 })
  }
}, 120_000)

afterAll(async () => {
  app?.remove()
  await db?.drop()
})

test('status shows the snapshot and its size; purge keeps rows never restored unless --force', async () => {
  const before = await status('upper_items')
  expect(before).toMatchObject({ status: 'done', snapshotRows: 3000, orphaned: false, reset: null })
  expect(before.snapshotBytes).toBeGreaterThan(3000 * 40)
  const text = await app.cli(['backfill', 'status', 'upper_items'])
  expect(text.stdout).toMatch(
    /^ {2}snapshot {4}3,000 rows of old values, about \d+(\.\d)? kB \(restore, report; delete: migrate-kit backfill purge upper_items\)$/m,
  )

  const refused = await app.cli(['backfill', 'purge', 'upper_items'])
  expect({ code: refused.code, stdout: refused.stdout }).toEqual({ code: 2, stdout: '' })
  expect(refused.stderr).toContain('the snapshot of backfill "upper_items" holds 3000 rows of old values that were never restored')
  expect((await counts('upper_items')).snapshots).toBe(3000)

  const purged = await app.cli(['backfill', 'purge', 'upper_items', '--force', '--json'])
  expect({ code: purged.code, result: JSON.parse(purged.stdout) as unknown }).toEqual({
    code: 0,
    result: { name: 'upper_items', snapshotRows: 3000, unrestored: 3000 },
  })
  expect(await counts('upper_items')).toEqual({ backfills: 1, ranges: expect.any(Number), snapshots: 0 })
  expect(await status('upper_items')).toMatchObject({ status: 'done', snapshotRows: 0, snapshotBytes: 0 })
}, 60_000)

test('forget and purge are refused while the backfill runs (exit 4), and a name the database does not know is exit 2', async () => {
  // A runner holds the backfill's advisory lock for as long as it works: the same lock, taken here.
  const holder = new Client({ connectionString: db.url })
  await holder.connect()
  try {
    expect(await tryBackfillLock(holder, 'upper_notes')).toBe(true)
    for (const verb of ['forget', 'purge']) {
      const result = await app.cli(['backfill', verb, 'upper_notes'])
      expect({ verb, code: result.code }).toEqual({ verb, code: 4 })
    }
    expect((await counts('upper_notes')).backfills).toBe(1)
    await releaseBackfillLock(holder, 'upper_notes')
  } finally {
    await holder.end()
  }
  const unknown = await app.cli(['backfill', 'forget', 'no_such_backfill'])
  expect({ code: unknown.code }).toEqual({ code: 2 })
  expect(unknown.stderr).toContain('the database has no state for backfill "no_such_backfill": nothing to forget')
}, 60_000)

test('a table dropped and created again, or emptied, under a done backfill makes it pending again; run starts over', async () => {
  await db.query('DROP TABLE notes')
  await db.query(`CREATE TABLE notes (id integer PRIMARY KEY, label text NOT NULL)`)
  await db.query(`INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(1, 700) g`)
  const reset = await status('upper_notes')
  expect(reset).toMatchObject({
    status: 'pending',
    reset: 'its table public.notes was dropped and created again since it ran (a database reset?)',
  })
  const listed = await app.cli(['backfill', 'status'])
  expect(listed.stdout).toMatch(/upper_notes +pending .*reset: its table public\.notes was dropped and created again/)

  const rerun = await app.cli(['backfill', 'run', 'upper_notes', '--batch-size', '500'])
  expect(rerun.code).toBe(0)
  expect(rerun.stderr).toContain(
    'upper_notes was done on public.notes, but its table public.notes was dropped and created again since it ran (a database reset?): its ranges speak of rows that are gone, so it starts again from the first key.',
  )
  expect(await db.query(`SELECT count(*)::int AS n FROM notes WHERE label = upper(label)`)).toEqual([{ n: 700 }])
  expect(await status('upper_notes')).toMatchObject({ status: 'done', rowsDone: 700, reset: null })

  // The deploy gate says why a backfill it waits for is pending again.
  expect(
    describeWait({
      backfill: 'upper_notes',
      file: 'backfills/upper_notes.ts',
      reasons: [],
      status: 'pending',
      done: false,
      verified: null,
      verify: null,
      ready: false,
      reset: 'its table public.notes was emptied',
    }),
  ).toBe('pending again: its table public.notes was emptied')

  await db.query('TRUNCATE notes')
  expect(await status('upper_notes')).toMatchObject({
    status: 'pending',
    reset: 'its table public.notes has no row, though the backfill did 700 (emptied since: a database reset?)',
  })
}, 90_000)

test('a backfill whose file is gone is listed as orphaned; forget removes it (and refuses to lose a snapshot without --force)', async () => {
  // A snapshot kept again: upper_items runs once more on new rows.
  await db.query(`INSERT INTO items SELECT g, 'item ' || g FROM generate_series(3001, 3100) g`)
  expect((await app.cli(['backfill', 'run', 'upper_items', '--restart'])).code).toBe(0)
  expect((await counts('upper_items')).snapshots).toBe(100)

  rmSync(app.project.path('backfills', 'upper_items.ts'))
  const list = await app.cli(['backfill', 'list', '--json'])
  const entries = (JSON.parse(list.stdout) as { backfills: Array<{ name: string; orphaned: boolean; status: string }> }).backfills
  expect(entries.find((entry) => entry.name === 'upper_items')).toMatchObject({ orphaned: true, status: 'done' })
  expect((await app.cli(['backfill', 'list'])).stdout).toMatch(/upper_items .*done .*\(orphaned: file gone\)/)
  expect((await app.cli(['backfill', 'status', 'upper_items'])).stdout).toContain(
    '  orphaned    no file in the backfills folder defines it; remove its state with: migrate-kit backfill forget upper_items',
  )

  const refused = await app.cli(['backfill', 'forget', 'upper_items'])
  expect({ code: refused.code, stdout: refused.stdout }).toEqual({ code: 2, stdout: '' })
  expect(refused.stderr).toContain(
    'backfill "upper_items" still keeps 100 snapshot rows with the old values `backfill restore upper_items` puts back: forgetting it would lose them; nothing was changed',
  )
  expect((await counts('upper_items')).backfills).toBe(1)

  const forgot = await app.cli(['backfill', 'forget', 'upper_items', '--force'])
  expect({ code: forgot.code, stderr: forgot.stderr }).toEqual({ code: 0, stderr: '' })
  expect(forgot.stdout).toMatch(/^Forgot backfill upper_items \(it was done\): \d+ ranges, 100 snapshot rows removed\.$/m)
  expect(await counts('upper_items')).toEqual({ backfills: 0, ranges: 0, snapshots: 0 })
  const after = JSON.parse((await app.cli(['backfill', 'list', '--json'])).stdout) as { backfills: Array<{ name: string }> }
  expect(after.backfills.map((entry) => entry.name)).toEqual(['upper_notes'])
  expect((await app.cli(['backfill', 'status', 'upper_items'])).code).toBe(2)
}, 90_000)
