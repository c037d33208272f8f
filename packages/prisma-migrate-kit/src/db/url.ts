import { quoteIdent } from './quote'
import { UsageError } from '../errors'

/** Where a connection goes, without the secret: safe to print. */
export interface DatabaseTarget {
  host: string
  port: number
  database: string
  user: string
}

const POSTGRES_PROTOCOLS = new Set(['postgres:', 'postgresql:'])

export function parseDatabaseUrl(url: string): DatabaseTarget {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new UsageError('DATABASE_URL is not a valid URL (expected postgresql://user:password@host:port/database)', {
      hint: 'Check DATABASE_URL in the environment or in .env.',
    })
  }
  if (!POSTGRES_PROTOCOLS.has(parsed.protocol)) {
    throw new UsageError(`DATABASE_URL must be a PostgreSQL URL (postgresql://…), not ${parsed.protocol}//…`, {
      hint: 'prisma-migrate-kit supports PostgreSQL only.',
    })
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''))
  const hostParam = parsed.searchParams.get('host')
  return {
    host: parsed.hostname || hostParam || 'localhost',
    port: parsed.port ? Number(parsed.port) : 5432,
    database: database || decodeURIComponent(parsed.username) || 'postgres',
    user: decodeURIComponent(parsed.username) || 'postgres',
  }
}

export function describeTarget(target: DatabaseTarget): string {
  return `database "${target.database}" on ${target.host}:${target.port}`
}

/** The URL with its password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    for (const key of [...parsed.searchParams.keys()]) {
      if (/pass/i.test(key)) parsed.searchParams.set(key, '***')
    }
    return parsed.toString()
  } catch {
    return '<unparseable URL>'
  }
}

/** The same server and credentials, another database (scratch databases, the maintenance database). */
/** `?schema=` of a Prisma URL: the schema Prisma migrates (and keeps _prisma_migrations in); undefined means public. */
export function prismaSchemaOf(url: string): string | undefined {
  try {
    return new URL(url).searchParams.get('schema') || undefined
  } catch {
    return undefined
  }
}

/** The libpq `options` that make a session's search_path the URL's schema, as Prisma's engines set it. */
export function searchPathOptions(url: string): string | undefined {
  const schema = prismaSchemaOf(url)
  return schema === undefined ? undefined : `-c search_path=${quoteIdent(schema).replace(/ /g, '\\ ')}`
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${encodeURIComponent(database)}`
  return parsed.toString()
}

/** Removes a secret from any text that may have been built from the URL (driver and child-process messages). */
/**
 * Every connection URL in the environment cut from a message: the project's config may read its URL from any
 * variable, not only DATABASE_URL.
 */
export function scrubEnvironmentSecrets(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return Object.values(env)
    .filter((value): value is string => typeof value === 'string' && /^postgres(?:ql)?:\/\//i.test(value))
    .reduce((scrubbed, url) => scrubSecrets(scrubbed, url), text)
}

export function scrubSecrets(text: string, url: string | undefined): string {
  if (!url) return text
  let scrubbed = text.split(url).join(redactUrl(url))
  try {
    const password = new URL(url).password
    if (password) {
      scrubbed = scrubbed.split(password).join('***')
      const decoded = decodeURIComponent(password)
      if (decoded !== password) scrubbed = scrubbed.split(decoded).join('***')
    }
  } catch {
    // not a URL: nothing more to scrub
  }
  return scrubbed
}
