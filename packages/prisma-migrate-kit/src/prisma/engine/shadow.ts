import { randomUUID } from 'node:crypto'
import { withConnection } from '../../db/connect'
import { quoteIdent } from '../../db/quote'
import { describeTarget, parseDatabaseUrl, withDatabase } from '../../db/url'
import { errorMessage } from '../../errors'
import { PrismaKnownError } from './errors'
import { logLine } from './log'

/** The name Prisma's native engine gives the temporary shadow databases it creates; we keep it so operators (and
 * our tests) find leftovers the same way. */
export const SHADOW_DATABASE_PREFIX = 'prisma_migrate_shadow_db_'

const SYNTAX_ERROR = '42601'

/**
 * The temporary shadow databases of one engine process. Each is dropped when the engine disposes of it, and every
 * one still alive is dropped before a request is answered and when the process ends, so none outlives a command.
 */
export class ShadowDatabases {
  private readonly live = new Set<string>()

  constructor(private readonly mainUrl: string) {}

  /** Creates `prisma_migrate_shadow_db_<uuid>` on the main database's server and returns its URL. */
  async create(): Promise<{ name: string; url: string }> {
    const name = `${SHADOW_DATABASE_PREFIX}${randomUUID()}`
    try {
      await withConnection(this.mainUrl, (client) => client.query(`CREATE DATABASE ${quoteIdent(name)}`), {
        applicationName: 'migrate-kit-schema-engine',
      })
    } catch (error) {
      throw new PrismaKnownError(
        'P3014',
        'Prisma Migrate could not create the shadow database. Please make sure the database user has permission to ' +
          'create databases (CREATEDB), or set `shadowDatabaseUrl` in the datasource of prisma.config.ts to an ' +
          `existing empty database. Read more about the shadow database at https://pris.ly/d/migrate-shadow\n\nOriginal error: ${errorMessage(error)}`,
      )
    }
    this.live.add(name)
    logLine('INFO', { message: `Created shadow database ${name}`, shadow_database: name })
    return { name, url: withDatabase(this.mainUrl, name) }
  }

  /**
   * WITH (FORCE) ends sessions still connected (a pool the engine did not close), which a plain DROP would wait
   * for or fail on. PostgreSQL before 13 lacks it: end the sessions by hand there.
   */
  async drop(name: string): Promise<void> {
    await withConnection(
      this.mainUrl,
      async (client) => {
        try {
          await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`)
        } catch (error) {
          if ((error as { code?: string }).code !== SYNTAX_ERROR) throw error
          await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name])
          await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`)
        }
      },
      { applicationName: 'migrate-kit-schema-engine' },
    )
    this.live.delete(name)
    logLine('INFO', { message: `Dropped shadow database ${name}`, shadow_database: name })
  }

  /** Drops every shadow database this process created and has not dropped yet; reports the ones that failed. */
  async dropAll(): Promise<string[]> {
    const failures: string[] = []
    for (const name of [...this.live]) {
      await this.drop(name).catch((error: unknown) => failures.push(`${name}: ${errorMessage(error)}`))
    }
    return failures
  }

  get count(): number {
    return this.live.size
  }
}

/**
 * A configured shadowDatabaseUrl must point to another database than the main one: the engine empties it.
 * Prisma's native engine refuses the same case.
 */
export function assertDistinctShadow(mainUrl: string, shadowUrl: string): void {
  const main = parseDatabaseUrl(mainUrl)
  const shadow = parseDatabaseUrl(shadowUrl)
  if (main.host === shadow.host && main.port === shadow.port && main.database === shadow.database) {
    throw new Error(
      `The shadow database you configured appears to be the same as the main database (${describeTarget(main)}). ` +
        'Point shadowDatabaseUrl in prisma.config.ts to another, disposable database.',
    )
  }
}

/**
 * The WebAssembly engine does not wipe a configured shadow database between uses (the second `migrate dev` fails
 * with P3006 "… already exists"), so we empty it first: every schema that is not PostgreSQL's own, then a fresh
 * `public`.
 */
export async function emptyDatabase(url: string): Promise<void> {
  await withConnection(
    url,
    (client) =>
      client.query(`
        DO $empty$
        DECLARE owned record;
        BEGIN
          FOR owned IN
            SELECT nspname FROM pg_namespace
             WHERE nspname <> 'information_schema' AND nspname NOT LIKE 'pg\\_%'
          LOOP
            EXECUTE format('DROP SCHEMA %I CASCADE', owned.nspname);
          END LOOP;
        END
        $empty$;
        CREATE SCHEMA IF NOT EXISTS public;`),
    { applicationName: 'migrate-kit-schema-engine' },
  )
}
