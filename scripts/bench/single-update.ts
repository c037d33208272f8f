import { performance } from 'node:perf_hooks'
import type { ClientBase } from 'pg'

/**
 * (a): the speed limit. One plain statement, as anyone would write it, in its own transaction: the fastest way to
 * fill the column, and one that holds a lock on every row until it commits.
 */
export async function singleUpdate(client: ClientBase): Promise<{ rows: number; ms: number }> {
  const started = performance.now()
  const result = await client.query('UPDATE users SET display_name = username')
  return { rows: result.rowCount ?? 0, ms: performance.now() - started }
}
