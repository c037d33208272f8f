import type { ClientBase } from 'pg'

/** The session holding an advisory lock, as pg_stat_activity tells it (empty fields for another user's session). */
export interface LockHolder {
  pid: number
  application: string
  /** When its session started (null when pg_stat_activity hides it from us). */
  since: Date | null
  client: string | null
}

/**
 * The session holding an advisory lock of this database, other than ours. `key` is a condition on pg_locks `l`:
 * bigint keys are (classid, objid) = (high, low) halves; a plain integer key is classid 0.
 */
export async function advisoryLockHolder(client: ClientBase, key: string): Promise<LockHolder | undefined> {
  const { rows } = await client.query<{ pid: number; application: string | null; since: Date | null; client: string | null }>(
    `SELECT l.pid, a.application_name AS application, a.backend_start AS since, a.client_addr::text AS client
       FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.pid <> pg_backend_pid()
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND ${key}
      LIMIT 1`,
  )
  const row = rows[0]
  return row ? { pid: row.pid, application: row.application ?? '', since: row.since, client: row.client } : undefined
}

/** ` (session pid 123, "app", from 10.0.0.5, connected since …)`, or nothing without a holder. */
export function describeHolder(holder: LockHolder | undefined): string {
  if (!holder) return ''
  const parts = [
    `session pid ${holder.pid}`,
    holder.application ? `"${holder.application}"` : '',
    holder.client ? `from ${holder.client}` : '',
    holder.since ? `connected since ${holder.since.toISOString()}` : '',
  ]
  return ` (${parts.filter(Boolean).join(', ')})`
}

/** The holder as LockHeldError carries it. */
export function holderFields(holder: LockHolder | undefined): { pid?: number; since?: Date } | undefined {
  if (!holder) return undefined
  return { pid: holder.pid, ...(holder.since ? { since: holder.since } : {}) }
}
