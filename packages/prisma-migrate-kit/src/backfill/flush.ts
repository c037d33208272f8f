import type { Client } from 'pg'
import { connect, createPool } from '../db/connect'
import { StepFailedError, UsageError } from '../errors'
import { InvalidationFlusher, describeRedis, pendingInvalidations } from './invalidation'
import { T, backfillStateExists } from './state'

/** What `backfill flush` did for one backfill's outbox. */
export interface OutboxFlush {
  name: string
  /** Outbox entries Redis took. */
  delivered: number
  keysRemoved: number
  /** Entries still waiting afterwards. */
  pending: number
  /** Why Redis (or the database) refused, when it did. */
  error: string | null
}

export interface FlushOutboxOptions {
  /** One backfill; all backfills with waiting entries when absent. */
  name?: string
  onNotice?: (message: string) => void
}

/**
 * Delivers the cache invalidations a run or restore left in the outbox (Redis was down or hung) without running the
 * backfill: the operator's way to empty it once Redis is back. Needs no lock: flushers share the outbox through claims,
 * so it is safe beside a run. Throws StepFailedError (exit 1) when entries are still waiting at the end.
 */
export async function flushOutbox(url: string, redisUrl: string | undefined, options: FlushOutboxOptions = {}): Promise<OutboxFlush[]> {
  if (!redisUrl) {
    throw new UsageError('REDIS_URL is not set: there is no Redis to deliver cache invalidations to', {
      hint: 'Set REDIS_URL (in the environment or .env) to the Redis your application caches in, then run this again.',
    })
  }
  const applicationName = `migrate-kit backfill flush${options.name ? ` ${options.name}` : ''}`.slice(0, 63)
  const client = await connect(url, { applicationName })
  const pool = createPool(url, { applicationName, max: 1 })
  try {
    const names = await outboxNames(client, options.name)
    const results: OutboxFlush[] = []
    for (const name of names) {
      const flusher = new InvalidationFlusher(pool, redisUrl, name, () => undefined)
      try {
        const flush = await flusher.flush()
        const pending = await pendingInvalidations(client, name)
        results.push({ name, delivered: flush.flushed, keysRemoved: flusher.totalKeysRemoved, pending, error: flush.error ?? null })
      } finally {
        await flusher.close()
      }
    }
    return results
  } finally {
    await client.end().catch(() => undefined)
    await pool.end().catch(() => undefined)
  }
}

/** The backfills to flush: the one named (refused when the database knows nothing of it), or every one with entries. */
async function outboxNames(client: Client, name: string | undefined): Promise<string[]> {
  if (!(await backfillStateExists(client))) {
    if (name === undefined) return []
    throw unknownBackfill(name)
  }
  if (name === undefined) {
    const { rows } = await client.query<{ backfill: string }>(`SELECT DISTINCT backfill FROM ${T.invalidations} ORDER BY backfill`)
    return rows.map((row) => row.backfill)
  }
  const { rows } = await client.query(
    `SELECT 1 FROM ${T.backfills} WHERE name = $1 UNION ALL SELECT 1 FROM ${T.invalidations} WHERE backfill = $1 LIMIT 1`,
    [name],
  )
  if (rows.length === 0) throw unknownBackfill(name)
  return [name]
}

function unknownBackfill(name: string): UsageError {
  return new UsageError(`the database has no state for backfill "${name}": nothing to flush`, {
    hint: 'See which backfills it knows: migrate-kit backfill status',
  })
}

/** The failure `backfill flush` exits with when entries are still waiting. */
export function undeliveredError(results: OutboxFlush[], redisUrl: string): StepFailedError | undefined {
  const waiting = results.filter((result) => result.pending > 0)
  if (waiting.length === 0) return undefined
  const total = waiting.reduce((sum, result) => sum + result.pending, 0)
  const reasons = [...new Set(waiting.map((result) => result.error ?? 'claimed by another flush still delivering them'))]
  return new StepFailedError(
    `${total} cache invalidation${total === 1 ? '' : 's'} not delivered to Redis at ${describeRedis(redisUrl)} (${reasons.join('; ')}): ${waiting.map((result) => result.name).join(', ')}`,
    { hint: 'They stay in the outbox, nothing is lost: run `migrate-kit backfill flush` again once Redis answers.' },
  )
}
