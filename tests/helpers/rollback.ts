import { Client } from 'pg'
import { captureSchema, type SchemaSnapshot } from '../../packages/prisma-migrate-kit/src/rollback/snapshot'
import type { TestDatabase } from './database'
import type { TempProject } from './project'

/** The app's schema of a test database, as verify-rollbacks sees it. */
export async function schemaOf(db: TestDatabase): Promise<SchemaSnapshot> {
  const client = new Client({ connectionString: db.url })
  await client.connect()
  try {
    return await captureSchema(client)
  } finally {
    await client.end()
  }
}

export interface PrismaRow {
  id: string
  migration_name: string
  checksum: string
  finished: boolean
  rolled_back: boolean
}

/** _prisma_migrations as Prisma wrote it, oldest first. */
export async function prismaRows(db: TestDatabase): Promise<PrismaRow[]> {
  return db.query<PrismaRow & Record<string, unknown>>(
    `SELECT id, migration_name, checksum, finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back
       FROM _prisma_migrations ORDER BY started_at, migration_name`,
  )
}

/** A migration folder and (optionally) its rollback, written by hand: Prisma deploys it like any other. */
export function addMigration(project: TempProject, name: string, sql: string, rollback?: string): void {
  project.write(`prisma/migrations/${name}/migration.sql`, sql)
  if (rollback !== undefined) project.write(`rollbacks/${name}/rollback.sql`, rollback)
}

/** Every line of a text that contains all the fragments. */
export function linesWith(text: string, ...fragments: string[]): string[] {
  return text.split('\n').filter((line) => fragments.every((fragment) => line.includes(fragment)))
}
