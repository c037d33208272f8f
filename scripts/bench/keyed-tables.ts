import { performance } from 'node:perf_hooks'
import type { ClientBase } from 'pg'

/**
 * Tables keyed otherwise than users' integer id, each measured like users: one plain UPDATE of every row, then the
 * runner with the same options, each from the same settled table, no writer.
 *
 * - composite: a join table keyed by two columns, as Prisma's `@@id([userId, puzzleId])` makes it, often an
 *   application's largest table; its keys inserted in key order, as an app appends them.
 * - uuid: a table keyed by random uuids (Prisma's `@default(uuid())`): key order is not the heap's order, so the
 *   runner's index walk reads rows all over the table, where the plain UPDATE reads it front to back.
 */
export interface KeyedTable {
  /** How the report names it: `composite`, `uuid`. */
  label: string
  table: string
  backfill: string
  /** Its key, for messages. */
  key: string
  create: (client: ClientBase, rows: number) => Promise<void>
  /** The backfill file: no key, so the runner finds the primary key itself, as for a user who leaves `key` out. */
  source: string
}

const PUZZLES_PER_USER = 10

const backfillSource = (name: string, table: string, keyColumns: string) => `import { defineBackfill, sql } from 'prisma-migrate-kit'

export default defineBackfill({
  name: '${name}',
  table: '${table}',
  update: sql\`best = score\`,
  where: sql\`best IS NULL\`,
  verify: sql\`SELECT ${keyColumns} FROM ${table} WHERE best IS NULL\`,
})
`

export const COMPOSITE: KeyedTable = {
  label: 'composite',
  table: 'user_puzzle_scores',
  backfill: 'bench_user_puzzle_best',
  key: '(user_id, puzzle_id)',
  source: backfillSource('bench_user_puzzle_best', 'user_puzzle_scores', 'user_id, puzzle_id'),
  async create(client, rows) {
    await client.query(
      `CREATE TABLE user_puzzle_scores (user_id integer NOT NULL, puzzle_id integer NOT NULL, score integer NOT NULL, best integer,
         PRIMARY KEY (user_id, puzzle_id))`,
    )
    await client.query(
      `INSERT INTO user_puzzle_scores (user_id, puzzle_id, score)
       SELECT g / ${PUZZLES_PER_USER} + 1, g % ${PUZZLES_PER_USER} + 1, ((g::bigint * 7919) % 1000)::int FROM generate_series(0, $1::int - 1) g`,
      [rows],
    )
  },
}

export const UUID: KeyedTable = {
  label: 'uuid',
  table: 'device_scores',
  backfill: 'bench_device_best',
  key: 'id (uuid)',
  source: backfillSource('bench_device_best', 'device_scores', 'id'),
  async create(client, rows) {
    await client.query(`CREATE TABLE device_scores (id uuid PRIMARY KEY, score integer NOT NULL, best integer)`)
    await client.query(
      `INSERT INTO device_scores (id, score) SELECT gen_random_uuid(), ((g::bigint * 7919) % 1000)::int FROM generate_series(0, $1::int - 1) g`,
      [rows],
    )
  },
}

export const KEYED_TABLES = [COMPOSITE, UUID] as const

/** The speed limit on this table: one plain statement that locks every row. */
export async function singleKeyedUpdate(client: ClientBase, keyed: KeyedTable): Promise<{ rows: number; ms: number }> {
  const started = performance.now()
  const result = await client.query(`UPDATE ${keyed.table} SET best = score`)
  return { rows: result.rowCount ?? 0, ms: performance.now() - started }
}

export async function resetKeyed(client: ClientBase, keyed: KeyedTable): Promise<void> {
  await client.query(`UPDATE ${keyed.table} SET best = NULL WHERE best IS NOT NULL`)
}

/** After the run: rows whose best is not their score. */
export async function countKeyedNotBackfilled(client: ClientBase, keyed: KeyedTable): Promise<number> {
  const { rows } = await client.query<{ missing: number }>(
    `SELECT count(*)::int AS missing FROM ${keyed.table} WHERE best IS DISTINCT FROM score`,
  )
  return rows[0]?.missing ?? -1
}
