import path from 'node:path'
import pg, { type PoolClient, type QueryResult } from 'pg'
import type { PrismaClientClass } from './definition'

/**
 * Prisma Client inside process(rows, tx). Prisma 7 talks to PostgreSQL through a driver adapter; @prisma/adapter-pg
 * accepts a pg.Pool and sends every query through pool.query() (or, for a $transaction, a client from
 * pool.connect()). We hand it a pg.Pool whose query() and connect() always use the batch transaction's connection:
 * Prisma's queries then run inside the batch, commit with its range or roll back with it.
 *
 * A $transaction inside process() must not end the batch: its BEGIN / COMMIT / ROLLBACK become SAVEPOINT / RELEASE /
 * ROLLBACK TO on that connection, so it stays atomic within the batch.
 */

interface QueryConfigLike {
  text?: string
}

type DisposableClient = { $disconnect?: () => Promise<void> }

const EMPTY_RESULT: QueryResult = { command: 'SET', rowCount: 0, oid: 0, rows: [], fields: [] }

let savepoints = 0

/** A connection whose transaction-control statements act on a savepoint of the outer (batch) transaction. */
function savepointClient(client: PoolClient): PoolClient {
  const name = `mk_prisma_${++savepoints}`
  const query = async (config: string | QueryConfigLike, values?: unknown[]): Promise<QueryResult> => {
    const text = (typeof config === 'string' ? config : (config.text ?? '')).trim().replace(/;$/, '').toUpperCase()
    if (text === 'BEGIN') return client.query(`SAVEPOINT ${name}`)
    if (text === 'COMMIT') return client.query(`RELEASE SAVEPOINT ${name}`)
    if (text === 'ROLLBACK') {
      await client.query(`ROLLBACK TO SAVEPOINT ${name}`)
      return client.query(`RELEASE SAVEPOINT ${name}`)
    }
    // The isolation level is the batch's; PostgreSQL refuses to change it once the transaction has run a query.
    if (text.startsWith('SET TRANSACTION')) return EMPTY_RESULT
    return (client.query as (config: unknown, values?: unknown[]) => Promise<QueryResult>)(config, values)
  }
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'query') return query
      // The adapter "releases" its transaction connection; the batch owns it.
      if (property === 'release') return () => undefined
      const value: unknown = Reflect.get(target, property, receiver)
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    },
  })
}

/** Fails loudly if Prisma's adapter would not see our pool as a pool (it would then open its own connections). */
function checkSamePg(): void {
  const adapterDir = path.dirname(require.resolve('@prisma/adapter-pg'))
  const adapterPg = require.resolve('pg', { paths: [adapterDir] })
  if (adapterPg !== require.resolve('pg')) {
    throw new Error(
      `@prisma/adapter-pg uses another copy of pg (${adapterPg}) than prisma-migrate-kit (${require.resolve('pg')}): Prisma Client would not join the batch transaction. Run \`npm dedupe pg\`.`,
    )
  }
}

/**
 * One per worker: the pool-shaped handle Prisma is given, pointed at the current batch's connection, and the Prisma
 * Clients made on it (one per generated client class, reused across batches).
 */
export class PrismaBinding {
  private current: PoolClient | undefined
  private readonly pool: pg.Pool
  private readonly clients = new Map<unknown, unknown>()

  constructor() {
    this.pool = new pg.Pool({ max: 1 })
    const bound = (): PoolClient => {
      if (!this.current) {
        throw new Error('a Prisma Client from tx.prisma() was used outside its batch: use it only inside process(rows, tx)')
      }
      return this.current
    }
    // Instance properties, not a subclass: the adapter checks `instanceof pg.Pool`, and pg.Pool's overloads cannot be
    // re-declared type-safely in a subclass.
    this.pool.query = ((config: unknown, values?: unknown[]) =>
      (bound().query as (config: unknown, values?: unknown[]) => Promise<QueryResult>)(config, values)) as pg.Pool['query']
    this.pool.connect = (() => Promise.resolve(savepointClient(bound()))) as pg.Pool['connect']
    this.pool.end = () => Promise.resolve()
  }

  bind(client: PoolClient): void {
    this.current = client
  }

  unbind(): void {
    this.current = undefined
  }

  // async without an await: a refusal (checkSamePg) reaches the caller as a rejected promise, as the type says.
  // eslint-disable-next-line @typescript-eslint/require-await
  async client<Client>(PrismaClient: PrismaClientClass<Client>): Promise<Client> {
    const existing = this.clients.get(PrismaClient)
    if (existing) return existing as Client
    checkSamePg()
    // Loaded only when a backfill uses Prisma Client: most never do, and the adapter is the user's dependency.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { PrismaPg } = require('@prisma/adapter-pg') as typeof import('@prisma/adapter-pg')
    const adapter = new PrismaPg(this.pool)
    const created = new (PrismaClient as unknown as new (options: { adapter: unknown }) => Client)({ adapter })
    this.clients.set(PrismaClient, created)
    return created
  }

  async dispose(): Promise<void> {
    this.current = undefined
    for (const client of this.clients.values()) await (client as DisposableClient).$disconnect?.().catch(() => undefined)
    this.clients.clear()
  }
}
