import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { UsageError } from '../errors'
import { analyzeMigrations, type MigrationSource } from '../lint'
import { findMigration, listMigrations, type MigrationOnDisk } from '../prisma/migrations'
import type { Project } from '../project'
import { packageVersion } from '../version'
import { dataLossWarnings, type DataLossWarning } from './data-loss'
import { RollbackGenerationError } from './errors'
import { relativePath, rollbackFile } from './files'
import { rollbackHeader, type ReviewNote } from './header'
import { EMPTY_DIFF, prismaDiff } from './prisma-diff'
import { transactionControlRanges } from './script'
import { stageMigrations } from './staging'

export interface GeneratedRollback {
  migration: string
  /** Absolute path of rollbacks/<migration>/rollback.sql. */
  file: string
  /** The whole file: header, then Prisma's script. */
  text: string
  /** Prisma found no schema difference to revert. */
  empty: boolean
  /** Lines are lines of `text`. */
  warnings: DataLossWarning[]
  review: ReviewNote[]
}

export interface GenerateOptions {
  /** The database Prisma's schema engine connects to and makes its shadow databases next to. */
  databaseUrl: string
  now?: Date
}

/**
 * Writes nothing: returns the rollback of one migration, made by Prisma from the history itself. Prisma replays the
 * migrations up to and including it, and up to just before it, each in a shadow database, and prints the script
 * from the first schema to the second. Diffing migrations (not schema.prisma) is what makes it the inverse of the
 * SQL that really runs, hand edits to migration.sql included.
 */
export async function generateRollback(
  project: Project,
  migrationName: string,
  options: GenerateOptions,
): Promise<GeneratedRollback> {
  const history = listMigrations(project)
  const migration = findMigration(history, migrationName)
  const index = history.findIndex((candidate) => candidate.name === migration.name)
  const script = await inverseDiff(project, history, index, options.databaseUrl)
  // Normalised before anything counts its lines: the warnings quote them.
  const body = (await withoutTransactionControl(script)).replace(/^\n+/, '').replace(/\s*$/, '\n')
  const empty = body.trim() === EMPTY_DIFF

  const sources: MigrationSource[] = history.slice(0, index + 1).map((entry) => ({
    name: entry.name,
    file: relativePath(project, entry.sqlFile),
    sql: readFileSync(entry.sqlFile, 'utf8'),
  }))
  const analysis = (await analyzeMigrations(sources)).at(-1)!
  const bodyWarnings = await dataLossWarnings(body, analysis.schema)
  const review: ReviewNote[] = analysis.effects
    .filter((effect) => UNMODELLED.has(effect.kind))
    .map((effect) => ({ line: effect.line, description: effect.description.replace(/(\w+)Stmt\b/, (_, tag: string) => tag) }))
  const header = rollbackHeader({
    migration: migration.name,
    migrationFile: relativePath(project, migration.sqlFile),
    generatedAt: options.now ?? new Date(),
    toolVersion: packageVersion(),
    warnings: bodyWarnings,
    review,
    empty,
  })
  const warnings = bodyWarnings.map((warning) => ({ ...warning, line: warning.line + header.length }))
  return {
    migration: migration.name,
    file: rollbackFile(project, migration.name),
    text: `${header.join('\n')}\n${body}`,
    empty,
    warnings,
    review,
  }
}

/** Effects of a migration that Prisma's differ cannot see (it models tables, columns, indexes, keys and enums). */
const UNMODELLED = new Set(['create_object', 'drop_object', 'other', 'insert_rows', 'update_rows', 'delete_rows'])

async function inverseDiff(project: Project, history: MigrationOnDisk[], index: number, databaseUrl: string): Promise<string> {
  const migration = history[index]!
  const shown = relativePath(project, rollbackFile(project, migration.name))
  const withIt = stageMigrations(project, history.slice(0, index + 1), 'with')
  const withoutIt = stageMigrations(project, history.slice(0, index), 'without')
  try {
    const outcome = await prismaDiff(project, ['--from-migrations', withIt.dir, '--to-migrations', withoutIt.dir], databaseUrl)
    if (outcome.kind === 'failed') {
      throw new RollbackGenerationError(migration.name, `Prisma's diff for ${migration.name} failed (exit ${outcome.code}):\n${outcome.output}`, {
        hint:
          'Prisma replays the migrations in a temporary shadow database: each must apply to an empty database. Fix ' +
          `the one that fails, or write ${shown} by hand.`,
      })
    }
    if (outcome.kind === 'silent') {
      throw new RollbackGenerationError(
        migration.name,
        `Prisma's diff for ${migration.name} printed nothing, not even "${EMPTY_DIFF}": its schema engine stopped ` +
          'before answering (the WebAssembly engine crashes on some SQL, CHECK constraints among it)',
        { hint: `Write ${shown} by hand, then prove it: npx migrate-kit verify-rollbacks` },
      )
    }
    return outcome.script
  } finally {
    withIt.remove()
    withoutIt.remove()
  }
}

/**
 * Prisma wraps an enum swap in BEGIN … COMMIT. `rollback` runs the whole file (and every file of a `--to` run) in
 * one transaction of its own, which a COMMIT in the middle would end early, so those statements are cut out.
 */
async function withoutTransactionControl(script: string): Promise<string> {
  const ranges = await transactionControlRanges(script)
  if (ranges.length === 0) return script
  const bytes = Buffer.from(script, 'utf8')
  const kept: Buffer[] = []
  let from = 0
  for (const { start, end } of ranges) {
    kept.push(bytes.subarray(from, start))
    // The statement's `;` and the blanks and newline after it go too; anything else on that line stays.
    let next = end
    const skip = (accept: (byte: number) => boolean) => {
      while (next < bytes.length && accept(bytes[next]!)) next++
    }
    skip((byte) => byte === 0x20 || byte === 0x09)
    if (bytes[next] === 0x3b) next++
    skip((byte) => byte === 0x20 || byte === 0x09 || byte === 0x0d)
    if (bytes[next] === 0x0a) next++
    from = next
  }
  kept.push(bytes.subarray(from))
  return Buffer.concat(kept).toString('utf8')
}

/** Refuses (exit 2) to replace an existing rollback.sql without `force`: it may hold hand-written work. */
export function assertWritable(project: Project, migration: string, options: { force?: boolean } = {}): void {
  const file = rollbackFile(project, migration)
  if (!existsSync(file) || options.force) return
  throw new UsageError(`${relativePath(project, file)} exists already; nothing was written`, {
    hint: `Overwrite it only if nothing in it was written by hand: npx migrate-kit rollbacks generate ${migration} --force`,
  })
}

export function writeRollback(project: Project, generated: GeneratedRollback, options: { force?: boolean } = {}): void {
  assertWritable(project, generated.migration, options)
  mkdirSync(path.dirname(generated.file), { recursive: true })
  writeFileSync(generated.file, generated.text)
}
