import { defineBackfill, sql } from '../packages/prisma-migrate-kit/src/backfill/definition'
import type { LoadedBackfill } from '../packages/prisma-migrate-kit/src/backfill/loader'
import { backfillColumns } from '../packages/prisma-migrate-kit/src/deploy/backfill-columns'
import { dependenciesOf, type GateBackfill } from '../packages/prisma-migrate-kit/src/deploy/dependencies'
import type { HistoryEntry } from '../packages/prisma-migrate-kit/src/deploy/history'
import { analyzeMigrations } from '../packages/prisma-migrate-kit/src/lint'

// Which backfills a migration waits for, without a database: the columns a backfill writes and reads, matched against
// what each migration drops or tightens.

const totalPuzzles = defineBackfill({
  name: 'users_total_puzzles',
  after: 'expand_total',
  table: 'users',
  update: sql`total = (SELECT count(*) FROM puzzle_completions c WHERE c.user_id = users.id)`,
  snapshot: ['total'],
})
const displayName = defineBackfill({
  name: 'users_display_name',
  after: 'expand_display_name',
  table: 'users',
  update: sql`display_name = username`,
  where: sql`display_name IS NULL`,
})

async function gateBackfill(definition: typeof totalPuzzles): Promise<GateBackfill> {
  const loaded: LoadedBackfill = {
    name: definition.name,
    definition,
    file: `/x/backfills/${definition.name}.ts`,
    relativeFile: `backfills/${definition.name}.ts`,
    checksum: '',
    ...(definition.after ? { after: definition.after } : {}),
    ...(definition.before ? { before: definition.before } : {}),
  }
  return { loaded, columns: await backfillColumns(definition) }
}

/** A history of migration files, all pending. */
async function history(files: Array<[string, string]>): Promise<HistoryEntry[]> {
  const analyses = await analyzeMigrations(files.map(([name, text]) => ({ name, file: `${name}.sql`, sql: text })))
  return analyses.map((analysis, index) => ({
    migration: { name: files[index][0], dir: '', sqlFile: '', checksum: '' },
    index,
    state: 'pending',
    edited: false,
    analysis,
  }))
}

const BASE: Array<[string, string]> = [
  [
    '1_init',
    'CREATE TABLE users (id int PRIMARY KEY, username text NOT NULL);\nCREATE TABLE puzzle_completions (id int PRIMARY KEY, user_id int);',
  ],
  ['2_expand_display_name', 'ALTER TABLE users ADD COLUMN display_name text;'],
  ['3_expand_total', 'ALTER TABLE users ADD COLUMN total int NOT NULL DEFAULT 0;'],
]

test('a backfill writes its SET list and snapshot columns, and reads the columns of its update and where, subqueries by alias', async () => {
  expect(await backfillColumns(totalPuzzles)).toEqual({
    table: 'users',
    writes: ['total'],
    reads: expect.arrayContaining([
      { table: 'puzzle_completions', column: 'user_id' },
      { table: 'users', column: 'id' },
    ]),
  })
  const columns = await backfillColumns(displayName)
  expect(columns.writes).toEqual(['display_name'])
  expect(columns.reads).toEqual(
    expect.arrayContaining([
      { table: 'users', column: 'username' },
      { table: 'users', column: 'display_name' },
    ]),
  )
})

test('a migration waits for the backfills over the columns it drops or tightens, and only those', async () => {
  const backfills = [await gateBackfill(totalPuzzles), await gateBackfill(displayName)]
  const entries = await history([
    ...BASE,
    ['4_contract', `ALTER TABLE users ALTER COLUMN display_name SET NOT NULL;\nALTER TABLE puzzle_completions DROP COLUMN user_id;`],
    [
      '5_unrelated',
      `ALTER TABLE users ADD COLUMN bio text;\nALTER TABLE users ADD CONSTRAINT bio_short CHECK (length(bio) < 100) NOT VALID;`,
    ],
    ['6_widen', `ALTER TABLE users ALTER COLUMN username TYPE text;`],
  ])
  const waits = (name: string) =>
    dependenciesOf(
      entries.find((entry) => entry.migration.name === name)!,
      entries,
      backfills,
    )

  expect(waits('4_contract')).toEqual([
    {
      backfill: 'users_total_puzzles',
      reasons: [
        expect.objectContaining({ kind: 'columns', effect: 'drop_column', table: 'puzzle_completions', columns: ['user_id'], line: 2 }),
      ],
    },
    {
      backfill: 'users_display_name',
      reasons: [expect.objectContaining({ kind: 'columns', effect: 'set_not_null', columns: ['display_name'], line: 1 })],
    },
  ])
  // A CHECK on a column the migration adds, a type change that rewrites nothing: nothing to wait for.
  expect(waits('5_unrelated')).toEqual([])
  expect(waits('6_widen')).toEqual([])
  // The expand migration a backfill runs after cannot wait for it.
  expect(waits('2_expand_display_name')).toEqual([])
})

test('before: names the migration (in full or without its timestamp) even when no column matches', async () => {
  const named = defineBackfill({ ...displayName, name: 'named', before: 'cleanup' })
  const entries = await history([...BASE, ['4_cleanup', 'DROP TABLE IF EXISTS old_stuff;']])
  expect(dependenciesOf(entries[3], entries, [await gateBackfill(named)])).toEqual([{ backfill: 'named', reasons: [{ kind: 'before' }] }])
})
