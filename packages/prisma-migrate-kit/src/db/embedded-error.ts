import { ConnectionError } from '../errors'

/** Where the embedded server listens: TCP on the loopback address only. */
export const EMBEDDED_HOST = '127.0.0.1'
/** The one application database the embedded server holds. */
export const EMBEDDED_DATABASE = 'app'

const DEFAULT_HINT = 'Fix that, or set DATABASE_URL (in the environment or in .env) to use another PostgreSQL.'

/**
 * The embedded PostgreSQL could not be started or reached. A ConnectionError (exit 2), because to the command it is
 * the same situation as a DATABASE_URL that does not answer: there is no database to work on and nothing was changed.
 */
export class EmbeddedPostgresError extends ConnectionError {
  constructor(reason: string, details: { port?: number; hint?: string; cause?: unknown } = {}) {
    super(
      `cannot start the embedded PostgreSQL: ${reason}`,
      { host: EMBEDDED_HOST, port: details.port ?? 0, database: EMBEDDED_DATABASE },
      { hint: details.hint ?? DEFAULT_HINT, cause: details.cause },
    )
  }
}
