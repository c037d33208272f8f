import { UsageError } from '../errors'
import { loadEnvFile, type Project } from '../project'
import { withConnection } from './connect'
import { startEmbeddedPostgres } from './embedded'
import { assertUrlSchema } from './url-schema'
import { describeTarget, parseDatabaseUrl, type DatabaseTarget } from './url'

/** The database a command works on, and how to let go of it. */
export interface DatabaseHandle {
  url: string
  target: DatabaseTarget
  /** `environment` when DATABASE_URL came from the environment or .env, `embedded` when we started a server. */
  origin: 'environment' | 'embedded'
  close(): Promise<void>
}

/** What a command does with its database: with no URL, only development reads and changes may use the embedded one. */
export type DatabaseUse = 'read' | 'change'

export interface OpenDatabaseOptions {
  /** Prints the one line that says which database is used when it is not the configured one. */
  announce?: (line: string) => void
  /** `change` (deploy, rollback, backfill run, …) is refused the embedded database in CI. Default `read`. */
  use?: DatabaseUse
  /** The environment that says whether this is CI; default process.env. */
  env?: NodeJS.ProcessEnv
}

/** CI as the usual services set it (GitHub Actions, GitLab, CircleCI, Buildkite…: CI=true or CI=1). */
export function runsInCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.CI?.trim().toLowerCase()
  return value !== undefined && value !== '' && value !== 'false' && value !== '0'
}

/**
 * With no URL, the embedded PostgreSQL is a development convenience a project opts into; anywhere else a command
 * would "succeed" on a throwaway database while the real one gets nothing. Refused before anything is created.
 */
function refuseEmbedded(project: Project, variable: string, use: DatabaseUse, env: NodeJS.ProcessEnv): UsageError | undefined {
  const setIt = `Set ${variable} to the database this command is for${variable === 'DATABASE_URL' ? '' : ' (your prisma.config.ts reads it)'}`
  if (!project.embeddedDatabase) {
    return new UsageError(`no database: ${variable} is not set, and this project has not opted in to the embedded PostgreSQL`, {
      hint: `${setIt}; or, for development, opt in: "migrateKit": { "embeddedDatabase": true } in package.json.`,
    })
  }
  if (use === 'change' && runsInCi(env)) {
    return new UsageError(
      `no database: ${variable} is not set, and CI is set: this command changes a database, and the embedded PostgreSQL is for development only`,
      {
        hint: `${setIt} (a CI secret).`,
      },
    )
  }
  return undefined
}

/**
 * The URL the project's Prisma config resolved for its datasource (whatever variable it reads); without a config
 * datasource, DATABASE_URL from the environment or .env; with none, the embedded PostgreSQL under .migrate-kit/ in a
 * project that opted in (never for a change in CI).
 * Either way the connection is tried once, so a wrong URL fails here with a message naming host, port and database.
 */
/** The URL the project's config (or DATABASE_URL) gives, without starting anything; undefined when none is set. */
export function configuredDatabaseUrl(project: Project): string | undefined {
  loadEnvFile(project)
  const variable = project.datasource?.unsetVariable ?? 'DATABASE_URL'
  return (project.datasource?.url ?? process.env[variable])?.trim() || undefined
}

export async function openDatabase(project: Project, options: OpenDatabaseOptions = {}): Promise<DatabaseHandle> {
  loadEnvFile(project)
  const variable = project.datasource?.unsetVariable ?? 'DATABASE_URL'
  const configured = (project.datasource?.url ?? process.env[variable])?.trim()
  if (configured) {
    const target = parseDatabaseUrl(configured)
    await withConnection(configured, (client) => assertUrlSchema(client, configured, variable))
    return { url: configured, target, origin: 'environment', close: () => Promise.resolve() }
  }
  if (configured === '') {
    throw new UsageError(`${variable} is set but empty`, {
      hint: 'Set it to postgresql://user:password@host:port/database, or unset it to use the embedded PostgreSQL.',
    })
  }
  const refusal = refuseEmbedded(project, variable, options.use ?? 'read', options.env ?? process.env)
  if (refusal) throw refusal
  const server = await startEmbeddedPostgres(project)
  const target = parseDatabaseUrl(server.url)
  options.announce?.(`No ${variable} set: using the embedded PostgreSQL (${describeTarget(target)}, data in ${server.dataDir}).`)
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
