import type { DatabaseTarget } from '../../db/url'
import type { EngineErrorData, ScriptFailure } from './types'
import { isWasmTrap } from './webassembly'

/**
 * An error the Prisma CLI knows by its code (P1001, P3014…): it prints the message and acts on the code, exactly as
 * with the native engine (`migrate dev` creates the database on P1003, for instance).
 */
export class PrismaKnownError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly meta: Record<string, unknown> = {},
  ) {
    super(message)
    this.name = 'PrismaKnownError'
  }
}

interface DriverError {
  code?: string
  message?: string
}

/**
 * Turns a failed connection attempt of node-postgres into the user-facing error Prisma's native engine gives for the
 * same cause, with the same code and wording (prisma-engines, user-facing-errors/src/common.rs).
 */
export function connectionFailure(error: unknown, target: DatabaseTarget): PrismaKnownError | undefined {
  const { code, message = '' } = (error ?? {}) as DriverError
  const server = `${target.host}:${target.port}`
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new PrismaKnownError(
        'P1001',
        `Can't reach database server at \`${server}\`\n\nPlease make sure your database server is running at \`${server}\`.`,
        { database_host: target.host, database_port: target.port },
      )
    case '3D000':
      return new PrismaKnownError('P1003', `Database \`${target.database}\` does not exist on the database server at \`${server}\`.`, {
        database_name: target.database,
        database_host: target.host,
        database_port: target.port,
      })
    case '28P01':
      return new PrismaKnownError(
        'P1000',
        `Authentication failed against database server, the provided database credentials for \`${target.user}\` are not valid.\n\nPlease make sure to provide valid database credentials for the database server at the configured address.`,
        { database_user: target.user, database_host: target.host },
      )
    case '28000':
    case '42501':
      return new PrismaKnownError('P1010', `User \`${target.user}\` was denied access on the database \`${target.database}\``, {
        database_user: target.user,
        database_name: target.database,
      })
    case '42P04':
      return new PrismaKnownError('P1009', `Database \`${target.database}\` already exists on the database server at \`${server}\``, {
        database_name: target.database,
        database_host: target.host,
        database_port: target.port,
      })
    default:
      if (code === 'ETIMEDOUT' || /timeout|timed out/i.test(message)) {
        return new PrismaKnownError(
          'P1002',
          `The database server at \`${server}\` was reached but timed out.\n\nPlease try again.\n\nPlease make sure your database server is running at \`${server}\`.`,
          { database_host: target.host, database_port: target.port },
        )
      }
      return undefined
  }
}

/**
 * The engine drives PostgreSQL through node-postgres only. Other providers (and Prisma Postgres' prisma+postgres://)
 * need Prisma's native engine; say so instead of failing on a connection string pg cannot read.
 */
export function assertPostgresUrl(url: string): void {
  let protocol: string
  try {
    protocol = new URL(url).protocol
  } catch {
    throw new Error('The datasource URL is not a valid URL (expected postgresql://user:password@host:port/database).')
  }
  if (protocol !== 'postgresql:' && protocol !== 'postgres:') {
    throw new Error(
      `migrate-kit's schema engine supports PostgreSQL only, and the datasource URL is ${protocol}//…. ` +
        "For other databases unset PRISMA_SCHEMA_ENGINE_BINARY and use Prisma's native engine.",
    )
  }
}

/** Where the errors our adapter threw are kept (the `errorRegistry` of Prisma's error-capturing wrapper). */
export interface AdapterErrorRegistry {
  consumeError(id: number): { error: unknown } | undefined
}

/**
 * An error our adapter throws (a shadow database it cannot create, a shadowDatabaseUrl that is the main database)
 * reaches the engine only as "External error id#N"; the error itself waits in the wrapper's registry. Put its
 * message back in place, and its Prisma code when it has one, so the CLI shows the cause.
 */
export function restoreAdapterErrors(data: EngineErrorData, registry: AdapterErrorRegistry): EngineErrorData {
  let code = data.error_code
  const message = data.message.replace(/External error id#(\d+)/g, (placeholder, id: string) => {
    const record = registry.consumeError(Number(id))
    if (!record) return placeholder
    if (record.error instanceof PrismaKnownError) code ??= record.error.code
    return record.error instanceof Error ? record.error.message : String(record.error)
  })
  return code === undefined ? { ...data, message } : { ...data, message, error_code: code }
}

/** Errors of the WebAssembly engine are JS Errors; user-facing ones carry their Prisma code in `code`. */
interface WasmEngineError {
  message?: unknown
  code?: unknown
  meta?: unknown
}

/**
 * The `data` of a JSON-RPC error in the shape the CLI reads: `error_code` makes it a known error (printed as
 * "P3012 …"), `is_panic` makes it a crash report.
 */
export function toEngineErrorData(error: unknown, panicMessage: string | undefined): EngineErrorData {
  if (isWasmTrap(error)) {
    // A Rust panic surfaces as `unreachable`; the glue put the panic message into the registry just before.
    return { is_panic: true, message: panicMessage || error.message, backtrace: error.stack }
  }
  const { message, code, meta } = (error ?? {}) as WasmEngineError
  const data: EngineErrorData = { is_panic: false, message: typeof message === 'string' ? message : String(error) }
  if (typeof code === 'string' && /^P\d{4}$/.test(code)) data.error_code = code
  if (meta && typeof meta === 'object') data.meta = meta as Record<string, unknown>
  return data
}

/**
 * The WebAssembly engine reports a migration that PostgreSQL refused as "external connector error … Error querying
 * the database: …" without a code. Prisma's native engine reports P3018 with the migration's name and PostgreSQL's
 * error code, and people (and scripts) look for exactly that; the adapter kept the PostgreSQL error, so we can too.
 */
export function failedMigrationError(error: unknown, failure: ScriptFailure | undefined): PrismaKnownError | undefined {
  const { message, code } = (error ?? {}) as WasmEngineError
  if (!failure || code !== undefined || typeof message !== 'string') return undefined
  const migrationName = /migration_name="([^"]+)"/.exec(message)?.[1]
  if (!migrationName) return undefined
  const databaseError = [
    `ERROR: ${failure.message}`,
    failure.detail ? `DETAIL: ${failure.detail}` : '',
    failure.hint ? `HINT: ${failure.hint}` : '',
  ]
    .filter(Boolean)
    .join('\n')
  return new PrismaKnownError(
    'P3018',
    'A migration failed to apply. New migrations cannot be applied before the error is recovered from. Read more ' +
      'about how to resolve migration issues in a production database: https://pris.ly/d/migrate-resolve\n\n' +
      `Migration name: ${migrationName}\n\nDatabase error code: ${failure.code}\n\nDatabase error:\n${databaseError}\n`,
    { migration_name: migrationName, database_error_code: failure.code, database_error: databaseError },
  )
}
