import { readFileSync } from 'node:fs'
import os from 'node:os'
import { Client } from 'pg'
import { defineBackfill, sql } from 'prisma-migrate-kit'
import {
  compareKey,
  decodeKey,
  displayKey,
  encodeKey,
  keyFromText,
  type BackfillKey,
} from '../packages/prisma-migrate-kit/src/backfill/key'
import { describeRange } from '../packages/prisma-migrate-kit/src/backfill/ledger'
import type { LoadedBackfill } from '../packages/prisma-migrate-kit/src/backfill/loader'
import { StatementBuilder } from '../packages/prisma-migrate-kit/src/backfill/sql'
import { updateStatement } from '../packages/prisma-migrate-kit/src/backfill/statements'
import { resolveBackfill } from '../packages/prisma-migrate-kit/src/backfill/validate'
import { backfillProject, kill9, rangesDone, waitFor, type BackfillProject } from './helpers/backfill'
import { createTestDatabase, type TestDatabase } from './helpers/database'
import { TEST_REDIS_URL, createTestRedis, type TestRedis } from './helpers/redis'

/**
 * Backfills over composite keys: a join table's `(order_id, line_no)` (Prisma `@@id([orderId, lineNo])`). The
 * exactly-once tests are the single-key suite's (backfill-crash.test.ts) on such a table: `n = n + 1` without a where,
 * so a row changed twice shows 2.
 */
const ORDERS = 1000
const LINES = 10
const ROWS = ORDERS * LINES

let db: TestDatabase
let app: BackfillProject
let cache: TestRedis

beforeAll(async () => {
  db = await createTestDatabase('backfill_composite')
  app = backfillProject(db)
  cache = await createTestRedis('composite')
})
afterAll(async () => {
  app.remove()
  await cache.cleanup()
  await db.drop()
})

/** An order-lines table, its rows inserted in random order (the heap's order is not the key's). */
async function createOrderLines(table: string): Promise<void> {
  await db.query(`CREATE TABLE ${table} (order_id integer, line_no integer, n integer NOT NULL DEFAULT 0, PRIMARY KEY (order_id, line_no))`)
  await db.query(
    `INSERT INTO ${table} (order_id, line_no)
     SELECT o, l FROM generate_series(1, $1::int) o, generate_series(1, $2::int) l ORDER BY random()`,
    [ORDERS, LINES],
  )
}

/** `n = n + 1`, the key left to be found: the table's composite primary key. */
function incrementLines(name: string, table: string): string {
  return `import { defineBackfill, sql } from 'prisma-migrate-kit'

export default defineBackfill({ name: '${name}', table: '${table}', update: sql\`n = n + 1\` })
`
}

async function countsByN(table: string): Promise<Record<string, number>> {
  const rows = await db.query<{ n: number; count: number }>(`SELECT n, count(*)::int AS count FROM ${table} GROUP BY n ORDER BY n`)
  return Object.fromEntries(rows.map((row) => [String(row.n), row.count]))
}

/** The backfill's done ranges with their bounds decoded into the key's columns (a ledger key is a JSON array). */
const doneRanges = (name: string) => `
  SELECT (lower::jsonb->>0)::int AS lo1, (lower::jsonb->>1)::int AS lo2, (upper::jsonb->>0)::int AS up1, (upper::jsonb->>1)::int AS up2
    FROM migrate_kit.backfill_ranges WHERE backfill = '${name}' AND status = 'done'`
const inRange = `(r.lo1 IS NULL OR (c.order_id, c.line_no) > (r.lo1, r.lo2)) AND (c.order_id, c.line_no) <= (r.up1, r.up2)`

/** Rows whose n disagrees with the ledger: changed outside a done range, or unchanged inside one. Must be 0. */
async function ledgerDisagreements(table: string, name: string): Promise<number> {
  const [row] = await db.query<{ count: number }>(
    `WITH r AS MATERIALIZED (${doneRanges(name)})
     SELECT count(*)::int AS count FROM ${table} c WHERE (c.n = 1) <> EXISTS (SELECT 1 FROM r WHERE ${inRange})`,
  )
  return row.count
}

/** Rows inside more than one done range: each key range must be done once. */
async function rowsInOverlaps(table: string, name: string): Promise<number> {
  const [row] = await db.query<{ count: number }>(
    `WITH r AS MATERIALIZED (${doneRanges(name)})
     SELECT count(*)::int AS count FROM ${table} c WHERE (SELECT count(*) FROM r WHERE ${inRange}) > 1`,
  )
  return row.count
}

async function expectPartlyDoneAndConsistent(table: string, name: string): Promise<void> {
  const counts = await countsByN(table)
  expect(counts['2']).toBeUndefined()
  expect(counts['1'] ?? 0).toBeGreaterThan(0)
  expect(await ledgerDisagreements(table, name)).toBe(0)
}

async function resumeToDone(table: string, name: string, extraArgs: string[] = []): Promise<void> {
  const resumed = await app.cli(['backfill', 'run', name, ...extraArgs])
  expect({ code: resumed.code, stderr: resumed.stderr }).toEqual({ code: 0, stderr: expect.any(String) })
  expect(resumed.stdout).toMatch(new RegExp(`${name} done: ${ROWS.toLocaleString('en-US')} rows`))
  expect(await countsByN(table)).toEqual({ '1': ROWS })
  expect(await rowsInOverlaps(table, name)).toBe(0)
}

describe('a composite key in the ledger', () => {
  const key: BackfillKey = {
    columns: [
      { name: 'order_id', type: 'integer' },
      { name: 'line_no', type: 'text' },
    ],
  }

  test('is a JSON array of each column’s text, shown as a tuple; a single key stays its own text', () => {
    const text = encodeKey(key, ['17', "o'brien"])
    expect(decodeKey(key, text)).toEqual(['17', "o'brien"])
    expect(displayKey(key, text)).toBe("(17, 'o''brien')")
    expect(describeRange(key, { after: encodeKey(key, ['1', 'a']), upTo: text })).toBe("((1, 'a'), (17, 'o''brien')]")
    const single: BackfillKey = { columns: [{ name: 'id', type: 'bigint' }] }
    expect(encodeKey(single, ['42'])).toBe('42')
    expect(describeRange(single, { after: null, upTo: '42' })).toBe('up to 42')
    expect(() => decodeKey(key, '42')).toThrow(/not a key of \(order_id, line_no\)/)
  })

  test('compares as a row, each part a parameter cast to its column’s type', () => {
    const builder = compareKey(new StatementBuilder().text('SELECT 1 FROM t WHERE '), key, '>', encodeKey(key, ['5', 'x']))
    expect(builder.build()).toEqual({
      text: 'SELECT 1 FROM t WHERE ("order_id", "line_no") > ROW($1::integer, $2::text)',
      values: ['5', 'x'],
    })
    expect(keyFromText(key, 'r.lower')).toBe('ROW(((r.lower)::jsonb->>0)::integer, ((r.lower)::jsonb->>1)::text)')
  })
})

test('a batch over a composite primary key is walked by its index (a row comparison), never a sequential scan', async () => {
  await createOrderLines('walked')
  await db.query('ANALYZE walked')
  const definition = defineBackfill({ name: 'walked', table: 'walked', update: sql`n = n + 1` })
  const loaded: LoadedBackfill = { name: 'walked', definition, file: '/walked.ts', relativeFile: 'backfills/walked.ts', checksum: 'x' }
  const client = new Client({ connectionString: db.url })
  await client.connect()
  try {
    const resolved = await resolveBackfill(client, loaded)
    expect(resolved.key.columns).toEqual([
      { name: 'order_id', type: 'integer' },
      { name: 'line_no', type: 'integer' },
    ])
    const { text, values } = updateStatement(resolved, { after: '["10", "3"]', upTo: '["30", "7"]' }, []).build()
    const plan = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, values)
    const lines = plan.rows.map((row) => row['QUERY PLAN']).join('\n')
    expect(lines).toMatch(/Index (Only )?Scan (using|on) walked_pkey/)
    expect(lines).not.toContain('Seq Scan')
    expect(lines).toContain('Index Cond: ((ROW(order_id, line_no) > ROW(10, 3)) AND (ROW(order_id, line_no) <= ROW(30, 7)))')
    await client.query(text, values)
    const [changed] = await db.query<{ rows: number }>(`SELECT count(*)::int AS rows FROM walked WHERE n = 1`)
    // (10, 3] … (30, 7]: the rest of order 10 (7 lines), orders 11 to 29 whole, order 30 up to line 7.
    expect(changed.rows).toBe(7 + 19 * LINES + 7)
  } finally {
    await client.end()
  }
})

test('the key is found from a composite primary key; kill -9 after some batches, then run again: every row changed exactly once', async () => {
  await createOrderLines('after_batches')
  app.backfill('after_batches.ts', incrementLines('after_batches', 'after_batches'))
  const running = app.start(['backfill', 'run', 'after_batches', '--batch-size', '200', '--pause-ms', '40'])
  await waitFor('five batches committed', async () => (await rangesDone(db, 'after_batches')) >= 5)
  const killed = await kill9(running)
  expect(killed.signal).toBe('SIGKILL')
  await expectPartlyDoneAndConsistent('after_batches', 'after_batches')

  const status = await app.cli(['backfill', 'status', 'after_batches', '--json'])
  const parsed = JSON.parse(status.stdout) as { status: string; key: string; keyColumns: string[]; cursor: string; rowsDone: number }
  expect(parsed).toMatchObject({ status: 'paused', key: '(order_id, line_no)', keyColumns: ['order_id', 'line_no'] })
  // The cursor is a key of the table: every row up to it is done, the next one is not.
  const [cursorOrder, cursorLine] = JSON.parse(parsed.cursor) as string[]
  const [split] = await db.query<{ below: number; above: number }>(
    `SELECT count(*) FILTER (WHERE (order_id, line_no) <= ($1::int, $2::int) AND n = 0)::int AS below,
            count(*) FILTER (WHERE (order_id, line_no) > ($1::int, $2::int) AND n = 1)::int AS above FROM after_batches`,
    [cursorOrder, cursorLine],
  )
  expect(split).toEqual({ below: 0, above: expect.any(Number) })
  expect(parsed.rowsDone).toBe((await countsByN('after_batches'))['1'])
  const text = await app.cli(['backfill', 'status', 'after_batches'])
  expect(text.stdout).toContain(`cursor      (${cursorOrder}, ${cursorLine})`)
  expect(text.stdout).toContain('public.after_batches by (order_id, line_no)')
  await resumeToDone('after_batches', 'after_batches')
})

test('--concurrency 4, killed -9 three times at random moments: every row of the composite key changed exactly once', async () => {
  await createOrderLines('concurrent')
  app.backfill('concurrent.ts', incrementLines('concurrent', 'concurrent'))
  for (let round = 0; round < 3; round++) {
    const before = await rangesDone(db, 'concurrent')
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
    expect(await rowsInOverlaps('concurrent', 'concurrent')).toBe(0)
  }
  await resumeToDone('concurrent', 'concurrent', ['--concurrency', '4'])
})

test('two runners share a composite-key backfill (--join); killing one leaves the other to finish, each range once', async () => {
  await createOrderLines('two_runners')
  app.backfill('two_runners.ts', incrementLines('two_runners', 'two_runners'))
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
  expect(await countsByN('two_runners')).toEqual({ '1': ROWS })
  expect(await rowsInOverlaps('two_runners', 'two_runners')).toBe(0)
  const byRunner = await db.query<{ done_by: string }>(
    `SELECT DISTINCT done_by FROM migrate_kit.backfill_ranges WHERE backfill = 'two_runners'`,
  )
  expect(byRunner.map((row) => row.done_by)).toContain(`${os.hostname()}:${secondPid}`)
})

describe('an integer + text key', () => {
  // Slugs order as text ('p10' < 'p9'): ranges must follow the index, not numbers or the JSON text of the ledger.
  const PAGES = 3000

  beforeAll(async () => {
    await db.query(
      `CREATE TABLE pages (tenant integer NOT NULL, slug text NOT NULL, views integer NOT NULL, score integer, PRIMARY KEY (tenant, slug))`,
    )
    await db.query(
      `INSERT INTO pages (tenant, slug, views) SELECT g % 7, 'p' || g, g FROM generate_series(1, $1::int) g ORDER BY random()`,
      [PAGES],
    )
    app.backfill(
      'page_scores.ts',
      `import { defineBackfill, sql } from 'prisma-migrate-kit'

export default defineBackfill({
  name: 'page_scores',
  table: 'pages',
  key: ['tenant', 'slug'],
  update: sql\`score = views * 2\`,
  where: sql\`score IS NULL\`,
  verify: sql\`SELECT tenant, slug FROM pages WHERE score IS DISTINCT FROM views * 2\`,
  snapshot: ['score'],
  invalidate: ['${cache.prefix}:page:{tenant}:{slug}'],
})
`,
    )
  })

  test('dry run names the key and shows the row comparison each batch runs; nothing is touched', async () => {
    const dry = await app.cli(['backfill', 'run', 'page_scores', '--dry-run'])
    expect(dry.code).toBe(0)
    expect(dry.stdout).toContain('on public.pages by (tenant, slug)')
    expect(dry.stdout).toContain('("tenant", "slug") <= ROW($')
    expect(dry.stdout).toContain("(tenant, slug) (0, 'p1001'): score: null → 2002")
    expect(await db.query(`SELECT count(*)::int AS scored FROM pages WHERE score IS NOT NULL`)).toEqual([{ scored: 0 }])
  })

  test('runs with snapshot, cache invalidation by {tenant}:{slug} and catch-up of rows inserted while it runs; the batch size adapts', async () => {
    await cache.redis.mset(
      `${cache.prefix}:page:3:p10`,
      'cached',
      `${cache.prefix}:page:4:p3000`,
      'cached',
      `${cache.prefix}:other`,
      'kept',
    )
    const running = app.start(['backfill', 'run', 'page_scores', '--batch-size', '50', '--max-rows-per-second', '3000', '--json'], {
      REDIS_URL: TEST_REDIS_URL,
    })
    await waitFor('some batches done', async () => (await rangesDone(db, 'page_scores')) >= 3)
    // Beyond every key so far (tenant 7 > 6): the catch-up pass must reach them.
    await db.query(`INSERT INTO pages (tenant, slug, views) SELECT 7, 'late' || g, g FROM generate_series(1, 40) g`)
    const result = await running.done
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) })
    const json = JSON.parse(result.stdout) as { status: string; rowsDone: number; batchSize: number; verify: { failures: number } }
    expect(json).toMatchObject({ status: 'done', rowsDone: PAGES + 40, verify: { failures: 0 } })
    expect(json.batchSize).toBeGreaterThan(50)
    expect(await db.query(`SELECT count(*)::int AS wrong FROM pages WHERE score IS DISTINCT FROM views * 2`)).toEqual([{ wrong: 0 }])
    expect(await cache.keys()).toEqual([`${cache.prefix}:other`])
    const [snapshots] = await db.query<{ rows: number; keys: string[] }>(
      `SELECT count(*)::int AS rows, array_agg(key ORDER BY key) FILTER (WHERE key LIKE '%"p10"%' OR key LIKE '%late1"%') AS keys
         FROM migrate_kit.backfill_snapshots WHERE backfill = 'page_scores'`,
    )
    expect(snapshots).toEqual({ rows: PAGES + 40, keys: ['["3", "p10"]', '["7", "late1"]'] })
  })

  test('report and restore find each row by its composite key', async () => {
    const file = app.project.path('pages-report.json')
    const report = await app.cli(['backfill', 'report', 'page_scores', '--out', file])
    expect(report.code).toBe(0)
    const written = JSON.parse(readFileSync(file, 'utf8')) as {
      key: string
      rows: Array<{ key: string[]; changes: Record<string, unknown> }>
      summary: { rows: number; changed: number }
    }
    expect(written.key).toBe('(tenant, slug)')
    expect(written.summary).toMatchObject({ rows: PAGES + 40, changed: PAGES + 40 })
    expect(written.rows[0].key).toEqual(['0', 'p1001'])
    expect(written.rows.find((row) => row.key[0] === '3' && row.key[1] === 'p10')).toMatchObject({
      changes: { score: { before: null, after: 20 } },
    })

    const restored = await app.cli(['backfill', 'restore', 'page_scores', '--batch-size', '700'])
    expect(restored.code).toBe(0)
    expect(restored.stdout).toContain(`Restored ${(PAGES + 40).toLocaleString('en-US')} rows of public.pages from the snapshot.`)
    expect(await db.query(`SELECT count(*)::int AS scored FROM pages WHERE score IS NOT NULL`)).toEqual([{ scored: 0 }])
  })
})

describe('a uuid + timestamp key, process()', () => {
  beforeAll(async () => {
    await db.query(
      `CREATE TABLE readings (device uuid, taken_at timestamptz, fahrenheit numeric NOT NULL, celsius numeric, PRIMARY KEY (device, taken_at))`,
    )
    await db.query(
      `INSERT INTO readings (device, taken_at, fahrenheit)
       SELECT ('00000000-0000-4000-8000-' || lpad(d::text, 12, '0'))::uuid, timestamptz '2026-01-01 00:00:00+00' + make_interval(mins => m),
              32 + m
         FROM generate_series(1, 20) d, generate_series(1, 60) m ORDER BY random()`,
    )
    await db.query(`CREATE TABLE seen_ranges (after text, up_to text)`)
    app.backfill(
      'celsius.ts',
      `import { defineBackfill, sql } from 'prisma-migrate-kit'

export default defineBackfill({
  name: 'celsius',
  table: 'readings',
  key: ['device', 'taken_at'],
  snapshot: ['celsius'],
  async process(rows, tx) {
    await tx.query(sql\`INSERT INTO seen_ranges VALUES (\${tx.range.after}, \${tx.range.upTo})\`)
    for (const row of rows) {
      const celsius = ((Number(row.fahrenheit) - 32) * 5) / 9
      await tx.query(sql\`UPDATE readings SET celsius = \${celsius.toFixed(4)} WHERE device = \${String(row.device)} AND taken_at = \${row.taken_at as Date}\`)
    }
  },
})
`,
    )
  })

  test('each row is handed over once with its old value kept; tx.range is the key as a JSON array of each column’s text', async () => {
    const result = await app.cli(['backfill', 'run', 'celsius', '--batch-size', '100', '--json'])
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) })
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'done', rowsDone: 1200, rowsChanged: 1200 })
    const [rows] = await db.query<{ done: number; snapshots: number }>(
      `SELECT (SELECT count(*)::int FROM readings WHERE celsius IS NOT NULL) AS done,
              (SELECT count(*)::int FROM migrate_kit.backfill_snapshots WHERE backfill = 'celsius') AS snapshots`,
    )
    expect(rows).toEqual({ done: 1200, snapshots: 1200 })
    const seen = await db.query<{ after: string | null; up_to: string }>(`SELECT after, up_to FROM seen_ranges ORDER BY up_to`)
    expect(seen.length).toBeGreaterThanOrEqual(5)
    // The first batch: device 1's 60 readings and device 2's first 40.
    expect(seen[0].after).toBeNull()
    const [device, takenAt] = JSON.parse(seen[0].up_to) as string[]
    expect(device).toBe('00000000-0000-4000-8000-000000000002')
    const [minute] = await db.query<{ m: number }>(`SELECT extract(epoch FROM $1::timestamptz - '2026-01-01 00:00:00+00')::int / 60 AS m`, [
      takenAt,
    ])
    expect(minute.m).toBe(40)
    expect(seen[1].after).toBe(seen[0].up_to)
    const restored = await app.cli(['backfill', 'restore', 'celsius'])
    expect(restored.code).toBe(0)
    expect(await db.query(`SELECT count(*)::int AS left FROM readings WHERE celsius IS NOT NULL`)).toEqual([{ left: 0 }])
  })
})

test('a row that fails on a composite key is narrowed down to it and named by its key', async () => {
  await createOrderLines('failing')
  app.backfill(
    'failing.ts',
    `import { defineBackfill, sql } from 'prisma-migrate-kit'

export default defineBackfill({
  name: 'failing',
  table: 'failing',
  update: sql\`n = CASE WHEN order_id = 37 AND line_no = 4 THEN 1 / (n - n) ELSE n + 1 END\`,
})
`,
  )
  const result = await app.cli(['backfill', 'run', 'failing', '--batch-size', '500'])
  expect(result.code).toBe(1)
  expect(result.stderr).toMatch(/failed at keys \(\(37, 3\), \(37, 4\)\]: division by zero/)
  const status = await app.cli(['backfill', 'status', 'failing'])
  expect(status.stdout).toContain('failed keys ((37, 3), (37, 4)]')
  expect(await db.query(`SELECT n FROM failing WHERE order_id = 37 AND line_no = 4`)).toEqual([{ n: 0 }])
})

describe('keys that cannot be walked are refused before any row is touched (exit 2)', () => {
  beforeAll(async () => {
    await db.query(`CREATE TABLE memberships (team_id integer NOT NULL, user_id integer, role text, UNIQUE (team_id, user_id))`)
    await db.query(`CREATE TABLE tags (post_id integer, tag text, n integer NOT NULL DEFAULT 0, PRIMARY KEY (post_id, tag))`)
  })

  async function refused(file: string, source: string, reason: RegExp): Promise<void> {
    app.backfill(file, `import { defineBackfill, sql } from 'prisma-migrate-kit'\n\nexport default defineBackfill(${source})\n`)
    const name = file.replace(/\.ts$/, '')
    const result = await app.cli(['backfill', 'run', name])
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' })
    expect(result.stderr).toMatch(reason)
    expect(result.stderr).toMatch(/nothing was changed/)
  }

  test('a column of a unique key that allows NULL, with the reason', async () => {
    await refused(
      'nullable_pair.ts',
      `{ name: 'nullable_pair', table: 'memberships', key: ['team_id', 'user_id'], update: sql\`role = 'member'\` }`,
      /key: \(team_id, user_id\) cannot be the key: "user_id" allows NULL, and a unique index takes any number of rows with a NULL/,
    )
  })

  test('columns that are not a unique key, naming the keys there are', async () => {
    await refused(
      'not_unique_pair.ts',
      `{ name: 'not_unique_pair', table: 'tags', key: ['post_id', 'n'], update: sql\`n = n + 1\` }`,
      /key: \(post_id, n\) cannot be the key: it is not the column list of a primary key or unique index of public\.tags.*\(candidates: \['post_id', 'tag'\]\)/,
    )
    await refused(
      'prefix_only.ts',
      `{ name: 'prefix_only', table: 'tags', key: 'post_id', update: sql\`n = n + 1\` }`,
      /key: "post_id" cannot be the key: it is not the column list of a primary key or unique index/,
    )
  })

  test('a unique key in another order than its index, saying the order to write', async () => {
    await refused(
      'reversed.ts',
      `{ name: 'reversed', table: 'tags', key: ['tag', 'post_id'], update: sql\`n = n + 1\` }`,
      /key: \(tag, post_id\) is unique, but only in the order of index tags_pkey: write key: \['post_id', 'tag'\]/,
    )
  })

  test('an update writing one of the key columns', async () => {
    await refused(
      'moves_tag.ts',
      `{ name: 'moves_tag', table: 'tags', update: sql\`tag = lower(tag)\` }`,
      /update: the update writes the key column "tag"/,
    )
  })

  test('a key of the wrong shape, from plain JavaScript', () => {
    expect(() => defineBackfill({ name: 'x', table: 't', key: [] as string[], update: sql`a = 1` })).toThrow(
      /key must be a column name, or a list of them/,
    )
  })
})
