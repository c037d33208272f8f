import type { Client } from 'pg'
import { UsageError } from '../errors'
import { describeTarget, parseDatabaseUrl, prismaSchemaOf } from './url'

/**
 * `?schema=` naming a schema the database does not have, while Prisma's history lives in another one, is a typo or
 * the wrong database: status would call every migration pending, deploy would build a second copy of the app, and
 * generated rollbacks would name the wrong schema. Refused (exit 2) before anything runs. A database with no Prisma
 * history at all is a first deploy: Prisma's engine creates the schema.
 */
export async function assertUrlSchema(client: Client, url: string, variable = 'DATABASE_URL'): Promise<void> {
  const schema = prismaSchemaOf(url)
  if (schema === undefined) return
  const { rows } = await client.query<{ present: boolean; histories: string[] }>(
    `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS present,
            ARRAY(SELECT n.nspname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE c.relname = '_prisma_migrations' AND c.relkind IN ('r', 'p') ORDER BY 1) AS histories`,
    [schema],
  )
  const { present, histories } = rows[0] ?? { present: true, histories: [] }
  if (present || histories.length === 0) return
  const where = describeTarget(parseDatabaseUrl(url))
  throw new UsageError(
    `schema "${schema}" (?schema= in ${variable}) does not exist in ${where}, whose Prisma migration history is in schema ${histories.map((name) => `"${name}"`).join(', ')}`,
    { hint: `Fix ?schema= in ${variable} (Prisma's default is public); nothing was read or changed.` },
  )
}
