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

/** A session another one waits for: who it is, and what it is doing. */
export interface BlockingSession {
  pid: number
  application: string
  /** active, idle in transaction, … (null when pg_stat_activity hides it from us). */
  state: string | null
  /** When its current (or last) query started. */
  queryStart: Date | null
  /** The start of that query, for a person to recognise it. */
  query: string | null
}

/**
 * The sessions that hold a lock our sessions (by application_name) are waiting for right now. Read while the wait
 * lasts: once a lock_timeout has ended it, nothing says who it was.
 */
export async function blockingSessions(client: ClientBase, waiterApplication: string): Promise<BlockingSession[]> {
  const { rows } = await client.query<{
    pid: number
    application: string | null
    state: string | null
    query_start: Date | null
    query: string | null
  }>(
    `SELECT DISTINCT h.pid, h.application_name AS application, h.state, h.query_start, left(h.query, 80) AS query
       FROM pg_stat_activity w
       CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS b(pid)
       JOIN pg_stat_activity h ON h.pid = b.pid
      WHERE w.application_name = $1 AND w.wait_event_type = 'Lock' AND w.datname = current_database()
      ORDER BY h.pid`,
    [waiterApplication],
  )
  return rows.map((row) => ({
    pid: row.pid,
    application: row.application ?? '',
    state: row.state,
    queryStart: row.query_start,
    query: row.query ? row.query.replace(/\s+/g, ' ').trim() : null,
  }))
}

/** `session pid 123 ("app", idle in transaction, its last query started … : LOCK TABLE …)`. */
export function describeBlockingSession(session: BlockingSession): string {
  const parts = [
    session.application ? `"${session.application}"` : '',
    session.state ?? '',
    session.queryStart ? `its ${session.state === 'active' ? '' : 'last '}query started ${session.queryStart.toISOString()}` : '',
  ].filter(Boolean)
  const query = session.query ? `: ${session.query}` : ''
  return `session pid ${session.pid}${parts.length > 0 ? ` (${parts.join(', ')}${query})` : ''}`
}
