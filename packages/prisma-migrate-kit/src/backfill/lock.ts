import type { ClientBase } from 'pg'
import { LockHeldError } from '../errors'
import { T } from './state'

/**
 * Who runs a backfill. A plain `run` takes a session-level advisory lock per backfill, so a second, accidental `run`
 * of the same backfill is refused at once (exit 4). `run --join` skips that refusal on purpose and adds a runner: the
 * range ledger, not the lock, is what keeps work exactly-once. Every runner (first or joined) has a row in
 * backfill_runners naming its session, so liveness is read from pg_stat_activity, instantly, even after kill -9.
 */

const LOCK_KEY = `hashtextextended('migrate-kit:backfill:' || $1, 0)`

export async function tryBackfillLock(client: ClientBase, backfill: string): Promise<boolean> {
  const { rows } = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${LOCK_KEY}) AS locked`, [backfill])
  return rows[0]?.locked ?? false
}

export async function releaseBackfillLock(client: ClientBase, backfill: string): Promise<void> {
  await client.query(`SELECT pg_advisory_unlock(${LOCK_KEY})`, [backfill])
}

export interface RunnerIdentity {
  id: string
  host: string
  pid: number
}

/**
 * A runner writes its heartbeat every 2 s. One whose session is still open but whose heartbeat is older than this is
 * stale: its process is frozen (SIGSTOP, swapping) or stuck on a stalled connection it has not given up yet.
 */
export const STALE_HEARTBEAT_MS = 30_000

export interface RunnerInfo {
  id: string
  host: string
  pid: number
  role: 'primary' | 'joined'
  since: Date
  heartbeatAt: Date
  /** Seconds since its last heartbeat, by the database's clock (runners' clocks may differ). */
  heartbeatAgeSeconds: number
  /** Its heartbeat is older than STALE_HEARTBEAT_MS. */
  stale: boolean
}

/** Records this runner against the session it holds, replacing its old row after a reconnect. */
export async function registerRunner(
  client: ClientBase,
  backfill: string,
  runner: RunnerIdentity,
  role: RunnerInfo['role'],
): Promise<void> {
  await client.query(
    `INSERT INTO ${T.runners} (id, backfill, host, pid, role, backend_pid, backend_start)
     SELECT $1, $2, $3, $4, $5, pid, coalesce(backend_start, now()) FROM pg_stat_activity WHERE pid = pg_backend_pid()
     ON CONFLICT (id) DO UPDATE SET role = EXCLUDED.role, backend_pid = EXCLUDED.backend_pid,
       backend_start = EXCLUDED.backend_start, heartbeat_at = now()`,
    [runner.id, backfill, runner.host, runner.pid, role],
  )
}

export async function heartbeatRunner(client: ClientBase, runnerId: string): Promise<void> {
  await client.query(`UPDATE ${T.runners} SET heartbeat_at = now() WHERE id = $1`, [runnerId])
}

export async function removeRunner(client: ClientBase, runnerId: string): Promise<void> {
  await client.query(`DELETE FROM ${T.runners} WHERE id = $1`, [runnerId])
}

/**
 * Runners whose session is still connected. A runner killed with -9 loses its session at once (the server sees the
 * socket close), so it drops out of this list without waiting for a heartbeat to age. backend_start guards against a
 * recycled pid; it is NULL when the session belongs to another database user we may not inspect.
 */
export async function liveRunners(client: ClientBase, backfill: string, exceptId?: string): Promise<RunnerInfo[]> {
  const { rows } = await client.query<{
    id: string
    host: string
    pid: number
    role: RunnerInfo['role']
    started_at: Date
    heartbeat_at: Date
    heartbeat_age: number
  }>(
    `SELECT r.id, r.host, r.pid, r.role, r.started_at, r.heartbeat_at,
            extract(epoch FROM clock_timestamp() - r.heartbeat_at)::float8 AS heartbeat_age
       FROM ${T.runners} r
      WHERE r.backfill = $1 AND r.id IS DISTINCT FROM $2
        AND EXISTS (SELECT 1 FROM pg_stat_activity a
                     WHERE a.pid = r.backend_pid AND (a.backend_start IS NULL OR a.backend_start = r.backend_start))
      ORDER BY r.started_at`,
    [backfill, exceptId ?? null],
  )
  return rows.map((row) => ({
    id: row.id,
    host: row.host,
    pid: row.pid,
    role: row.role,
    since: row.started_at,
    heartbeatAt: row.heartbeat_at,
    heartbeatAgeSeconds: Math.max(0, Math.floor(row.heartbeat_age)),
    stale: row.heartbeat_age * 1000 > STALE_HEARTBEAT_MS,
  }))
}

/**
 * After this runner reconnected from a stalled session: that session may still be open on the server (a dead path
 * carries no hang-up), holding the backfill lock and, in a batch, its range. Ends it (only the very session recorded
 * for this runner: pid and start time) and waits until it is gone. Returns its pid, or undefined when there was none.
 */
export async function endOwnStalledSession(client: ClientBase, runnerId: string): Promise<number | undefined> {
  const { rows } = await client.query<{ pid: number }>(
    // The target is chosen first (MATERIALIZED), so the terminate runs on that one row only, whatever the plan.
    `WITH target AS MATERIALIZED (
       SELECT a.pid FROM ${T.runners} r
         JOIN pg_stat_activity a ON a.pid = r.backend_pid AND (a.backend_start IS NULL OR a.backend_start = r.backend_start)
        WHERE r.id = $1 AND a.pid <> pg_backend_pid())
     SELECT pid FROM target WHERE pg_terminate_backend(pid)`,
    [runnerId],
  )
  const pid = rows[0]?.pid
  if (pid !== undefined) await waitForSessionsGone(client, [pid])
  return pid
}

/** Ends sessions of this process's own by pid (a stalled batch session), and waits until they are gone. */
export async function endSessions(client: ClientBase, pids: number[], applicationName: string): Promise<number[]> {
  if (pids.length === 0) return []
  const { rows } = await client.query<{ pid: number }>(
    `WITH target AS MATERIALIZED (
       SELECT pid FROM pg_stat_activity WHERE pid = ANY($1::int[]) AND application_name = $2 AND pid <> pg_backend_pid())
     SELECT pid FROM target WHERE pg_terminate_backend(pid)`,
    [pids, applicationName],
  )
  const ended = rows.map((row) => row.pid)
  await waitForSessionsGone(client, ended)
  return ended
}

async function waitForSessionsGone(client: ClientBase, pids: number[], waitMs = 5_000): Promise<void> {
  const deadline = Date.now() + waitMs
  while (pids.length > 0 && Date.now() < deadline) {
    const { rows } = await client.query(`SELECT 1 FROM pg_stat_activity WHERE pid = ANY($1::int[])`, [pids])
    if (rows.length === 0) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Rows of runners whose session is gone (crashed, killed): they only confuse `status`. */
export async function pruneDeadRunners(client: ClientBase, backfill: string): Promise<void> {
  await client.query(
    `DELETE FROM ${T.runners} r WHERE r.backfill = $1
        AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                         WHERE a.pid = r.backend_pid AND (a.backend_start IS NULL OR a.backend_start = r.backend_start))`,
    [backfill],
  )
}

/** The refusal a second, accidental `run` gets: who holds it, since when, and how to add a runner deliberately. */
export async function lockHeldError(client: ClientBase, backfill: string): Promise<LockHeldError> {
  const runners = await liveRunners(client, backfill)
  const holder = runners.find((runner) => runner.role === 'primary') ?? runners[0]
  const owner = await client.query<{ owner_host: string | null; owner_pid: number | null; owner_since: Date | null }>(
    `SELECT owner_host, owner_pid, owner_since FROM ${T.backfills} WHERE name = $1`,
    [backfill],
  )
  const recorded = owner.rows[0]
  const host = holder?.host ?? recorded?.owner_host ?? undefined
  const pid = holder?.pid ?? recorded?.owner_pid ?? undefined
  const since = holder?.since ?? recorded?.owner_since ?? undefined
  const who = host !== undefined ? `host ${host}, pid ${pid}${since ? `, since ${since.toISOString()}` : ''}` : 'another session'
  const others = runners.length > 1 ? ` (${runners.length} runners in all)` : ''
  return new LockHeldError(
    `backfill "${backfill}" is already running: ${who}${others}`,
    { host, pid, since },
    {
      hint: [
        `Watch it with \`migrate-kit backfill status ${backfill}\`; stop it with \`migrate-kit backfill pause ${backfill}\`.`,
        `To add this process as another runner on purpose (it shares the ranges, each done once): migrate-kit backfill run ${backfill} --join`,
      ].join('\n'),
    },
  )
}
