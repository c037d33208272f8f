import { UsageError } from '../errors'
import { loadEnvFile, type Project } from '../project'
import { withConnection } from './connect'
import { startEmbeddedPostgres } from './embedded'
import { describeTarget, parseDatabaseUrl, type DatabaseTarget } from './url'

/** The database a command works on, and how to let go of it. */
export interface DatabaseHandle {
  url: string
  target: DatabaseTarget
  /** `environment` when DATABASE_URL came from the environment or .env, `embedded` when we started a server. */
  origin: 'environment' | 'embedded'
  close(): Promise<void>
}

export interface OpenDatabaseOptions {
  /** Prints the one line that says which database is used when it is not the configured one. */
  announce?: (line: string) => void
}

/**
 * The URL the project's Prisma config resolved for its datasource (whatever variable it reads); without a config
 * datasource, DATABASE_URL from the environment or .env; with none, the embedded PostgreSQL under .migrate-kit/.
 * Either way the connection is tried once, so a wrong URL fails here with a message naming host, port and database.
 */
export async function openDatabase(project: Project, options: OpenDatabaseOptions = {}): Promise<DatabaseHandle> {
  loadEnvFile(project)
  const variable = project.datasource?.unsetVariable ?? 'DATABASE_URL'
  const configured = (project.datasource?.url ?? process.env[variable])?.trim()
  if (configured) {
    const target = parseDatabaseUrl(configured)
    await withConnection(configured, async () => undefined)
    return { url: configured, target, origin: 'environment', close: async () => undefined }
  }
  if (configured === '') {
    throw new UsageError(`${variable} is set but empty`, {
      hint: 'Set it to postgresql://user:password@host:port/database, or unset it to use the embedded PostgreSQL.',
    })
  }
  const server = await startEmbeddedPostgres(project)
  const target = parseDatabaseUrl(server.url)
  options.announce?.(
    `No ${variable} set: using the embedded PostgreSQL (${describeTarget(target)}, data in ${server.dataDir}).`,
  )
  // Child processes (the Prisma CLI through the project's config, backfill runners) find the same server through
  // the environment: the variable the config reads, and DATABASE_URL.
  const variables = [...new Set([variable, 'DATABASE_URL'])]
  for (const name of variables) process.env[name] = server.url
  return {
    url: server.url,
    target,
    origin: 'embedded',
    close: async () => {
      for (const name of variables) if (process.env[name] === server.url) delete process.env[name]
      await server.stop()
    },
  }
}
