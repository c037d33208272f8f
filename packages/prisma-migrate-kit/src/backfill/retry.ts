/**
 * What a failed batch means for the run:
 * - connection: the session is gone (network, server restart, pg_terminate_backend) or stalled (open, silent past
 *   its statement_timeout). Nothing of the batch is known to have committed (the ledger says, on the next claim);
 *   reconnect with backoff and carry on. Never counted against the range.
 * - conflict: the batch met the app (lock_timeout, deadlock, serialization, statement_timeout). Retry the range a few
 *   times, then halve it: a smaller batch holds fewer locks for less time.
 * - data: PostgreSQL refuses a row (a CHECK, a unique key, a cast, a trigger's RAISE), also when it comes through
 *   Prisma Client. Retrying cannot help; halve the range until the one failing row is found.
 * - code: anything else: an exception thrown by process() or by a library it calls, a statement naming a column that
 *   does not exist, a permission. It is not about one row: halving would blame a healthy one. Stop the run at once.
 */
export type FailureKind = 'connection' | 'conflict' | 'data' | 'code'

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
/**
 * SQLSTATE classes that speak of the rows: 22 data exception, 23 integrity constraint violation, 27 triggered data
 * change, 2F / 38 / 39 errors of functions called on the rows, 44 WITH CHECK OPTION, 54 a row too big for an index,
 * P0 a RAISE in a trigger or function.
 */
const DATA_CLASSES = new Set(['22', '23', '27', '2F', '38', '39', '44', '54', 'P0'])
const SOCKET_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'])
/** Prisma Client's codes for a lost connection (P1001 not reachable, P1008 timeout, P1017 closed) and a write conflict. */
const PRISMA_CONNECTION_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017'])
const PRISMA_CONFLICT_CODES = new Set(['P2034'])

interface ErrorShape {
  code?: unknown
  message?: unknown
  detail?: unknown
  clientVersion?: unknown
  meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } }
}

/** Prisma Client's errors carry its version; their `code` is Prisma's (P2039), not an SQLSTATE. */
function isPrismaError(error: ErrorShape): boolean {
  return typeof error.clientVersion === 'string'
}

/** The SQLSTATE of a PostgreSQL error, reached directly (pg) or through Prisma Client's driver adapter. */
export function sqlStateOf(error: unknown): string | undefined {
  const shape = (error ?? {}) as ErrorShape
  const code = isPrismaError(shape) ? shape.meta?.driverAdapterError?.cause?.originalCode : shape.code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}

export function classifyFailure(error: unknown): FailureKind {
  const shape = (error ?? {}) as ErrorShape
  const message = typeof shape.message === 'string' ? shape.message : ''
  const state = sqlStateOf(error)
  const code = typeof shape.code === 'string' ? shape.code : undefined
  if (state && CONNECTION_CODES.has(state)) return 'connection'
  if (code && SOCKET_CODES.has(code)) return 'connection'
  if (isPrismaError(shape) && code && PRISMA_CONNECTION_CODES.has(code)) return 'connection'
  if (state && CONFLICT_CODES.has(state)) return 'conflict'
  if (isPrismaError(shape) && code && PRISMA_CONFLICT_CODES.has(code)) return 'conflict'
  if (
    /Connection terminated|terminating connection|Query read timeout|Client has encountered a connection error|Client was closed|not queryable|timeout exceeded when trying to connect|Connection ended|cannot connect/i.test(
      message,
    )
  ) {
    return 'connection'
  }
  if (state && DATA_CLASSES.has(state.slice(0, 2))) return 'data'
  return 'code'
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

/**
 * The error's own message: `message (SQLSTATE 23514); detail` for PostgreSQL's, Prisma Client's as it formats it, and
 * `TypeError: message` for a code error of another class than Error. `short`: the last line only (Prisma's messages
 * start with a code frame), for a notice repeated per batch. `detail: false` leaves PostgreSQL's DETAIL out: for a
 * failing row it holds the row's values (`Failing row contains (…)`, `Key (email)=(…)`), often personal data.
 */
export function describeFailure(error: unknown, options: { short?: boolean; detail?: boolean } = {}): string {
  const shape = (error ?? {}) as ErrorShape
  let text = (typeof shape.message === 'string' ? shape.message : String(error)).trim()
  if (
    error instanceof Error &&
    error.name !== 'Error' &&
    !isPrismaError(shape) &&
    sqlStateOf(error) === undefined &&
    !text.startsWith(error.name)
  ) {
    text = `${error.name}: ${text}`
  }
  if (options.short) text = lastLine(text)
  const state = isPrismaError(shape) ? undefined : sqlStateOf(error)
  const detail = options.detail !== false && typeof shape.detail === 'string' && shape.detail ? `; ${shape.detail}` : ''
  return `${text}${state ? ` (SQLSTATE ${state})` : ''}${detail}`
}

function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
  return lines[lines.length - 1] ?? text
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Said where PostgreSQL's DETAIL of a failure was left out: that it was, and how to keep it. */
export function withheldDetail(error: unknown, kept: boolean): string {
  const { detail } = (error ?? {}) as ErrorShape
  return !kept && typeof detail === 'string' && detail
    ? " (PostgreSQL's DETAIL, which may hold the row's values, is not kept: --keep-error-detail keeps it)"
    : ''
}
