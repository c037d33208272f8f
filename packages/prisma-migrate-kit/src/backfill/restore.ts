import type { Client } from 'pg'
import { connect, createPool } from '../db/connect'
import { quoteIdent } from '../db/quote'
import { UsageError } from '../errors'
import { findTable, type TableInfo } from './catalog'
import { InvalidationFlusher, enqueueInvalidation, pendingInvalidations, pendingInvalidationsNotice } from './invalidation'
import { keyFromText, keyTuple } from './key'
import { forgetRanges } from './ledger'
import type { LoadedBackfill } from './loader'
import { liveRunners, lockHeldError, releaseBackfillLock, tryBackfillLock } from './lock'
import { setting, type RunTuning } from './options'
import { backoffMs } from './pacing'
import { invalidationFor, parsePatterns, placeholderColumns, type CachePattern } from './patterns'
import { classifyFailure, describeFailure, sleep } from './retry'
import { recordRestoreEnded, recordRestoreStarted } from './store'
import { T, backfillStateExists, ensureBackfillState, inTransaction, readBackfillRecord, type BackfillRecord } from './state'

/** batchSize: snapshot rows put back per transaction; lockTimeoutMs: as a run's. Defaults from options.ts. */
export interface RestoreOptions extends Pick<RunTuning, 'batchSize' | 'lockTimeoutMs'> {
  /** Redis for the definition's `invalidate` patterns: restored rows are invalidated like changed ones. */
  redisUrl?: string
  onNotice?: (message: string) => void
  onProgress?: (restored: number, total: number) => void
}

export interface RestoreResult {
  name: string
  table: string
  /** Rows whose snapshot columns got their old values back. */
  rowsRestored: number
  /** Snapshot rows whose row no longer exists (deleted since). */
  rowsMissing: number
  batches: number
  invalidation: { enabled: boolean; keysRemoved: number; pending: number }
}

const MAX_ATTEMPTS = 10

/**
 * Puts the snapshot columns back to the values they had before the backfill changed them, in batches, each one
 * transaction that restores its rows and marks their snapshot rows restored together: exactly-once, resumable after
 * a crash (run it again). Then the backfill is pending again, with its range ledger forgotten, so a corrected
 * definition can run from the start. Holds the backfill's lock: never while a run is going on.
 */
export async function restoreBackfill(
  url: string,
  name: string,
  loaded: LoadedBackfill | undefined,
  options: RestoreOptions = {},
): Promise<RestoreResult> {
  const applicationName = `migrate-kit backfill ${name} restore`.slice(0, 63)
  let client: Client = await connect(url, { applicationName })
  let locked = false
  const pool = createPool(url, { applicationName, max: 1 })
  let flusher: InvalidationFlusher | undefined
  try {
    const record = await restorableRecord(client, name)
    locked = await tryBackfillLock(client, name)
    if (!locked || (await liveRunners(client, name)).length > 0) throw await lockHeldError(client, name)
    const table = await findTable(client, record.tableName)
    if (!table) throw new UsageError(`cannot restore backfill "${name}": its table ${record.tableName} no longer exists`)
    const patterns = parsePatterns(loaded?.definition.invalidate ?? [])
    if (options.redisUrl && patterns.length > 0)
      flusher = new InvalidationFlusher(pool, options.redisUrl, name, (m) => options.onNotice?.(m))
    else if (patterns.length > 0) options.onNotice?.('REDIS_URL is not set: cache invalidation of restored rows is skipped.')
    await recordRestoreStarted(client, name)
    const columns = await snapshotColumnsOf(client, record, table)
    const total = await unrestoredCount(client, name)
    let rowsRestored = 0
    let rowsMissing = 0
    let batches = 0
    let attempts = 0
    for (;;) {
      try {
        const batch = await restoreBatch(client, record, table, columns, options, flusher ? patterns : [])
        attempts = 0
        if (batch.taken === 0) break
        batches++
        rowsRestored += batch.restored
        rowsMissing += batch.taken - batch.restored
        options.onProgress?.(rowsRestored + rowsMissing, total)
        void flusher?.flush({ retryDown: false })
      } catch (error) {
        const kind = classifyFailure(error)
        if (kind === 'data' || kind === 'code' || ++attempts > MAX_ATTEMPTS) throw error
        options.onNotice?.(`Restore batch failed (${describeFailure(error)}); retrying.`)
        await sleep(backoffMs(attempts))
        if (kind === 'connection') {
          await client.end().catch(() => undefined)
          client = await connect(url, { applicationName })
          locked = await tryBackfillLock(client, name)
          if (!locked) throw await lockHeldError(client, name)
        }
      }
    }
    await inTransaction(client, async () => {
      await forgetRanges(client, name)
      await recordRestoreEnded(client, name)
    })
    const flushed = flusher ? await flusher.flush() : undefined
    const pending = flusher ? await pendingInvalidations(client, name) : 0
    if (pending > 0) options.onNotice?.(pendingInvalidationsNotice(name, pending, flushed?.error))
    return {
      name,
      table: `${table.schema}.${table.name}`,
      rowsRestored,
      rowsMissing,
      batches,
      invalidation: { enabled: flusher !== undefined, keysRemoved: flusher?.totalKeysRemoved ?? 0, pending },
    }
  } finally {
    await flusher?.close()
    if (locked) await releaseBackfillLock(client, name).catch(() => undefined)
    await client.end().catch(() => undefined)
    await pool.end().catch(() => undefined)
  }
}

async function restorableRecord(client: Client, name: string): Promise<BackfillRecord> {
  const record = (await backfillStateExists(client)) ? await readBackfillRecord(client, name) : undefined
  if (!record) {
    throw new UsageError(`cannot restore backfill "${name}": it has never run on this database, so nothing was changed`, {
      hint: 'List backfills with `migrate-kit backfill list`.',
    })
  }
  await ensureBackfillState(client)
  const { rows } = await client.query<{ count: number }>(`SELECT count(*)::int AS count FROM ${T.snapshots} WHERE backfill = $1`, [name])
  if ((rows[0]?.count ?? 0) === 0 && record.snapshotColumns.length === 0) {
    throw new UsageError(`cannot restore backfill "${name}": it took no snapshot of old values`, {
      hint: `Add snapshot: ['<column>', …] to its definition before running it; the old values of a run without one are gone.`,
    })
  }
  return record
}

async function unrestoredCount(client: Client, name: string): Promise<number> {
  const { rows } = await client.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM ${T.snapshots} WHERE backfill = $1 AND restored_at IS NULL`,
    [name],
  )
  return rows[0]?.count ?? 0
}

/** One transaction: take unrestored snapshot rows, write their old values back, mark them restored. */
async function restoreBatch(
  client: Client,
  record: BackfillRecord,
  table: TableInfo,
  columns: string[],
  options: RestoreOptions,
  patterns: CachePattern[],
): Promise<{ taken: number; restored: number }> {
  const key = record.key
  const assignments = columns.map((column) => `${quoteIdent(column)} = mk_old.${quoteIdent(column)}`).join(', ')
  const returning = [...key.columns.map((column) => column.name), ...placeholderColumns(patterns)]
    .map((column) => `t.${quoteIdent(column)}`)
    .join(', ')
  return inTransaction(client, async () => {
    await client.query(`SELECT set_config('lock_timeout', $1, true)`, [`${setting(options, 'lockTimeoutMs')}ms`])
    const { rows } = await client.query<{ taken: number; restored: number; rows: Array<Record<string, unknown>> }>(
      `WITH s AS (
         SELECT key, old FROM ${T.snapshots} WHERE backfill = $1 AND restored_at IS NULL
          ORDER BY key LIMIT $2 FOR UPDATE SKIP LOCKED
       ), u AS (
         UPDATE ${table.quoted} AS t SET ${assignments}
           FROM s, LATERAL jsonb_populate_record(NULL::${table.quoted}, s.old) AS mk_old
          WHERE ${keyTuple(
            key,
            key.columns.map((column) => `t.${quoteIdent(column.name)}`),
          )} = ${keyFromText(key, 's.key')}
         RETURNING ${returning}
       ), m AS (
         UPDATE ${T.snapshots} SET restored_at = now() WHERE backfill = $1 AND key IN (SELECT key FROM s) RETURNING 1
       )
       SELECT (SELECT count(*) FROM m)::int AS taken, (SELECT count(*) FROM u)::int AS restored,
              coalesce((SELECT jsonb_agg(to_jsonb(u)) FROM u), '[]'::jsonb) AS rows`,
      [record.name, setting(options, 'batchSize')],
    )
    const result = rows[0] ?? { taken: 0, restored: 0, rows: [] }
    if (patterns.length > 0 && result.restored > 0) await enqueueInvalidation(client, record.name, invalidationFor(patterns, result.rows))
    return { taken: result.taken, restored: result.restored }
  })
}

/** The columns snapshots hold: recorded on the state row, else read from the snapshots themselves. */
async function snapshotColumnsOf(client: Client, record: BackfillRecord, table: TableInfo): Promise<string[]> {
  let columns = record.snapshotColumns
  if (columns.length === 0) {
    const { rows } = await client.query<{ column: string }>(
      `SELECT DISTINCT jsonb_object_keys(old) AS column FROM ${T.snapshots} WHERE backfill = $1`,
      [record.name],
    )
    columns = rows.map((row) => row.column)
  }
  const missing = columns.filter((column) => !table.columns.has(column))
  if (missing.length > 0) {
    throw new UsageError(
      `cannot restore backfill "${record.name}": column(s) ${missing.join(', ')} no longer exist in ${table.schema}.${table.name}`,
    )
  }
  return columns
}
