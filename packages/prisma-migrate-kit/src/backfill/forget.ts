import type { Client } from 'pg'
import { connect } from '../db/connect'
import { UsageError } from '../errors'
import { pendingInvalidations } from './invalidation'
import { liveRunners, lockHeldError, releaseBackfillLock, tryBackfillLock } from './lock'
import { deleteBackfillRow } from './store'
import { T, backfillStateExists, inTransaction, readBackfillRecord, type BackfillStatusValue } from './state'

/** What `backfill forget` removed. */
export interface ForgetResult {
  name: string
  /** The status the backfill had. */
  status: BackfillStatusValue
  ranges: number
  snapshotRows: number
  invalidations: number
}

/** What `backfill purge` deleted. */
export interface PurgeResult {
  name: string
  snapshotRows: number
  /** Of them, rows `backfill restore` had not put back yet (deleted only with force). */
  unrestored: number
}

/** What a backfill still keeps that forgetting or purging it would lose. */
interface Kept {
  snapshotRows: number
  unrestored: number
  invalidations: number
}

async function kept(client: Client, name: string): Promise<Kept> {
  const { rows } = await client.query<{ snapshot_rows: number; unrestored: number }>(
    `SELECT count(*)::int AS snapshot_rows, count(*) FILTER (WHERE restored_at IS NULL)::int AS unrestored
       FROM ${T.snapshots} WHERE backfill = $1`,
    [name],
  )
  const row = rows[0]
  return { snapshotRows: row.snapshot_rows, unrestored: row.unrestored, invalidations: await pendingInvalidations(client, name) }
}

/**
 * Runs `body` holding the backfill's lock with no runner connected: the same lock `run` and `restore` take, so
 * neither can start meanwhile. A run going on is refused (exit 4, naming it).
 */
async function withIdleBackfill<T>(url: string, name: string, action: string, body: (client: Client) => Promise<T>): Promise<T> {
  const client = await connect(url, { applicationName: `migrate-kit backfill ${name} ${action}`.slice(0, 63) })
  let locked = false
  try {
    if (!(await backfillStateExists(client)) || !(await readBackfillRecord(client, name))) {
      throw new UsageError(`the database has no state for backfill "${name}": nothing to ${action}`, {
        hint: 'See which backfills it knows: migrate-kit backfill status',
      })
    }
    locked = await tryBackfillLock(client, name)
    if (!locked || (await liveRunners(client, name)).length > 0) throw await lockHeldError(client, name)
    return await body(client)
  } finally {
    if (locked) await releaseBackfillLock(client, name).catch(() => undefined)
    await client.end().catch(() => undefined)
  }
}

/**
 * Removes everything the database keeps about a backfill (its row, range ledger, runners, snapshot and invalidation
 * outbox) in one transaction, so that `run` starts it from nothing, or a backfill whose file is gone stops being
 * listed. A snapshot `restore` could still need, or cache keys not yet deleted from Redis, are lost with it: refused
 * (exit 2) unless `force`.
 */
export async function forgetBackfill(url: string, name: string, options: { force?: boolean } = {}): Promise<ForgetResult> {
  return withIdleBackfill(url, name, 'forget', async (client) => {
    const left = await kept(client, name)
    const losses = [
      left.unrestored > 0 ? `${left.unrestored} snapshot rows with the old values \`backfill restore ${name}\` puts back` : '',
      left.invalidations > 0 ? `${left.invalidations} cache invalidations not yet sent to Redis` : '',
    ].filter(Boolean)
    if (losses.length > 0 && !options.force) {
      throw new UsageError(`backfill "${name}" still keeps ${losses.join(' and ')}: forgetting it would lose them; nothing was changed`, {
        hint:
          `Restore first if the old values may be wanted (migrate-kit backfill restore ${name}), or delete the snapshot with ` +
          `migrate-kit backfill purge ${name} --force; to forget it all the same: migrate-kit backfill forget ${name} --force`,
      })
    }
    return inTransaction(client, async () => {
      const record = (await readBackfillRecord(client, name, { forUpdate: true }))!
      const ranges = await client.query(`DELETE FROM ${T.ranges} WHERE backfill = $1`, [name])
      const snapshots = await client.query(`DELETE FROM ${T.snapshots} WHERE backfill = $1`, [name])
      const invalidations = await client.query(`DELETE FROM ${T.invalidations} WHERE backfill = $1`, [name])
      await deleteBackfillRow(client, name)
      return {
        name,
        status: record.status,
        ranges: ranges.rowCount ?? 0,
        snapshotRows: snapshots.rowCount ?? 0,
        invalidations: invalidations.rowCount ?? 0,
      }
    })
  })
}

/**
 * Deletes a backfill's snapshot (the old values kept for `restore` and `report`). Rows a restore has not put back
 * yet are what `restore` needs: refused (exit 2) unless `force`. The backfill's state is kept.
 */
export async function purgeSnapshot(url: string, name: string, options: { force?: boolean } = {}): Promise<PurgeResult> {
  return withIdleBackfill(url, name, 'purge', async (client) => {
    const left = await kept(client, name)
    if (left.unrestored > 0 && !options.force) {
      throw new UsageError(
        `the snapshot of backfill "${name}" holds ${left.unrestored} rows of old values that were never restored: ` +
          `\`migrate-kit backfill restore ${name}\` would need them; nothing was deleted`,
        {
          hint: `Keep them until the new values are trusted (migrate-kit backfill report ${name} compares them); delete them anyway: migrate-kit backfill purge ${name} --force`,
        },
      )
    }
    const deleted = await client.query(`DELETE FROM ${T.snapshots} WHERE backfill = $1`, [name])
    return { name, snapshotRows: deleted.rowCount ?? 0, unrestored: left.unrestored }
  })
}
