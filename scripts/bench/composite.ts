import { performance } from 'node:perf_hooks'
import type { ClientBase } from 'pg'

/**
 * The composite-key part of the benchmark: a join table keyed by two columns, as Prisma's `@@id([userId, puzzleId])`
 * makes it, often an application's largest table. Measured like users: one plain UPDATE of every row, then the
 * runner with the same options, each from the same settled table.
 */
export const COMPOSITE_TABLE = 'user_puzzle_scores'
export const COMPOSITE_BACKFILL = 'bench_user_puzzle_best'
const PUZZLES_PER_USER = 10

/** No key: the runner finds the composite primary key itself, as for a user who leaves `key` out. */
export const COMPOSITE_BACKFILL_SOURCE = `import { defineBackfill, sql } from 'prisma-migrate-kit'

export default defineBackfill({
  name: '${COMPOSITE_BACKFILL}',
  table: '${COMPOSITE_TABLE}',
  update: sql\`best = score\`,
  where: sql\`best IS NULL\`,
  verify: sql\`SELECT user_id, puzzle_id FROM ${COMPOSITE_TABLE} WHERE best IS NULL\`,
})
`

/** `rows` scores: ten puzzles per user, keys inserted in key order (as an app appends them), best not yet filled. */
export async function createCompositeTable(client: ClientBase, rows: number): Promise<void> {
  await client.query(
    `CREATE TABLE ${COMPOSITE_TABLE} (user_id integer NOT NULL, puzzle_id integer NOT NULL, score integer NOT NULL, best integer,
       PRIMARY KEY (user_id, puzzle_id))`,
  )
  await client.query(
    `INSERT INTO ${COMPOSITE_TABLE} (user_id, puzzle_id, score)
     SELECT g / ${PUZZLES_PER_USER} + 1, g % ${PUZZLES_PER_USER} + 1, ((g::bigint * 7919) % 1000)::int FROM generate_series(0, $1::int - 1) g`,
    [rows],
  )
}

/** The speed limit on this table: one plain statement that locks every row. */
export async function singleCompositeUpdate(client: ClientBase): Promise<{ rows: number; ms: number }> {
  const started = performance.now()
  const result = await client.query(`UPDATE ${COMPOSITE_TABLE} SET best = score`)
  return { rows: result.rowCount ?? 0, ms: performance.now() - started }
}

export async function resetComposite(client: ClientBase): Promise<void> {
  await client.query(`UPDATE ${COMPOSITE_TABLE} SET best = NULL WHERE best IS NOT NULL`)
}

/** After the run: rows whose best is not their score. */
export async function countCompositeNotBackfilled(client: ClientBase): Promise<number> {
  const { rows } = await client.query<{ missing: number }>(
    `SELECT count(*)::int AS missing FROM ${COMPOSITE_TABLE} WHERE best IS DISTINCT FROM score`,
  )
  return rows[0]?.missing ?? -1
}
