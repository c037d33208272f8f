import type { ClientBase, Pool } from 'pg'
import Redis from 'ioredis'
import pLimit from 'p-limit'
import { errorMessage } from '../errors'
import type { Invalidation } from './patterns'
import { T } from './state'

/**
 * Cache invalidation as an outbox. A batch writes what it invalidates into migrate_kit.backfill_invalidations inside
 * its own transaction, so the intent commits with the rows (a crash between the commit and Redis loses nothing) and
 * is never visible before the commit. A flusher then takes committed entries (FOR UPDATE SKIP LOCKED, so runners share
 * them), deletes the keys in Redis (UNLINK; globs through SCAN, never KEYS), and deletes the entries. While Redis is
 * down the entries wait and are retried: after later batches, at the end of the run, and by the next run.
 */

/** How long one Redis command may take before the flush gives up and leaves the outbox for later (ms). */
export const REDIS_COMMAND_TIMEOUT_MS = 2_000

export async function enqueueInvalidation(client: ClientBase, backfill: string, invalidation: Invalidation): Promise<void> {
  if (invalidation.keys.length === 0 && invalidation.patterns.length === 0) return
  await client.query(`INSERT INTO ${T.invalidations} (backfill, keys, patterns) VALUES ($1, $2, $3)`, [
    backfill,
    invalidation.keys,
    invalidation.patterns,
  ])
}

export async function pendingInvalidations(client: ClientBase, backfill: string): Promise<number> {
  const { rows } = await client.query<{ count: number }>(`SELECT count(*)::int AS count FROM ${T.invalidations} WHERE backfill = $1`, [
    backfill,
  ])
  return rows[0]?.count ?? 0
}

/** What a run or restore says when it ends with invalidations not delivered, and how to deliver them. */
export function pendingInvalidationsNotice(backfill: string, pending: number, redisError: string | undefined): string {
  const why = redisError === undefined ? 'claimed by another flush still delivering them' : `Redis: ${redisError}`
  return `${pending} cache invalidation${pending === 1 ? '' : 's'} still pending in ${T.invalidations} (${why}): \`migrate-kit backfill flush ${backfill}\` delivers them, as does the next run.`
}

/** host:port of a Redis URL, never its password. */
export function describeRedis(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.hostname || 'localhost'}:${parsed.port || '6379'}`
  } catch {
    return '<unparseable REDIS_URL>'
  }
}

/** How long a flusher's claim on outbox entries lasts: far longer than a delivery of 200 entries takes. */
const CLAIM_SECONDS = 60
const CHUNK = 500
const SCAN_COUNT = 1_000
/** Globs are scanned a few at a time: each SCAN walks the whole keyspace. */
const PARALLEL_SCANS = 4

/** Deletes keys and glob matches; returns how many keys Redis removed. */
async function deleteInRedis(redis: Redis, keys: string[], patterns: string[]): Promise<number> {
  let removed = 0
  for (let index = 0; index < keys.length; index += CHUNK) removed += await redis.unlink(...keys.slice(index, index + CHUNK))
  const limit = pLimit(PARALLEL_SCANS)
  const counts = await Promise.all(
    patterns.map((pattern) =>
      limit(async () => {
        let count = 0
        let cursor = '0'
        do {
          const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT)
          cursor = next
          if (found.length > 0) count += await redis.unlink(...found)
        } while (cursor !== '0')
        return count
      }),
    ),
  )
  return removed + counts.reduce((sum, count) => sum + count, 0)
}

export interface FlushResult {
  /** Outbox entries Redis took in this flush. */
  flushed: number
  keysRemoved: number
  /** Entries still waiting (Redis unreachable). */
  pending: number
  /** Why Redis refused, when it did. */
  error?: string
}

/**
 * Delivers a backfill's outbox to Redis. One per runner; flush() is safe to call from several places at once (calls
 * queue behind each other).
 */
export class InvalidationFlusher {
  private redis: Redis | undefined
  private running: Promise<FlushResult> | undefined
  private downSince: number | undefined
  totalKeysRemoved = 0

  constructor(
    private readonly pool: Pool,
    private readonly redisUrl: string,
    private readonly backfill: string,
    private readonly notice: (message: string) => void,
  ) {}

  /** Starts a flush unless one is running; `retryDown` false skips it while Redis was down less than 2 s ago. */
  flush(options: { retryDown?: boolean } = {}): Promise<FlushResult> {
    if (this.running) return this.running
    if (options.retryDown === false && this.downSince !== undefined && Date.now() - this.downSince < 2_000) {
      return Promise.resolve({ flushed: 0, keysRemoved: 0, pending: -1 })
    }
    // Never rejects: callers fire it after batches without waiting, and a database error there must not crash the run.
    this.running = this.flushAll()
      .catch((error: unknown) => ({ flushed: 0, keysRemoved: 0, pending: -1, error: `database: ${errorMessage(error)}` }))
      .finally(() => {
        this.running = undefined
      })
    return this.running
  }

  private async connectRedis(): Promise<Redis> {
    if (this.redis && this.redis.status === 'ready') return this.redis
    this.redis?.disconnect()
    const redis = new Redis(this.redisUrl, {
      lazyConnect: true,
      // Fail fast and let the outbox hold the work: no offline queue, no hidden retries, we reconnect ourselves.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 1_000,
      // A Redis that accepts connections but never answers (stopped, swapping, a dead peer behind a proxy) must not
      // hold the run, nor the outbox rows this flush has locked: every command gives up after this long.
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
      retryStrategy: () => null,
      enableReadyCheck: false,
    })
    // ioredis reports a refused connection as "Connection is closed."; the 'error' event has the real reason.
    let reason: string | undefined
    redis.on('error', (error: Error) => {
      reason ??= errorMessage(error)
    })
    this.redis = redis
    try {
      await redis.connect()
    } catch (error) {
      throw new Error(reason ?? errorMessage(error), { cause: error })
    }
    return redis
  }

  private async flushAll(): Promise<FlushResult> {
    let flushed = 0
    let keysRemoved = 0
    const client = await this.pool.connect()
    // While checked out, a session killed under it must not crash the process; the listener goes with the checkout,
    // or every flush would add one more to the pooled client (MaxListenersExceededWarning after ten batches).
    const ignore = () => undefined
    client.on('error', ignore)
    try {
      for (;;) {
        const batch = await this.flushSome(client)
        if (batch.error !== undefined) {
          const pending = await pendingInvalidations(client, this.backfill)
          if (this.downSince === undefined) {
            this.downSince = Date.now()
            this.notice(
              `Redis at ${describeRedis(this.redisUrl)} did not take the cache invalidation (${batch.error}): the data is committed; ${pending} invalidation${pending === 1 ? ' is' : 's are'} kept in ${T.invalidations} and retried after later batches, at the end of the run and by the next run.`,
            )
          } else this.downSince = Date.now()
          return { flushed, keysRemoved, pending, error: batch.error }
        }
        if (batch.entries === 0) break
        flushed += batch.entries
        keysRemoved += batch.keysRemoved
      }
      if (this.downSince !== undefined && flushed > 0) {
        this.notice(
          `Redis at ${describeRedis(this.redisUrl)} is back: ${flushed} pending invalidation${flushed === 1 ? '' : 's'} delivered.`,
        )
      }
      if (flushed > 0) this.downSince = undefined
      this.totalKeysRemoved += keysRemoved
      return { flushed, keysRemoved, pending: 0 }
    } finally {
      client.removeListener('error', ignore)
      client.release()
    }
  }

  /**
   * Claims up to 200 entries (one autocommitted statement), delivers them to Redis with no transaction open, then
   * deletes them. No database lock or transaction is held while Redis is being waited for, however long a hung Redis
   * takes; other flushers skip the claimed entries until the claim lapses.
   */
  private async flushSome(client: ClientBase): Promise<{ entries: number; keysRemoved: number; error?: string }> {
    const { rows } = await client.query<{ id: string; keys: string[]; patterns: string[] }>(
      `UPDATE ${T.invalidations} SET claimed_until = now() + make_interval(secs => $2)
        WHERE id IN (SELECT id FROM ${T.invalidations}
                      WHERE backfill = $1 AND (claimed_until IS NULL OR claimed_until < now())
                      ORDER BY id LIMIT 200 FOR UPDATE SKIP LOCKED)
        RETURNING id, keys, patterns`,
      [this.backfill, CLAIM_SECONDS],
    )
    if (rows.length === 0) return { entries: 0, keysRemoved: 0 }
    const ids = rows.map((row) => row.id)
    const keys = [...new Set(rows.flatMap((row) => row.keys))]
    const patterns = [...new Set(rows.flatMap((row) => row.patterns))]
    let keysRemoved: number
    try {
      const redis = await this.connectRedis()
      keysRemoved = await deleteInRedis(redis, keys, patterns)
    } catch (error) {
      this.redis?.disconnect()
      this.redis = undefined
      const failure = errorMessage(error) || 'connection refused'
      await client.query(
        `UPDATE ${T.invalidations} SET claimed_until = NULL, attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[])`,
        [ids, failure],
      )
      return { entries: 0, keysRemoved: 0, error: failure }
    }
    await client.query(`DELETE FROM ${T.invalidations} WHERE id = ANY($1::bigint[])`, [ids])
    return { entries: rows.length, keysRemoved }
  }

  async close(): Promise<void> {
    await this.running?.catch(() => undefined)
    this.redis?.disconnect()
    this.redis = undefined
  }
}
