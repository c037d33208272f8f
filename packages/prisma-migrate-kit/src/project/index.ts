import { existsSync } from 'node:fs'
import path from 'node:path'
import dotenv from 'dotenv'
import { configFileIn } from './config-names'
import { projectSettingsFields, readProjectSettings } from './settings'

/**
 * Where a project keeps the files the toolkit reads and writes (the README's "Where things live"). The CLI builds it
 * with loadProject (./load.ts) from the project's prisma.config.ts; projectAt is Prisma's default layout.
 */
export interface Project {
  root: string
  /** The Prisma config file the paths came from (absolute); undefined when the project has none. */
  configFile?: string
  /** The schema: one .prisma file, or a folder searched recursively for .prisma files (Prisma's multi-file schema). */
  schemaPath: string
  /** Set when --schema chose the schema: Prisma's commands are given the same flag. */
  schemaFromFlag?: boolean
  migrationsDir: string
  rollbacksDir: string
  backfillsDir: string
  /** The plans of `new --safe`: one <name>.json per split change, committed with the migrations. */
  safeChangesDir: string
  checksDir: string
  /** Local state that is never committed: the embedded database, caches. */
  stateDir: string
  /** package.json "migrateKit.embeddedDatabase": with no URL, development commands may use the embedded PostgreSQL. */
  embeddedDatabase: boolean
  /** package.json "migrateKit.maxLockTimeout" / "maxStatementTimeout", in ms: the limits of lint's timeout-too-long. */
  maxLockTimeoutMs?: number
  maxStatementTimeoutMs?: number
  /** package.json "migrateKit.sizesFrom": the variable holding the URL lint reads table sizes from. */
  sizesFromVariable?: string
  /** The datasource URL the config resolved, and the variable it reads when that variable was not set. */
  datasource?: ProjectDatasource
  /** The config's `tables.external` / `enums.external`, handed to Prisma's engine when migrate-kit calls it itself. */
  schemaFilter?: { externalTables: string[]; externalEnums: string[] }
}

export interface ProjectDatasource {
  url?: string
  /** `env('X')` in the config with X unset: the embedded database, when used, is handed to Prisma through X. */
  unsetVariable?: string
}

/**
 * Prisma's default layout under `root`: prisma/schema.prisma, prisma/migrations, and the config file in `root` (if
 * any) handed to Prisma's commands without being read. The CLI uses loadProject instead, which reads the config.
 */
export function projectAt(root: string): Project {
  const absolute = path.resolve(root)
  return {
    root: absolute,
    configFile: configFileIn(absolute),
    schemaPath: path.join(absolute, 'prisma', 'schema.prisma'),
    migrationsDir: path.join(absolute, 'prisma', 'migrations'),
    rollbacksDir: path.join(absolute, 'rollbacks'),
    backfillsDir: path.join(absolute, 'backfills'),
    safeChangesDir: path.join(absolute, 'safe-changes'),
    checksDir: path.join(absolute, 'prisma', 'checks'),
    stateDir: path.join(absolute, '.migrate-kit'),
    ...projectSettingsFields(readProjectSettings(absolute)),
  }
}

/**
 * A project file as messages, findings and records name it: relative to the project root with forward slashes
 * (`db/migrations/2026…_init/migration.sql`), or absolute when a setting put it outside the root.
 */
export function relativePath(project: Pick<Project, 'root'>, file: string): string {
  const relative = path.relative(project.root, file)
  if (relative.startsWith('..') || path.isAbsolute(relative)) return file
  return relative.split(path.sep).join('/') || '.'
}

/**
 * Loads the project's .env into process.env without overriding what the environment already sets, the same rule
 * prisma.config.ts follows, so our commands and the Prisma CLI see the same DATABASE_URL.
 */
export function loadEnvFile(project: Pick<Project, 'root'>): void {
  const file = path.join(project.root, '.env')
  if (existsSync(file)) dotenv.config({ path: file, quiet: true })
}
