/**
 * What a failed batch means for the run:
 * - connection: the session is gone (network, server restart, pg_terminate_backend). Nothing of the batch
 *   committed; reconnect with backoff and carry on. Never counted against the range.
 * - conflict: the batch met the app (lock_timeout, deadlock, serialization, statement_timeout). Retry the range a few
 *   times, then halve it: a smaller batch holds fewer locks for less time.
 * - permanent: the data or the code refuses (a CHECK, a cast, an exception in process()). Retrying cannot help;
 *   halve the range until the one failing row is found.
 */
export type FailureKind = 'connection' | 'conflict' | 'permanent'

const CONNECTION_CODES = new Set([
  '57P01', // admin_shutdown: pg_terminate_backend, server shutting down
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up
  '53300', // too_many_connections
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
])
const CONFLICT_CODES = new Set([
  '55P03', // lock_not_available: our lock_timeout
  '40P01', // deadlock_detected
  '40001', // serialization_failure
  '57014', // query_canceled: our statement_timeout
])
const SOCKET_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'])

export function classifyFailure(error: unknown): FailureKind {
  const { code, message = '' } = (error ?? {}) as { code?: string; message?: string }
  if (code && CONNECTION_CODES.has(code)) return 'connection'
  if (code && SOCKET_CODES.has(code)) return 'connection'
  if (code && CONFLICT_CODES.has(code)) return 'conflict'
  if (
    /Connection terminated|terminating connection|Client has encountered a connection error|Client was closed|not queryable|timeout exceeded when trying to connect|Connection ended|cannot connect/i.test(
      message,
    )
  ) {
    return 'connection'
  }
  return 'permanent'
}

/** How many times a range is retried after a conflict before it is halved (GitLab retries a job 3 times). */
export const CONFLICT_ATTEMPTS = 3
/**
 * A single row still in conflict is retried (backing off up to 5 s) this many times, about a minute and a half,
 * before the run stops as failed on it: an app transaction holding a row that long needs a person.
 */
export const SINGLE_ROW_CONFLICT_ATTEMPTS = 20

/** How long the database may stay unreachable before the run gives up (a restart takes seconds, a failover a minute). */
export const DEFAULT_RECONNECT_FOR_MS = 5 * 60_000

export function describeFailure(error: unknown): string {
  const { code, message, detail } = (error ?? {}) as { code?: string; message?: string; detail?: string }
  const text = message ?? String(error)
  return `${text}${code && /^[0-9A-Z]{5}$/.test(code) ? ` (SQLSTATE ${code})` : ''}${detail ? `; ${detail}` : ''}`
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
