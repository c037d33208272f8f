import type { ClientBase } from 'pg'

/**
 * Puts users back to "display_name never filled" between the runs. The reset is itself an UPDATE of every row,
 * which leaves the table twice its size, full of dead rows; and the server may not vacuum it on its own (autovacuum
 * can be off, or late). So before each run the table is settled into the same physical state:
 *
 * - VACUUM FULL rewrites it compactly (in the order of its live rows, which stays key order: every full-table write
 *   here walks the keys in order) and rebuilds its indexes, so no run inherits another's bloat or free space;
 * - VACUUM (FREEZE, ANALYZE) sets hint bits, the visibility map and fresh statistics, so no run pays for the
 *   previous one's hint-bit writes or gets another plan;
 * - CHECKPOINT writes every dirty page out, so each run starts with a clean buffer cache and the same full-page-write
 *   cost, rather than paying for the previous run's dirty pages.
 *
 * The table was just rewritten, so it starts warm in the OS cache for every run alike.
 */
export async function settleTable(client: ClientBase, table = 'users'): Promise<void> {
  // Only the rebuild of the indexes uses it (sorting ten million usernames in 64 MB spills to disk); reset before
  // anything is measured on this session.
  await client.query(`SET maintenance_work_mem = '1GB'`)
  try {
    await client.query(`VACUUM FULL ${table}`)
    await client.query(`VACUUM (FREEZE, ANALYZE) ${table}`)
  } finally {
    await client.query('RESET maintenance_work_mem')
  }
  await client.query('CHECKPOINT')
}

/** display_name back to NULL where a run filled it. */
export async function resetDisplayName(client: ClientBase): Promise<number> {
  const result = await client.query('UPDATE users SET display_name = NULL WHERE display_name IS NOT NULL')
  return result.rowCount ?? 0
}

/** After (b): every row has display_name = username, or the run did not do its job. */
export async function countNotBackfilled(client: ClientBase): Promise<number> {
  const { rows } = await client.query<{ missing: number }>(
    'SELECT count(*)::int AS missing FROM users WHERE display_name IS DISTINCT FROM username',
  )
  return rows[0]?.missing ?? -1
}
