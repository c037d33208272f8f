import { Client, Pool, type ClientBase, type ClientConfig, type PoolConfig } from 'pg'
import { ConnectionError } from '../errors'
import { describeTarget, parseDatabaseUrl, searchPathOptions, type DatabaseTarget } from './url'

/** pg has no connect timeout by default: an unreachable host would hang a command for minutes. */
export const CONNECT_TIMEOUT_MS = 5_000

/**
 * How much longer than its statement_timeout a statement may go without an answer before the connection counts as
 * stalled (the server would have cancelled it by then: the silence is the network's or a frozen server's).
 */
export const STALL_MARGIN_MS = 5_000

/** After how long without an answer a session whose statements run under `statementTimeoutMs` is stalled. */
export const stallLimitMs = (statementTimeoutMs: number): number => statementTimeoutMs + STALL_MARGIN_MS

/** TCP keepalive on every session: a peer that vanished (no reset, no answer) is found by the kernel, not never. */
const KEEPALIVE_IDLE_MS = 10_000

/** pg's error when a query outlived `queryTimeoutMs`. */
const READ_TIMEOUT_MESSAGE = 'Query read timeout'

export interface ConnectOptions {
  /** Shown as application_name in pg_stat_activity, so an operator can tell our sessions apart. */
  applicationName?: string
  /**
   * Client-side bound on every query of the session: past it the query fails as a stalled connection (pg's own
   * "Query read timeout") and the session must be dropped. Unset: a query may wait forever.
   */
  queryTimeoutMs?: number
}

/** How a stall is told, the same by every part that meets one. */
export function stalledConnectionText(afterMs: number): string {
  return `The database did not answer for ${Math.round(afterMs / 1000)} s (a stalled connection: open, but nothing comes back)`
}

/** A query gave up waiting: the session is open but nothing came back (see ConnectOptions.queryTimeoutMs). */
export function isStalledConnection(error: unknown): boolean {
  return error instanceof Error && error.message === READ_TIMEOUT_MESSAGE
}

function baseConfig(url: string, options: ConnectOptions): ClientConfig {
  // `?schema=app`: our sessions see the tables (and _prisma_migrations) where Prisma's engine puts them.
  const searchPath = searchPathOptions(url)
  return {
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_IDLE_MS,
    ...(options.queryTimeoutMs ? { query_timeout: options.queryTimeoutMs } : {}),
    application_name: options.applicationName ?? 'migrate-kit',
    ...(searchPath ? { options: searchPath } : {}),
  }
}

/** Opens one connection, turning every driver failure into a ConnectionError that names host, port and database. */
export async function connect(url: string, options: ConnectOptions = {}): Promise<Client> {
  const target = parseDatabaseUrl(url)
  const client = new Client(baseConfig(url, options))
  // An idle client whose server goes away emits 'error'; without a listener that would crash the process.
  client.on('error', () => undefined)
  try {
    await client.connect()
  } catch (error) {
    await client.end().catch(() => undefined)
    throw toConnectionError(error, target)
  }
  return client
}

/** A pool that never keeps the process alive on its own. */
export function createPool(url: string, options: ConnectOptions & { max?: number } = {}): Pool {
  const config: PoolConfig = {
    ...baseConfig(url, options),
    max: options.max ?? 4,
    idleTimeoutMillis: 1_000,
    allowExitOnIdle: true,
  }
  const pool = new Pool(config)
  pool.on('error', () => undefined)
  return pool
}

/**
 * Closes a session, waiting at most `waitMs` for the server's goodbye: on a stalled path the goodbye never comes, and
 * an unbounded end() would hold the command forever. The socket is then destroyed.
 */
export async function closeClient(client: Client, waitMs = 2_000): Promise<void> {
  const ended = await settledWithin(client.end(), waitMs)
  // pg has no public destroy(); its Connection keeps the socket as `stream`.
  if (!ended) (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy()
}

/** The server process of a session (pg keeps it from the startup message, untyped). */
export function backendPidOf(client: ClientBase): number | undefined {
  const pid = (client as unknown as { processID?: unknown }).processID
  return typeof pid === 'number' ? pid : undefined
}

/** Ends a pool, waiting at most `waitMs` (its sessions' goodbyes may never come on a stalled path). */
export async function closePool(pool: Pool, waitMs = 2_000): Promise<void> {
  await settledWithin(pool.end(), waitMs)
}

/** Whether `work` settled (either way) within `waitMs`. */
async function settledWithin(work: Promise<unknown>, waitMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const settled = await Promise.race([
    work.then(
      () => true,
      () => true,
    ),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), waitMs))),
  ])
  clearTimeout(timer)
  return settled
}

/** Runs fn with a connection and always closes it. */
export async function withConnection<T>(url: string, fn: (client: Client) => Promise<T>, options: ConnectOptions = {}): Promise<T> {
  const client = await connect(url, options)
  try {
    return await fn(client)
  } finally {
    await client.end().catch(() => undefined)
  }
}

interface DriverError {
  code?: string
  message?: string
}

/** A person-readable reason for a failed connection; never includes the URL or a password. */
export function toConnectionError(error: unknown, target: DatabaseTarget): ConnectionError {
  const { code, message = '' } = (error ?? {}) as DriverError
  const where = describeTarget(target)
  const server = `${target.host}:${target.port}`
  let text: string
  let hint: string
  switch (code) {
    case 'ECONNREFUSED':
      text = `cannot connect to ${where}: connection refused (no PostgreSQL listening on ${server})`
      hint = 'Start PostgreSQL, or fix the host and port in DATABASE_URL.'
      break
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      text = `cannot connect to ${where}: host "${target.host}" not found`
      hint = 'Fix the host name in DATABASE_URL.'
      break
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      text = `cannot connect to ${where}: host unreachable`
      hint = 'Check the network path to the server and the host in DATABASE_URL.'
      break
    case '3D000':
      text = `cannot connect to ${where}: database "${target.database}" does not exist`
      hint = `Create it (createdb -h ${target.host} -p ${target.port} ${target.database}) or fix the database name in DATABASE_URL.`
      break
    case '28P01':
    case '28000':
      text = `cannot connect to ${where}: authentication failed for user "${target.user}"`
      hint = 'Check the user and password in DATABASE_URL.'
      break
    case '57P03':
      text = `cannot connect to ${where}: the server is starting up or shutting down`
      hint = 'Wait a moment and run the command again.'
      break
    default:
      if (/timeout/i.test(message)) {
        text = `cannot connect to ${where}: no answer within ${CONNECT_TIMEOUT_MS / 1000} s`
        hint = 'Check that the server is up and that the host and port in DATABASE_URL are right.'
      } else {
        text = `cannot connect to ${where}: ${sanitize(message) || 'unknown error'}`
        hint = 'Check DATABASE_URL.'
      }
  }
  return new ConnectionError(text, target, { hint, cause: error })
}

function sanitize(message: string): string {
  // Driver messages can echo a connection string; cut any URL with credentials out.
  return message.replace(/postgres(?:ql)?:\/\/[^\s]+/gi, '<url>').split('\n')[0] ?? ''
}
