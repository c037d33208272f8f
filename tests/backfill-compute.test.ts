import { readFileSync } from 'node:fs'
import { backfillProject, countsByN, createCounters, kill9, rangesDone, waitFor, type BackfillProject } from './helpers/backfill'
import { createTestDatabase, type TestDatabase } from './helpers/database'

/**
 * compute(row) backfills: values computed in JavaScript, a batch written in one UPDATE … FROM unnest(…). Exactly-once,
 * snapshot, restore and report as for set-based backfills; values PostgreSQL refuses name their row and column.
 */
let db: TestDatabase
let app: BackfillProject

beforeAll(async () => {
  db = await createTestDatabase('backfill_compute')
  app = backfillProject(db)
})
afterAll(async () => {
  app.remove()
  await db.drop()
})

const ARTICLES = 3000

/** Counts the UPDATE statements (not rows) run on a table, by a statement-level trigger. */
async function countUpdateStatements(table: string): Promise<void> {
  await db.query(`CREATE TABLE IF NOT EXISTS statement_count (tbl text PRIMARY KEY, n integer NOT NULL)`)
  await db.query(`INSERT INTO statement_count VALUES ($1, 0)`, [table])
  await db.query(`CREATE FUNCTION count_${table}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN UPDATE statement_count SET n = n + 1 WHERE tbl = TG_TABLE_NAME; RETURN NULL; END $$`)
  await db.query(`CREATE TRIGGER count_${table} AFTER UPDATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION count_${table}()`)
}

describe('an articles table', () => {
  beforeAll(async () => {
    await db.query(
      `CREATE TABLE articles (id integer PRIMARY KEY, title text NOT NULL, slug varchar(80), words integer, meta jsonb, flagged boolean NOT NULL DEFAULT false)`,
    )
    await db.query(
      `INSERT INTO articles (id, title) SELECT g, 'Hello  World ' || g || CASE WHEN g % 3 = 0 THEN ' Über Café' ELSE '' END FROM generate_series(1, $1::int) g`,
      [ARTICLES],
    )
    await countUpdateStatements('articles')
    app.backfill(
      'article_slugs.ts',
      `import { defineBackfill, sql } from 'prisma-migrate-kit'

const slugify = (title: string) =>
  title.normalize('NFKD').replace(/[\\u0300-\\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')

export default defineBackfill({
  name: 'article_slugs',
  table: 'articles',
  where: sql\`slug IS NULL\`,
  snapshot: ['slug', 'words'],
  async compute(row) {
    const id = Number(row.id)
    if (id % 10 === 0) return undefined                     // left as it is
    const title = String(row.title)
    if (id % 7 === 0) return { slug: slugify(title) }      // some columns only: the others keep their values
    if (id % 2 === 0) await new Promise((resolve) => setImmediate(resolve))
    return { slug: slugify(title), words: title.split(/\\s+/).length, meta: { source: 'compute', id } }
  },
})
`,
    )
  })

  test('list and dry run name the kind; the dry run touches nothing', async () => {
    const list = await app.cli(['backfill', 'list', '--json'])
    expect((JSON.parse(list.stdout) as { backfills: Array<{ name: string; kind: string }> }).backfills).toContainEqual(
      expect.objectContaining({ name: 'article_slugs', kind: 'compute' }),
    )
    const dry = await app.cli(['backfill', 'run', 'article_slugs', '--dry-run'])
    expect(dry.code).toBe(0)
    expect(dry.stdout).toContain('compute() on public.articles by id.')
    // compute() runs on the sample, so the dry run shows what it would write.
    expect(dry.stdout).toContain('Sample (5 rows, before → after):')
    expect(dry.stdout).toContain('id 1: slug: null → "hello-world-1", words: null → 3, meta: null → {"source":"compute","id":1}')
    expect(await db.query(`SELECT count(*)::int AS slugs FROM articles WHERE slug IS NOT NULL`)).toEqual([{ slugs: 0 }])
  })

  test('each batch is one UPDATE statement, whatever the rows; rows computed as undefined stay as they are', async () => {
    const result = await app.cli(['backfill', 'run', 'article_slugs', '--batch-size', '400', '--json'])
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) })
    const json = JSON.parse(result.stdout) as { status: string; rowsDone: number; rowsChanged: number; batchesThisRun: number }
    const untouched = ARTICLES / 10
    expect(json).toMatchObject({ status: 'done', rowsDone: ARTICLES, rowsChanged: ARTICLES - untouched })
    const [statements] = await db.query<{ n: number }>(`SELECT n FROM statement_count WHERE tbl = 'articles'`)
    expect(statements.n).toBe(json.batchesThisRun)
    expect(await db.query(`SELECT id, slug, words, meta FROM articles WHERE id IN (3, 4, 10, 14) ORDER BY id`)).toEqual([
      { id: 3, slug: 'hello-world-3-uber-cafe', words: 5, meta: { source: 'compute', id: 3 } },
      { id: 4, slug: 'hello-world-4', words: 3, meta: { source: 'compute', id: 4 } },
      { id: 10, slug: null, words: null, meta: null },
      { id: 14, slug: 'hello-world-14', words: null, meta: null },
    ])
    const [wrong] = await db.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM articles WHERE (id % 10 <> 0) <> (slug IS NOT NULL) OR (id % 10 <> 0 AND id % 7 <> 0) <> (words IS NOT NULL)`,
    )
    expect(wrong.count).toBe(0)
  })

  test('report and restore work from the snapshot the batch took', async () => {
    const file = app.project.path('slugs.json')
    const report = await app.cli(['backfill', 'report', 'article_slugs', '--out', file])
    expect(report.code).toBe(0)
    const written = JSON.parse(readFileSync(file, 'utf8')) as { summary: { rows: number; changed: number } }
    expect(written.summary).toMatchObject({ rows: ARTICLES, changed: ARTICLES - ARTICLES / 10 })
    const restored = await app.cli(['backfill', 'restore', 'article_slugs'])
    expect(restored.code).toBe(0)
    expect(await db.query(`SELECT count(*)::int AS slugs FROM articles WHERE slug IS NOT NULL OR words IS NOT NULL`)).toEqual([
      { slugs: 0 },
    ])
  })
})

test('a compute() that is not idempotent (n + 1), killed -9 mid-run with --concurrency 2: every row changed exactly once', async () => {
  const ROWS = 10_000
  await createCounters(db, ROWS, 'computed_counters')
  app.backfill(
    'computed_counters.ts',
    `import { defineBackfill } from 'prisma-migrate-kit'

export default defineBackfill({ name: 'computed_counters', table: 'computed_counters', compute: (row) => ({ n: Number(row.n) + 1 }) })
`,
  )
  for (let round = 0; round < 2; round++) {
    const before = await rangesDone(db, 'computed_counters')
    const running = app.start([
      'backfill',
      'run',
      'computed_counters',
      '--concurrency',
      '2',
      '--batch-size',
      '100',
      '--max-rows-per-second',
      '4000',
    ])
    await waitFor('more batches', async () => (await rangesDone(db, 'computed_counters')) >= before + 4)
    await kill9(running)
    const counts = await countsByN(db, 'computed_counters')
    expect(counts['2']).toBeUndefined()
    const [ledger] = await db.query<{ rows: number }>(
      `SELECT coalesce(sum(rows), 0)::int AS rows FROM migrate_kit.backfill_ranges WHERE backfill = 'computed_counters' AND status = 'done'`,
    )
    expect(counts['1']).toBe(ledger.rows)
  }
  const resumed = await app.cli(['backfill', 'run', 'computed_counters', '--concurrency', '2'])
  expect(resumed.code).toBe(0)
  expect(await countsByN(db, 'computed_counters')).toEqual({ '1': ROWS })
})

test('keys JavaScript cannot hold (a timestamp’s microseconds, a bigint past 2^53) still find their rows: none is missed', async () => {
  await db.query(`CREATE TABLE events (stream bigint, at timestamptz, payload text NOT NULL, size integer, PRIMARY KEY (stream, at))`)
  await db.query(
    `INSERT INTO events SELECT 9007199254740993 + (g % 3), timestamptz '2026-01-01 00:00:00.000001+00' + make_interval(secs => g * 0.000001), repeat('x', g % 50)
       FROM generate_series(1, 2000) g`,
  )
  app.backfill(
    'event_sizes.ts',
    `import { defineBackfill } from 'prisma-migrate-kit'

export default defineBackfill({ name: 'event_sizes', table: 'events', compute: (row) => ({ size: String(row.payload).length }) })
`,
  )
  const result = await app.cli(['backfill', 'run', 'event_sizes', '--json'])
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) })
  expect(await db.query(`SELECT count(*)::int AS wrong FROM events WHERE size IS DISTINCT FROM length(payload)`)).toEqual([{ wrong: 0 }])
})

describe('values PostgreSQL refuses', () => {
  beforeAll(async () => {
    await db.query(`CREATE TABLE people (id integer PRIMARY KEY, name text NOT NULL, age integer, handle varchar(8))`)
    await db.query(`INSERT INTO people SELECT g, 'person ' || g FROM generate_series(1, 500) g`)
  })

  test('a value of the wrong type names the row’s key and the column; the rows before it are written', async () => {
    app.backfill(
      'people_ages.ts',
      `import { defineBackfill } from 'prisma-migrate-kit'

export default defineBackfill({
  name: 'people_ages',
  table: 'people',
  compute: (row) => ({ age: row.id === 137 ? 'forty' : Number(row.id) % 90 }),
})
`,
    )
    const result = await app.cli(['backfill', 'run', 'people_ages', '--batch-size', '100'])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      /failed at keys \(136, 137\]: compute\(\) gave column "age" of row 137 a value PostgreSQL refuses: invalid input syntax for type integer: "forty"/,
    )
    expect(await db.query(`SELECT count(*)::int AS written FROM people WHERE age IS NOT NULL AND id < 137`)).toEqual([{ written: 136 }])
  })

  test('a text too long for its varchar(8) is refused, not cut to fit', async () => {
    app.backfill(
      'people_handles.ts',
      `import { defineBackfill } from 'prisma-migrate-kit'

export default defineBackfill({
  name: 'people_handles',
  table: 'people',
  compute: (row) => ({ handle: row.id === 42 ? 'much-too-long' : 'p' + String(row.id) }),
})
`,
    )
    const result = await app.cli(['backfill', 'run', 'people_handles', '--batch-size', '100'])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      /compute\(\) gave column "handle" of row 42 a value PostgreSQL refuses: value too long for type character varying\(8\)/,
    )
    expect(await db.query(`SELECT handle FROM people WHERE id = 42`)).toEqual([{ handle: null }])
  })

  test('a column that does not exist, or the key, stops the run at once: that is the code, not a row', async () => {
    app.backfill(
      'people_nope.ts',
      `import { defineBackfill } from 'prisma-migrate-kit'

export default defineBackfill({ name: 'people_nope', table: 'people', compute: () => ({ nickname: 'x' }) })
`,
    )
    const nope = await app.cli(['backfill', 'run', 'people_nope', '--batch-size', '100'])
    expect(nope.code).toBe(1)
    expect(nope.stderr).toMatch(
      /failed at keys up to 100: ComputeResultError: compute\(\) returned column "nickname", which is not a column of public\.people/,
    )
    expect(nope.stderr).not.toContain('split in two')

    app.backfill(
      'people_rekey.ts',
      `import { defineBackfill } from 'prisma-migrate-kit'

export default defineBackfill({ name: 'people_rekey', table: 'people', compute: (row) => ({ id: Number(row.id) + 1000 }) })
`,
    )
    const rekey = await app.cli(['backfill', 'run', 'people_rekey'])
    expect(rekey.code).toBe(1)
    expect(rekey.stderr).toContain('compute() returned the key column "id": key ranges would move under the backfill')
    expect(await db.query(`SELECT max(id)::int AS max FROM people`)).toEqual([{ max: 500 }])
  })

  test('update, compute and process: exactly one of them', async () => {
    app.backfill(
      'two_ways.ts',
      `import { defineBackfill, sql } from 'prisma-migrate-kit'

// @ts-expect-error both compute and update: a type error, and refused at run time for plain JavaScript
export default defineBackfill({ name: 'two_ways', table: 'people', update: sql\`age = 1\`, compute: () => ({ age: 2 }) })
`,
    )
    const result = await app.cli(['backfill', 'run', 'two_ways'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('give exactly one of update (sql`…`), compute(row) or process(rows, tx)')
  })
})
