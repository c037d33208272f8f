import type { ClientBase } from 'pg'
import { UsageError } from '../errors'
import { estimateRowCount } from './catalog'
import { keyName, sameKey } from './key'
import { describeRange, forgetRanges, retryFailedRanges } from './ledger'
import type { LoadedBackfill } from './loader'
import { pruneDeadRunners, type RunnerIdentity } from './lock'
import { resetSince } from './reset'
import { DEFAULT_BATCH_SIZE, type BatchSizing } from './pacing'
import { inTransaction, readBackfillRecord } from './state'
import { setRowsTotal, startRun } from './store'
import type { ResolvedBackfill } from './validate'

export interface TakeoverInput {
  loaded: LoadedBackfill
  resolved: ResolvedBackfill
  /** The runner holding the backfill's lock: it owns the row (owner, pending requests); a joined runner does not. */
  primary: boolean
  identity: RunnerIdentity
  restart: boolean
  /** The _prisma_migrations row of its `after` migration, applied (undefined: it names none). */
  afterMigrationId: string | undefined
  /** --batch-size; otherwise the size the last run ended with. */
  batchSize: number | undefined
  sizing: BatchSizing
  notice: (message: string) => void
}

export interface Takeover {
  alreadyDone: boolean
  batchSize: number
  rowsTotal: number | null
}

/**
 * The start of a run, in one transaction on the backfill's locked row: create it, or pick up where the last run
 * stopped (failed ranges get another chance, a cancelled backfill resumes), or refuse what cannot be resumed safely
 * (the definition now names another table or key; a restore is half done).
 */
export async function takeOverBackfill(client: ClientBase, input: TakeoverInput): Promise<Takeover> {
  const { loaded, resolved, primary, identity, restart, sizing, notice } = input
  const name = loaded.name
  const tableName = `${resolved.table.schema}.${resolved.table.name}`
  return inTransaction(client, async () => {
    const existing = await readBackfillRecord(client, name, { forUpdate: true })
    if (existing && !restart && (existing.tableName !== tableName || !sameKey(existing.key, resolved.key))) {
      throw new UsageError(
        `backfill "${name}" was started on ${existing.tableName} by key ${keyName(existing.key)}, but ${loaded.relativeFile} now says ${tableName} by ${keyName(resolved.key)}: its ranges would not mean the same rows`,
        { hint: `Finish or restore it as it was, or start it over with \`migrate-kit backfill run ${name} --restart\`.` },
      )
    }
    if (existing?.restoringSince) {
      throw new UsageError(
        `a restore of backfill "${name}" started at ${existing.restoringSince.toISOString()} is unfinished: some rows have their old values back, some not`,
        { hint: `Finish it first: migrate-kit backfill restore ${name}` },
      )
    }
    if (existing && restart) {
      await forgetRanges(client, name)
      notice(`--restart: forgot every range done by earlier runs; ${name} starts again from the first key.`)
    }
    const reset = existing && !restart ? await resetSince(client, existing, loaded.after) : undefined
    if (existing && reset) {
      await forgetRanges(client, name)
      notice(
        `${name} was ${existing.status} on ${existing.tableName}, but ${reset}: its ranges speak of rows that are gone, so it starts again from the first key.`,
      )
    }
    if (existing && !restart && !reset) {
      if (existing.checksum !== null && existing.checksum !== loaded.checksum) {
        notice(
          `${loaded.relativeFile} changed since ${name} started: ranges already done keep what the old definition did; the rest runs with the new one.`,
        )
      }
      if (existing.status === 'done') return { alreadyDone: true, batchSize: existing.batchSize, rowsTotal: existing.rowsTotal }
      if (existing.status === 'failed') {
        const retried = await retryFailedRanges(client, name)
        const where =
          existing.failedUpTo !== null
            ? ` (keys ${describeRange(existing.key, { after: existing.failedAfter, upTo: existing.failedUpTo })})`
            : ''
        notice(
          `${name} failed last time${where}: ${existing.lastError ?? 'unknown error'}. Retrying ${retried > 0 ? 'from there' : 'where it stopped'}.`,
        )
      }
      if (existing.status === 'cancelled') notice(`${name} was cancelled; resuming where it stopped.`)
    }
    const startSize = input.batchSize ?? (existing && !restart ? existing.batchSize : DEFAULT_BATCH_SIZE)
    const batchSize = Math.min(sizing.maxBatchSize, Math.max(sizing.minBatchSize, Math.floor(startSize)))
    await startRun(client, name, {
      file: loaded.relativeFile,
      checksum: loaded.checksum,
      tableName,
      tableOid: resolved.table.oid,
      key: resolved.key,
      batchSize,
      snapshotColumns: resolved.snapshotColumns.map((column) => column.name),
      owner: primary ? { host: identity.host, pid: identity.pid } : null,
      afterMigrationId: input.afterMigrationId ?? null,
    })
    let rowsTotal = existing && !restart && !reset ? existing.rowsTotal : null
    if (rowsTotal === null) {
      rowsTotal = await estimateRowCount(client, resolved.table)
      await setRowsTotal(client, name, rowsTotal)
    }
    await pruneDeadRunners(client, name)
    return { alreadyDone: false, batchSize, rowsTotal }
  })
}
