import { existsSync } from 'node:fs'
import path from 'node:path'
import dotenv from 'dotenv'

/** Where a project keeps the files the toolkit reads and writes (DESIGN.md, "Files in a project"). */
export interface Project {
  root: string
  schemaFile: string
  migrationsDir: string
  rollbacksDir: string
  backfillsDir: string
  checksDir: string
  /** Local state that is never committed: the embedded database, caches. */
  stateDir: string
}

export function projectAt(root: string): Project {
  const absolute = path.resolve(root)
  return {
    root: absolute,
    schemaFile: path.join(absolute, 'prisma', 'schema.prisma'),
    migrationsDir: path.join(absolute, 'prisma', 'migrations'),
    rollbacksDir: path.join(absolute, 'rollbacks'),
    backfillsDir: path.join(absolute, 'backfills'),
    checksDir: path.join(absolute, 'prisma', 'checks'),
    stateDir: path.join(absolute, '.migrate-kit'),
  }
}

/**
 * Loads the project's .env into process.env without overriding what the environment already sets, the same rule
 * prisma.config.ts follows, so our commands and the Prisma CLI see the same DATABASE_URL.
 */
export function loadEnvFile(project: Project): void {
  const file = path.join(project.root, '.env')
  if (existsSync(file)) dotenv.config({ path: file, quiet: true })
}
