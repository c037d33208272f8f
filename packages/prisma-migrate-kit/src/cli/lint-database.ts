import { connect } from '../db/connect'
import { serverMajorVersion, tableSizeLookup } from '../db/table-sizes'
import { describeTarget, parseDatabaseUrl, prismaSchemaOf } from '../db/url'
import { errorMessage } from '../errors'
import type { TableSizeReader } from '../lint/measure'
import type { Project } from '../project'

/** What lint and check learn from a database before linting: the server's version, and table sizes when asked. */
export interface LintDatabase {
  postgresVersion?: number
  sizes?: TableSizeReader
  /** Lines for stderr: where the version and sizes came from, or why they are unknown. */
  notes: string[]
  close(): Promise<void>
}

export interface LintDatabaseOptions {
  /** `--sizes-from <url>`: the database whose table sizes set the findings' levels (production or a replica). */
  sizesFrom?: string
  /** The project's own database, asked for its version when no sizes database is named (undefined: none). */
  projectUrl?: string
}

const NONE: LintDatabase = { notes: [], close: () => Promise.resolve() }

/**
 * Sizes come only from a database named for them (`--sizes-from`, or the variable package.json's
 * "migrateKit.sizesFrom" names): a CI or development database is nearly empty, and sizing by it would turn every
 * finding into a warning. The server version comes from that database, else from the project's own (when set).
 * A sizes database that cannot be reached is refused (exit 2, ConnectionError); the project's own only said.
 */
export async function openLintDatabase(project: Project, options: LintDatabaseOptions): Promise<LintDatabase> {
  const variable = project.sizesFromVariable
  const sizesUrl = options.sizesFrom ?? (variable ? process.env[variable]?.trim() || undefined : undefined)
  const notes: string[] = []
  if (!sizesUrl && variable && options.sizesFrom === undefined) {
    notes.push(`Table sizes unknown: ${variable} (package.json "migrateKit.sizesFrom") is not set, so findings keep their rules' levels.`)
  }
  if (sizesUrl) {
    const client = await connect(sizesUrl, { applicationName: 'migrate-kit lint (table sizes)' })
    try {
      const postgresVersion = await serverMajorVersion(client)
      const schema = prismaSchemaOf(sizesUrl) ?? 'public'
      notes.push(`Table sizes and PostgreSQL ${postgresVersion} from ${describeTarget(parseDatabaseUrl(sizesUrl))}.`)
      return { postgresVersion, sizes: (tables) => tableSizeLookup(client, tables, schema), notes, close: () => client.end() }
    } catch (error) {
      await client.end().catch(() => undefined)
      throw error
    }
  }
  const url = options.projectUrl
  if (!url) return { ...NONE, notes }
  try {
    const client = await connect(url, { applicationName: 'migrate-kit lint' })
    try {
      return { postgresVersion: await serverMajorVersion(client), notes, close: () => Promise.resolve() }
    } finally {
      await client.end().catch(() => undefined)
    }
  } catch (error) {
    notes.push(`PostgreSQL version unknown (${errorMessage(error)}): the rules of the default version apply; --postgres-version sets it.`)
    return { ...NONE, notes }
  }
}
