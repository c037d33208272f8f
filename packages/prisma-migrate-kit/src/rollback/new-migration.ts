import { StepFailedError, UsageError } from '../errors'
import { lintProject, resolveTargets, type LintReport } from '../lint'
import { runPrisma } from '../prisma/cli'
import { listMigrations } from '../prisma/migrations'
import type { Project } from '../project'
import { generateRollback, writeRollback, type GeneratedRollback } from './generate'
import { relativePath } from './files'
import { detectSchemaChange } from '../checks/schema-change'

export interface NewMigrationOptions {
  /** The development database: `migrate dev` applies pending migrations to it, and makes shadow databases next to it. */
  databaseUrl: string
  /** Give Prisma this terminal (its prompts, its colours); otherwise its output is kept for the error message. */
  interactive?: boolean
  /**
   * Create the migration even with no schema change: an empty migration.sql to write SQL Prisma does not model (a
   * CHECK constraint, a function, a data fix), as `prisma migrate dev --create-only` does.
   */
  empty?: boolean
  now?: Date
}

export type NewMigrationResult =
  { created: false } | { created: true; migration: string; migrationFile: string; rollback: GeneratedRollback; lint: LintReport }

/**
 * `migrate-kit new <name>`: Prisma writes the migration (`prisma migrate dev --create-only`), we write its
 * rollback.sql from Prisma's own diff, and lint the new migration. With no schema change nothing is written: Prisma
 * would create an empty migration folder, so that case is found first, with the same diff Prisma makes.
 */
export async function createMigration(project: Project, name: string, options: NewMigrationOptions): Promise<NewMigrationResult> {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) {
    throw new UsageError(`migration name "${name}" may only hold letters, digits, "_" and "-"`, {
      hint: 'Name what the migration does: npx migrate-kit new add_display_name',
    })
  }
  if (!options.empty && !(await schemaChanged(project, options.databaseUrl))) return { created: false }

  const before = new Set(listMigrations(project).map((migration) => migration.name))
  const result = await runPrisma(project, ['migrate', 'dev', '--create-only', '--name', name], {
    databaseUrl: options.databaseUrl,
    stdio: options.interactive ? 'inherit' : 'pipe',
  })
  const created = listMigrations(project).filter((migration) => !before.has(migration.name))
  if (result.code !== 0 || created.length !== 1) {
    const output = `${result.stdout}\n${result.stderr}`
      .trim()
      .split('\n')
      .slice(-20)
      .map((line) => `  ${line}`)
      .join('\n')
    throw new StepFailedError(
      `prisma migrate dev --create-only --name ${name} ${result.code !== 0 ? `failed (exit ${result.code})` : `created ${created.length} migrations`}` +
        (output ? `:\n${output}` : ''),
      {
        hint:
          created.length > 0
            ? `Prisma wrote ${created.map((m) => m.name).join(', ')}; once it is right, add its rollback: npx migrate-kit rollbacks generate`
            : /non-interactive/.test(output)
              ? 'Prisma wants a confirmation (data loss warnings) and can only ask on a terminal: run this command in a ' +
                'terminal, or against a development database whose affected tables are empty.'
              : 'Fix what Prisma reports (run `npx migrate-kit prisma migrate dev --create-only` to see it interactively), then run `new` again.',
      },
    )
  }
  const migration = created[0]
  const rollback = await generateRollback(project, migration.name, { databaseUrl: options.databaseUrl, now: options.now })
  writeRollback(project, rollback)
  const lint = await lintProject(project, resolveTargets(project, [migration.name]))
  return {
    created: true,
    migration: migration.name,
    migrationFile: relativePath(project, migration.sqlFile),
    rollback,
    lint,
  }
}

/** Whether the schema differs from what the migrations build: the diff `migrate dev` is about to make. */
async function schemaChanged(project: Project, databaseUrl: string): Promise<boolean> {
  const change = await detectSchemaChange(project, databaseUrl)
  if (change.status === 'error') {
    throw new StepFailedError(
      `could not compare the schema ${relativePath(project, project.schemaPath)} with the migrations (${change.error ?? 'unknown error'})`,
      {
        hint: 'Check the schema (npx migrate-kit prisma validate) and that every migration applies to an empty database.',
      },
    )
  }
  return change.status === 'changed'
}
