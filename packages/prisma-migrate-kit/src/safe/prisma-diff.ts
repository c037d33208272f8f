import { mkdirSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { StepFailedError } from '../errors'
import { EMPTY_DIFF } from '../prisma/engine/in-process'
import { runPrisma } from '../prisma/cli'
import type { MigrationOnDisk } from '../prisma/migrations'
import { relativePath, type Project } from '../project'
import { stageMigrations } from '../rollback/staging'
import type { SchemaFile } from './schema-text'

/** A migration not written yet: its folder name and SQL. */
export interface DraftMigration {
  name: string
  sql: string
}

/**
 * Prisma's own diff from what the migrations build (the history, then `drafts`) to a Prisma schema given as text
 * (`files`, which replace the project's schema files): `prisma migrate diff --from-migrations … --to-schema … --script`,
 * the SQL `prisma migrate dev` would write for that schema. Undefined when there is no difference.
 */
export async function diffMigrationsToSchema(
  project: Project,
  databaseUrl: string,
  history: MigrationOnDisk[],
  drafts: DraftMigration[],
  files: SchemaFile[],
): Promise<string | undefined> {
  const staged = stageMigrations(project, history, 'safe')
  try {
    for (const draft of drafts) {
      mkdirSync(path.join(staged.dir, draft.name))
      writeFileSync(path.join(staged.dir, draft.name, 'migration.sql'), draft.sql)
    }
    // The schema files keep their names relative to the schema's folder, so a multi-file schema stays one.
    const schemaRoot = path.join(staged.root, 'schema')
    const base = schemaBase(project)
    for (const file of files) {
      const target = path.join(schemaRoot, path.relative(base, file.path))
      mkdirSync(path.dirname(target), { recursive: true })
      writeFileSync(target, file.content)
    }
    const schemaTarget =
      files.length === 1 && !isFolderSchema(project) ? path.join(schemaRoot, path.relative(base, files[0].path)) : schemaRoot
    const result = await runPrisma(project, ['migrate', 'diff', '--from-migrations', staged.dir, '--to-schema', schemaTarget, '--script'], {
      databaseUrl,
    })
    if (result.code !== 0) {
      const output = (result.stderr.trim() || result.stdout.trim())
        .split('\n')
        .filter((line) => !/^Loaded Prisma config/.test(line))
        .slice(-10)
        .join('\n')
      throw new StepFailedError(
        `Prisma's diff of the migrations to ${relativePath(project, project.schemaPath)} failed (exit ${result.code}):\n${output}`,
        {
          hint: 'Check the schema (npx migrate-kit prisma validate) and that every migration applies to an empty database.',
        },
      )
    }
    const script = result.stdout.trim()
    if (script === '')
      throw new StepFailedError("Prisma's diff printed nothing, not even an empty migration", {
        hint: 'Run it again; report it if it persists.',
      })
    return script === EMPTY_DIFF ? undefined : `${script}\n`
  } finally {
    staged.remove()
  }
}

function isFolderSchema(project: Project): boolean {
  return statSync(project.schemaPath, { throwIfNoEntry: false })?.isDirectory() ?? false
}

/** The folder schema file paths are relative to: the schema folder, or the single file's folder. */
export function schemaBase(project: Project): string {
  return isFolderSchema(project) ? project.schemaPath : path.dirname(project.schemaPath)
}
