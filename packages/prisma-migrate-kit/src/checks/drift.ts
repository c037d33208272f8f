import { performance } from 'node:perf_hooks'
import { runPrisma } from '../prisma/cli'
import type { MigrationOnDisk } from '../prisma/migrations'
import type { Project } from '../project'
import { DEPLOY_URL_VARIABLE, writeDeployConfig } from '../rollback/deploy-config'
import { stageMigrations } from '../rollback/staging'

export interface DriftResult {
  status: 'none' | 'drift' | 'error'
  /** The applied migrations the database was compared with (pending ones are not expected in it yet). */
  migrations: string[]
  /** Prisma's summary of how the database differs from what those migrations build (`[+] Added column \`x\``). */
  differences: string[]
  /** Prisma's own words when the diff could not be made. */
  error?: string
  seconds: number
}

/**
 * Drift, by Prisma's own diff: `prisma migrate diff --from-migrations <a folder holding only the APPLIED migrations>
 * --to-config-datasource --exit-code`. Prisma replays those migrations in a shadow database and compares the result
 * with this database; exit 2 means they differ. Comparing with every migration on disk instead would report each
 * pending migration as drift. The config is the project's own with the migrations folder and the database replaced
 * (the one `deploy` uses), so the database compared is exactly this one whatever variable the project's config reads.
 * Like every Prisma diff, it sees what Prisma models: tables, columns, indexes, keys, enums; not CHECK constraints,
 * triggers or functions.
 */
export async function detectDrift(project: Project, databaseUrl: string, applied: MigrationOnDisk[]): Promise<DriftResult> {
  const started = performance.now()
  const staged = stageMigrations(project, applied, 'drift')
  const migrations = applied.map((migration) => migration.name)
  try {
    const config = writeDeployConfig(project, staged.dir, staged.root)
    const result = await runPrisma(
      project,
      ['migrate', 'diff', '--from-migrations', staged.dir, '--to-config-datasource', '--exit-code', '--config', config],
      { databaseUrl, env: { [DEPLOY_URL_VARIABLE]: databaseUrl } },
    )
    const seconds = (performance.now() - started) / 1000
    if (result.code === 0 && NO_DIFFERENCE.test(result.stdout)) return { status: 'none', migrations, differences: [], seconds }
    if (result.code === 0) return { status: 'error', migrations, differences: [], error: SILENT_DIFF, seconds }
    if (result.code === 2) return { status: 'drift', migrations, differences: summaryLines(result.stdout), seconds }
    const error = (result.stderr.trim() || result.stdout.trim())
      .split('\n')
      .filter((line) => !/^Loaded Prisma config/.test(line))
      .slice(-10)
      .join('\n')
    return { status: 'error', migrations, differences: [], error: `prisma migrate diff exited ${result.code}: ${error}`, seconds }
  } finally {
    staged.remove()
  }
}

/** What `prisma migrate diff` prints for two schemas that are the same (without --script). */
export const NO_DIFFERENCE = /^No difference detected\.?$/m

/** Exit 0 without NO_DIFFERENCE: taking it for "no difference" would be a silent success. */
export const SILENT_DIFF =
  'prisma migrate diff exited 0 without printing "No difference detected.": its schema engine stopped before answering (the WebAssembly engine crashes on some SQL)'

/** Prisma's human summary of a diff, without blank lines or the line saying which config it loaded. */
export function summaryLines(output: string): string[] {
  return output
    .split('\n')
    .map((line) => line.replace(/\s+$/, ''))
    .filter((line) => line.trim() !== '' && !/^Loaded Prisma config/.test(line))
}
