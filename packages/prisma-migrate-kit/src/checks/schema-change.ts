import { performance } from 'node:perf_hooks'
import { runPrisma } from '../prisma/cli'
import { listMigrations } from '../prisma/migrations'
import type { Project } from '../project'
import { stageMigrations } from '../rollback/staging'
import { NO_DIFFERENCE, SILENT_DIFF, summaryLines } from './drift'

export interface SchemaChangeResult {
  /** `changed`: the Prisma schema asks for something no migration makes (the diff `migrate dev` would write). */
  status: 'none' | 'changed' | 'error'
  /** Every migration on disk, pending ones included: what a deploy would build. */
  migrations: number
  /** Prisma's summary of what the schema has that the migrations do not build (`[+] Added column \`x\``). */
  differences: string[]
  /** Prisma's own words when the diff could not be made. */
  error?: string
  seconds: number
}

/**
 * A schema change with no migration, by Prisma's own diff: `prisma migrate diff --from-migrations <every migration>
 * --to-schema <the project's schema> --exit-code`, the comparison `migrate dev` makes before it writes a migration
 * (exit 2: they differ). Prisma replays the migrations in a shadow database next to `databaseUrl`; the database itself
 * is not read.
 */
export async function detectSchemaChange(project: Project, databaseUrl: string): Promise<SchemaChangeResult> {
  const started = performance.now()
  const migrations = listMigrations(project)
  const staged = stageMigrations(project, migrations, 'schema')
  try {
    const result = await runPrisma(
      project,
      ['migrate', 'diff', '--from-migrations', staged.dir, '--to-schema', project.schemaPath, '--exit-code'],
      {
        databaseUrl,
      },
    )
    const seconds = (performance.now() - started) / 1000
    const base = { migrations: migrations.length, seconds }
    if (result.code === 0 && NO_DIFFERENCE.test(result.stdout)) return { status: 'none', differences: [], ...base }
    if (result.code === 0) return { status: 'error', differences: [], error: SILENT_DIFF, ...base }
    if (result.code === 2) return { status: 'changed', differences: summaryLines(result.stdout), ...base }
    const error = (result.stderr.trim() || result.stdout.trim())
      .split('\n')
      .filter((line) => !/^Loaded Prisma config/.test(line))
      .slice(-10)
      .join('\n')
    return { status: 'error', differences: [], error: `prisma migrate diff exited ${result.code}: ${error}`, ...base }
  } finally {
    staged.remove()
  }
}
