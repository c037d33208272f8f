import { performance } from 'node:perf_hooks'
import type { PoolClient } from 'pg'
import { computeChanges, writeChanges } from './compute'
import { isComputeBackfill, isSqlUpdateBackfill, type BatchTransaction, type Row } from './definition'
import { enqueueInvalidation } from './invalidation'
import { claimRange, completeRange, type LedgerRange } from './ledger'
import { invalidationFor, placeholderColumns, type CachePattern } from './patterns'
import type { PrismaBinding } from './prisma'
import { renderStatement } from './sql'
import { selectForProcess, updateStatement } from './statements'
import type { ResolvedBackfill } from './validate'
import { isStalledConnection } from '../db/connect'

export interface BatchSettings {
  resolved: ResolvedBackfill
  /** host:pid of the runner, recorded on each range it completes. */
  doneBy: string
  /** How long a batch waits for a row lock the app holds before it gives up and is retried. */
  lockTimeoutMs: number
  statementTimeoutMs: number
  /** Patterns to queue for Redis, or undefined when invalidation is off (no REDIS_URL, no `invalidate`). */
  invalidate?: CachePattern[]
}

export type BatchOutcome =
  | { kind: 'done'; range: LedgerRange; rowsChanged: number; batchMs: number }
  /** No pending range is free: cut a new one, or wait for those other sessions hold. */
  | { kind: 'none' }
  | { kind: 'failed'; range: LedgerRange | undefined; error: unknown }

/** A stuck process() must not hold the app's rows forever: the server ends a transaction idle this long. */
const IDLE_IN_BATCH_TIMEOUT_MS = 5 * 60_000

/** Whole milliseconds, so the value can only ever be a number in the statement. */
const millis = (ms: number) => `'${Math.max(0, Math.round(ms))}ms'`

/**
 * BEGIN and the batch's timeouts in one round trip (a multi-statement simple query): every batch pays for it. The
 * values are numbers from the settings, never text from outside.
 */
export function beginBatch(settings: Pick<BatchSettings, 'lockTimeoutMs' | 'statementTimeoutMs'>): string {
  return [
    'BEGIN',
    `SET LOCAL lock_timeout = ${millis(settings.lockTimeoutMs)}`,
    `SET LOCAL statement_timeout = ${millis(settings.statementTimeoutMs)}`,
    `SET LOCAL idle_in_transaction_session_timeout = ${millis(IDLE_IN_BATCH_TIMEOUT_MS)}`,
  ].join('; ')
}

/**
 * One batch, one transaction: claim a pending range (the lease), copy old values, change the rows, queue the cache
 * invalidation, mark the range done, commit. Any failure rolls every part back and the range is pending again.
 */
export async function runBatch(
  client: PoolClient,
  settings: BatchSettings,
  prisma: PrismaBinding,
  skip: readonly string[] = [],
): Promise<BatchOutcome> {
  const started = performance.now()
  let range: LedgerRange | undefined
  try {
    await client.query(beginBatch(settings))
    range = await claimRange(client, settings.resolved.name, skip)
    if (!range) {
      await client.query('COMMIT')
      return { kind: 'none' }
    }
    const { rowsChanged, changedRows } = await changeRows(client, settings, range, prisma)
    if (settings.invalidate && rowsChanged > 0) {
      await enqueueInvalidation(client, settings.resolved.name, invalidationFor(settings.invalidate, changedRows))
    }
    const batchMs = performance.now() - started
    await completeRange(client, range, { rowsChanged, batchMs, doneBy: settings.doneBy })
    await client.query('COMMIT')
    return { kind: 'done', range, rowsChanged, batchMs: performance.now() - started }
  } catch (error) {
    // A stalled session would make ROLLBACK wait out the read timeout again; it is dropped instead (the server rolls
    // back when the session ends).
    if (!isStalledConnection(error)) await client.query('ROLLBACK').catch(() => undefined)
    return { kind: 'failed', range, error }
  }
}

async function changeRows(
  client: PoolClient,
  settings: BatchSettings,
  range: LedgerRange,
  prisma: PrismaBinding,
): Promise<{ rowsChanged: number; changedRows: Row[] }> {
  const { resolved } = settings
  const { definition } = resolved
  const returning = settings.invalidate ? placeholderColumns(settings.invalidate) : []
  if (isSqlUpdateBackfill(definition)) {
    const { text, values } = updateStatement(resolved, range, returning).build()
    const result = await client.query<Row>(text, values)
    return { rowsChanged: result.rowCount ?? 0, changedRows: result.rows }
  }
  const select = selectForProcess(resolved, range).build()
  const { rows } = await client.query<Row>(select.text, select.values)
  if (rows.length === 0) return { rowsChanged: 0, changedRows: [] }
  if (isComputeBackfill(definition)) {
    const changes = await computeChanges(resolved, rows)
    const changedRows = await writeChanges(client, resolved, changes, returning)
    return { rowsChanged: changes.length, changedRows }
  }
  const tx: BatchTransaction = {
    client,
    range: { after: range.after, upTo: range.upTo },
    query: async <R extends Row>(statement: Parameters<BatchTransaction['query']>[0]) =>
      (await client.query<R>(renderStatement(statement))).rows,
    prisma: (PrismaClient) => prisma.client(PrismaClient),
  }
  prisma.bind(client)
  try {
    const reported = await definition.process(rows, tx)
    return { rowsChanged: typeof reported === 'number' ? reported : rows.length, changedRows: rows }
  } finally {
    prisma.unbind()
  }
}
