import { PrismaPg } from '@prisma/adapter-pg'
import {
  bindMigrationAwareSqlAdapterFactory,
  ColumnTypeEnum,
  DriverAdapterError,
  type ErrorCapturingSqlMigrationAwareDriverAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils'
import type { Pool } from 'pg'
import { prismaSchemaOf, searchPathOptions } from '../../db/url'
import { assertPostgresUrl } from './errors'
import { charColumnsOf, createEnginePool } from './pool'
import { assertDistinctShadow, emptyDatabase, ShadowDatabases } from './shadow'
import type { DatasourceArg, ScriptFailure } from './types'

/** The database side of one engine process: the adapter factory the WebAssembly engine drives, and its cleanup. */
export interface EngineDatabase {
  /** Bound with Prisma's error-capturing wrapper, as SchemaEngine.new expects; its registry keeps our own errors. */
  factory: ErrorCapturingSqlMigrationAwareDriverAdapterFactory
  shadows: ShadowDatabases
  /** The PostgreSQL error of the last script that failed (a migration), for the error report; cleared by the reader. */
  lastScriptFailure?: ScriptFailure
  /** Closes every pool and drops every shadow database still alive; returns the drops that failed. */
  dispose(): Promise<string[]>
}

interface PostgresDriverError {
  code: string
  severity?: string
  message: string
  detail?: string
  column?: string
  hint?: string
}

function isPostgresError(error: unknown): error is PostgresDriverError {
  const candidate = error as Partial<PostgresDriverError> | null
  return typeof candidate?.code === 'string' && typeof candidate.message === 'string' && /^[0-9A-Z]{5}$/.test(candidate.code)
}

/** SQLSTATE active_sql_transaction: what a script that leaves its transaction open is failed with. */
export const OPEN_TRANSACTION_CODE = '25001'

/**
 * The whole script in ONE simple-query message, as Prisma's native engine sends it: PostgreSQL runs a multi-statement
 * simple query as one implicit transaction, so a migration applies whole or not at all, and `$$` bodies or strings
 * containing `;` reach the server intact. (@prisma/adapter-pg splits on every `;` and runs the pieces one by one.)
 */
async function executeScript(pool: Pool, script: string, onFailure: (failure: ScriptFailure) => void): Promise<void> {
  const client = await pool.connect()
  let failure: PostgresDriverError | undefined
  try {
    await client.query(script)
  } catch (error) {
    if (!isPostgresError(error)) throw error
    failure = error
  } finally {
    // A script with a BEGIN and no COMMIT leaves the session in a transaction block ('T', or 'E' after an error in
    // it). Prisma would record the migration on that same session and report success, and closing it would roll
    // everything back: the table never exists, finished_at stays empty. Roll it back here and fail the migration.
    const status = client.getTransactionStatus()
    if (status === 'T' || status === 'E') {
      await client.query('ROLLBACK').catch(() => undefined)
      failure ??= {
        code: OPEN_TRANSACTION_CODE,
        message: 'the migration script left a transaction open (a BEGIN with no COMMIT): everything it did was rolled back',
        hint: 'Remove BEGIN/COMMIT from migration.sql: Prisma runs each migration in a transaction of its own.',
      }
    }
    client.release()
  }
  if (!failure) return
  onFailure({ code: failure.code, message: failure.message, detail: failure.detail, hint: failure.hint })
  throw new DriverAdapterError({
    kind: 'postgres',
    code: failure.code,
    severity: failure.severity ?? 'ERROR',
    message: failure.message,
    detail: failure.detail,
    column: failure.column,
    hint: failure.hint,
    originalCode: failure.code,
    originalMessage: failure.message,
  })
}

interface AdapterHooks {
  onScriptFailure(failure: ScriptFailure): void
  onDispose?(): Promise<void>
}

async function openAdapter(url: string, hooks: AdapterHooks): Promise<SqlDriverAdapter> {
  // `?schema=`: the engine's namespace, and the session's search_path as the native engine sets it.
  const schema = prismaSchemaOf(url)
  const options = searchPathOptions(url)
  const pool = createEnginePool(url, options ? { options } : {})
  const inner = await new PrismaPg(pool, { schema, disposeExternalPool: true }).connect()
  return {
    provider: inner.provider,
    adapterName: inner.adapterName,
    queryRaw: async (query) => {
      const result = await inner.queryRaw(query)
      // `"char"` columns reach the engine as characters, as from the native engine (it reads contype as a char).
      for (const index of charColumnsOf(pool, result.columnNames)) result.columnTypes[index] = ColumnTypeEnum.Character
      return result
    },
    executeRaw: (query) => inner.executeRaw(query),
    startTransaction: (isolationLevel) => inner.startTransaction(isolationLevel),
    getConnectionInfo: () => inner.getConnectionInfo?.() ?? { schemaName: schema, supportsRelationJoins: true },
    executeScript: (script) => executeScript(pool, script, (failure) => hooks.onScriptFailure(failure)),
    dispose: async () => {
      try {
        await inner.dispose()
      } finally {
        await hooks.onDispose?.()
      }
    },
  }
}

export interface EngineDatabaseOptions {
  /**
   * A database handed to the engine as its shadow database AS IT IS: never emptied, never dropped. A diff whose
   * `from` is an empty migration list then describes this database (the engine applies nothing to it): how
   * migrate-kit diffs two live databases in-process, which the engine's `url` targets no longer allow.
   */
  shadowAsIs?: string
}

/**
 * The adapter factory for the datasource the CLI passed. The main database and the shadow database each get their
 * own single-connection pool; the shadow database is a real separate database (the stock adapter's
 * connectToShadowDb lets the connection string win over the database it sets, so its "shadow" is the main one).
 */
export function createEngineDatabase(datasource: DatasourceArg, options: EngineDatabaseOptions = {}): EngineDatabase {
  const url = datasource.url
  const adapters = new Set<SqlDriverAdapter>()
  const shadows = new ShadowDatabases(url ?? '')

  const track = (adapter: SqlDriverAdapter): SqlDriverAdapter => {
    adapters.add(adapter)
    const dispose = adapter.dispose.bind(adapter)
    adapter.dispose = async () => {
      adapters.delete(adapter)
      await dispose()
    }
    return adapter
  }

  const requireUrl = (): string => {
    if (!url) {
      throw new Error(
        'No datasource URL was passed to the schema engine. Set `datasource.url` in prisma.config.ts (for example ' +
          "url: env('DATABASE_URL')) and DATABASE_URL in the environment or .env.",
      )
    }
    assertPostgresUrl(url)
    return url
  }

  const onScriptFailure = (failure: ScriptFailure) => {
    database.lastScriptFailure = failure
  }

  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: 'postgres',
    adapterName: '@prisma/adapter-pg',
    connect: async () => track(await openAdapter(requireUrl(), { onScriptFailure })),
    connectToShadowDb: async () => {
      const mainUrl = requireUrl()
      if (options.shadowAsIs) return track(await openAdapter(options.shadowAsIs, { onScriptFailure }))
      if (datasource.shadowDatabaseUrl) {
        assertDistinctShadow(mainUrl, datasource.shadowDatabaseUrl)
        await emptyDatabase(datasource.shadowDatabaseUrl)
        return track(await openAdapter(datasource.shadowDatabaseUrl, { onScriptFailure }))
      }
      const shadow = await shadows.create()
      return track(await openAdapter(shadow.url, { onScriptFailure, onDispose: () => shadows.drop(shadow.name) }))
    },
  }

  const database: EngineDatabase = {
    factory: bindMigrationAwareSqlAdapterFactory(factory),
    shadows,
    dispose: async () => {
      for (const adapter of [...adapters]) await adapter.dispose().catch(() => undefined)
      return shadows.dropAll()
    },
  }
  return database
}
