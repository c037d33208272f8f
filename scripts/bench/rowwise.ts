import type { ClientBase } from 'pg'

/**
 * (e): the same change as (b), its value computed in JavaScript (`compute(row)`: "brave_fox_12" → "Brave Fox 12"), which
 * the runner writes for a whole batch in one UPDATE … FROM unnest(…). What most real backfills look like: their value
 * needs code, not an SQL expression.
 */
export const ROWWISE_BACKFILL = 'bench_users_display_name_rowwise'

/** The backfill file, held until `after` is applied (the bench project's expand migration). */
export const rowwiseBackfillSource = (after: string): string => `import { defineBackfill, sql } from 'prisma-migrate-kit'

const words = (username: string) =>
  username
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ')

export default defineBackfill({
  name: '${ROWWISE_BACKFILL}',
  after: '${after}',
  table: 'users',
  key: 'id',
  where: sql\`display_name IS NULL\`,
  compute: (row) => ({ display_name: words(String(row.username)) }),
  verify: sql\`SELECT id FROM users WHERE display_name IS NULL\`,
})
`

/** After (e): users whose display_name is not what compute() makes of their username (initcap does the same here). */
export async function countRowwiseWrong(client: ClientBase): Promise<number> {
  const { rows } = await client.query<{ wrong: number }>(
    `SELECT count(*)::int AS wrong FROM users WHERE display_name IS DISTINCT FROM initcap(replace(username, '_', ' '))`,
  )
  return rows[0]?.wrong ?? -1
}
