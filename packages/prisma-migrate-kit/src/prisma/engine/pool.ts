import { createRequire } from 'node:module'
import type { ClientConfig, Pool, PoolClient, PoolConfig } from 'pg'
import { ENGINE_APPLICATION_NAME, LOCK_TIMEOUT_VARIABLE } from '../../offline-engine'
import { CONNECT_TIMEOUT_MS } from '../../db/connect'

type PgModule = typeof import('pg')

let pgModule: PgModule | undefined

/**
 * pg as @prisma/adapter-pg sees it. The adapter only treats what we hand it as an external pool when it is an
 * instance of ITS pg's Pool class; loading pg from the adapter's own location makes that hold even when a project
 * ends up with two copies of pg.
 */
export function adapterPg(): PgModule {
  pgModule ??= createRequire(require.resolve('@prisma/adapter-pg'))('pg') as PgModule
  return pgModule
}

/** PostgreSQL's one-byte internal type `"char"` (pg_class.relkind, pg_constraint.contype…). */
const CHAR_OID = 18
const TEXT_OID = 25

interface RowDescriptionMessage {
  fields: Array<{ name: string; dataTypeID: number }>
}

/** The `"char"` columns of the latest result on a pool's connection, by column name list. */
export interface CharColumns {
  names: string[]
  indexes: number[]
}

const charColumnsByPool = new WeakMap<Pool, CharColumns>()

/**
 * Which columns of a result just read through this pool were PostgreSQL `"char"`. The engine reads them as chars
 * (pg_constraint.contype: 'c' for a CHECK), as Prisma's native engine delivers them; @prisma/adapter-pg cannot say so
 * itself. Matched by the column names, so a result without a row description never picks up a stale one.
 */
export function charColumnsOf(pool: Pool, columnNames: string[]): number[] {
  const latest = charColumnsByPool.get(pool)
  if (!latest || latest.names.length !== columnNames.length) return []
  return latest.names.every((name, index) => name === columnNames[index]) ? latest.indexes : []
}

/**
 * @prisma/adapter-pg refuses result columns of type `"char"` ("Column type 'char' could not be deserialized"), and
 * the engine's catalog queries return several. Their text values are one-character strings, so the adapter reads them
 * as text; the row description is rewritten before the client parses it (every query path of the adapter), and the
 * positions are remembered so the adapter wrapper can report them as characters (see charColumnsOf).
 */
function describeCharColumnsAsText(pool: Pool, client: PoolClient): void {
  client.connection.prependListener('rowDescription', (message: RowDescriptionMessage) => {
    const indexes: number[] = []
    message.fields.forEach((field, index) => {
      if (field.dataTypeID !== CHAR_OID) return
      field.dataTypeID = TEXT_OID
      indexes.push(index)
    })
    charColumnsByPool.set(pool, { names: message.fields.map((field) => field.name), indexes })
  })
}

/**
 * pg-pool uses connectionTimeoutMillis both for opening a connection and for waiting for a free one; with a single
 * connection a long migration would make the next queued query time out. The client alone gets the timeout, so an
 * unreachable server still fails fast while queued work waits as long as it must. `prepare` runs on the new session
 * before the pool hands it out (a query queued from the pool's 'connect' event would run beside the engine's first).
 */
function clientWithConnectTimeout(pg: PgModule, prepare: (client: InstanceType<PgModule['Client']>) => Promise<void>): typeof pg.Client {
  return class extends pg.Client {
    constructor(config?: string | ClientConfig) {
      super({ ...(typeof config === 'string' ? { connectionString: config } : config), connectionTimeoutMillis: CONNECT_TIMEOUT_MS })
    }

    override connect(): Promise<InstanceType<PgModule['Client']>>
    override connect(callback: ConnectCallback): void
    override connect(callback?: ConnectCallback): Promise<InstanceType<PgModule['Client']>> | void {
      const connected = super.connect().then(async () => {
        await prepare(this)
        return this
      })
      if (!callback) return connected
      connected.then(
        (client) => (callback as (error: null, client: InstanceType<PgModule['Client']>) => void)(null, client),
        (error: Error) => (callback as (error: Error) => void)(error),
      )
    }
  }
}

type ConnectCallback = ((error: Error) => void) | ((error: null, client: InstanceType<PgModule['Client']>) => void)

/** How often the server checks that the engine is still there while a statement runs (ms). */
const CLIENT_CHECK_INTERVAL_MS = 2_000

/**
 * The pool the engine works through. One connection, like Prisma's native engine: the engine takes a session-level
 * advisory lock (pg_advisory_lock(72707369)) and expects later statements in that same session; with more
 * connections a second lock request could wait forever on a lock the pool's other connection holds.
 * allowExitOnIdle: an idle pool never keeps the process alive (pg's idle timer otherwise adds ≈10 s per command).
 */
export function createEnginePool(url: string, extra: PoolConfig = {}): Pool {
  const pg = adapterPg()
  const pool = new pg.Pool({
    connectionString: url,
    max: 1,
    Client: clientWithConnectTimeout(pg, prepareSession),
    idleTimeoutMillis: 1_000,
    allowExitOnIdle: true,
    application_name: ENGINE_APPLICATION_NAME,
    ...extra,
  })
  pool.on('connect', (client: PoolClient) => describeCharColumnsAsText(pool, client))
  // An idle connection whose server goes away emits 'error'; without a listener that would crash the engine.
  pool.on('error', () => undefined)
  return pool
}

/**
 * Settings of every engine session, made before its first statement. A migration whose engine died (its migrate-kit
 * killed) must not go on, or commit, on the server with nobody to record it: PostgreSQL 14+ then checks the client
 * every 2 s even while a statement runs or waits for a lock, and ends the session (its transaction rolls back). Older
 * servers do not know the setting: the condition keeps set_config from being called there.
 */
async function prepareSession(client: InstanceType<PgModule['Client']>): Promise<void> {
  await client
    .query(
      `SELECT set_config('client_connection_check_interval', '${CLIENT_CHECK_INTERVAL_MS}', false) WHERE current_setting('server_version_num')::int >= 140000`,
    )
    .catch(() => undefined)
  // `deploy --lock-timeout`: a migration that would queue every reader of a table behind its lock gives up instead.
  const lockTimeoutMs = Number(process.env[LOCK_TIMEOUT_VARIABLE])
  if (Number.isInteger(lockTimeoutMs) && lockTimeoutMs > 0) {
    await client.query(`SELECT set_config('lock_timeout', '${lockTimeoutMs}ms', false)`).catch(() => undefined)
  }
}
