import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { UsageError } from '../errors'
import { analyzeMigrations, type Effect, type MigrationAnalysis, type MigrationSource } from '../lint'
import { findMigration, listMigrations, type MigrationOnDisk } from '../prisma/migrations'
import type { Project } from '../project'
import { packageVersion } from '../version'
import { dataLossWarnings, type DataLossWarning } from './data-loss'
import { RollbackGenerationError } from './errors'
import { relativePath, rollbackFile } from './files'
import { rollbackHeader, type ReviewNote } from './header'
import { EMPTY_DIFF, SchemaEngineCallError } from '../prisma/engine/in-process'
import { repairDiffScript, type ScriptRepair } from './repair'
import { RollbackTrial, type TrialFailure, type TrialOutcome } from './trial'

export interface GeneratedRollback {
  migration: string
  /** Absolute path of rollbacks/<migration>/rollback.sql. */
  file: string
  /** The whole file: header, then Prisma's script. */
  text: string
  /** Prisma found no schema difference to revert. */
  empty: boolean
  /** Schema differences the trial found the file leaves in place (each a REVIEW note in its header). */
  unrestored: number
  /** Lines are lines of `text`. */
  warnings: DataLossWarning[]
  review: ReviewNote[]
  /** What was changed in Prisma's script so that it runs (also in the header). */
  repairs: ScriptRepair[]
  /** Set when the script does not run on the schema it is for: writeRollback refuses it. */
  failure?: TrialFailure
}

export interface GenerateOptions {
  /** The database Prisma's schema engine connects to and makes its shadow databases next to. */
  databaseUrl: string
  now?: Date
  /**
   * Where the rollback is tried before it is returned; one trial walks a whole history in order (rollbacks generate
   * of every migration). Default: a trial of its own, on a scratch database on the server of databaseUrl.
   */
  trial?: RollbackTrial
  /** The lint analysis of the history so far, shared the same way (each migration is analysed once). */
  analyses?: HistoryAnalyses
  /** The project's migrations, read once for a whole run (listMigrations reads and hashes every file). */
  history?: MigrationOnDisk[]
  /**
   * SQL around Prisma's script for what the migration does that Prisma does not model (a trigger, a CHECK written by
   * `new --safe`): `first` runs before Prisma's statements, `last` after. It is part of what the trial runs.
   */
  extra?: { first?: string; last?: string; transform?: (prismaScript: string) => string }
}

/** What lint's analysis makes of each migration, walked forward once: the schema model the warnings are read against. */
export class HistoryAnalyses {
  private readonly done: MigrationAnalysis[]

  /** `known`: analyses of the history's first migrations, in order, made already (new --safe lints it first). */
  constructor(
    private readonly project: Project,
    known: MigrationAnalysis[] = [],
  ) {
    this.done = [...known]
  }

  /** The analysis of history[index], analysing only the migrations not analysed yet. */
  async through(history: MigrationOnDisk[], index: number): Promise<MigrationAnalysis> {
    if (this.done.length <= index) {
      const sources: MigrationSource[] = history.slice(this.done.length, index + 1).map((entry) => ({
        name: entry.name,
        file: relativePath(this.project, entry.sqlFile),
        sql: readFileSync(entry.sqlFile, 'utf8'),
      }))
      this.done.push(...(await analyzeMigrations(sources, { schema: this.done.at(-1)?.schema })))
    }
    return this.done[index]
  }
}

/**
 * Writes nothing: returns the rollback of one migration, made by Prisma from the history itself. Two scratch databases
 * follow the history (each migration.sql run as Prisma runs it), one just before the migration and one just after;
 * Prisma's schema engine prints the script from the second's schema to the first's. Diffing what the migrations build
 * (not schema.prisma) is what makes it the inverse of the SQL that really runs, hand edits to migration.sql included.
 * The engine reads the project's Prisma schema, so the schemas it lists (`schemas = [...]`) are all compared.
 */
export async function generateRollback(project: Project, migrationName: string, options: GenerateOptions): Promise<GeneratedRollback> {
  const history = options.history ?? listMigrations(project)
  const migration = findMigration(history, migrationName)
  const index = history.findIndex((candidate) => candidate.name === migration.name)
  const trial = options.trial ?? (await RollbackTrial.open(project, options.databaseUrl))
  const analyses = options.analyses ?? new HistoryAnalyses(project)
  try {
    const diff = await repairDiffScript(await inverseDiff(project, trial, history, index))
    await trial.applyThrough(history, index)
    const schemaDrops = (await trial.schemasCreatedByLast()).map((schema) => ({
      sql: `DROP SCHEMA IF EXISTS ${schema};`,
      repair: {
        description:
          `DROP SCHEMA IF EXISTS ${schema} added at the end: the migration creates schema ${schema} (absent before it) and ` +
          "Prisma's diff never drops a schema. PostgreSQL refuses to drop a schema that still holds anything (made " +
          'outside the migrations, say), and the whole rollback with it: remove the line to keep the schema',
      },
    }))
    // Normalised before anything counts its lines: the warnings quote them.
    const transformed = options.extra?.transform ? options.extra.transform(diff.script) : diff.script
    const prismaBody = transformed.replace(/^\n+/, '').replace(/\s*$/, '\n')
    const prismaEmpty = prismaBody.trim() === EMPTY_DIFF
    const { first, last } = options.extra ?? {}
    const empty = prismaEmpty && schemaDrops.length === 0 && !first && !last
    const body = empty
      ? prismaBody
      : [
          ...(first ? [`-- Not modelled by Prisma (written by migrate-kit new --safe)\n${first.trim()}\n`] : []),
          ...(prismaEmpty ? [] : [prismaBody]),
          ...(last ? [`-- Not modelled by Prisma (written by migrate-kit new --safe)\n${last.trim()}\n`] : []),
          ...(schemaDrops.length > 0 ? [`-- DropSchema\n${schemaDrops.map((drop) => drop.sql).join('\n')}\n`] : []),
        ].join('\n')
    const repairs = [...diff.repairs, ...schemaDrops.map((drop) => drop.repair)]

    const analysis = await analyses.through(history, index)
    const bodyWarnings = await dataLossWarnings(body, analysis.schema)
    const compose = (review: ReviewNote[], unrestored = 0) => {
      const header = rollbackHeader({
        migration: migration.name,
        migrationFile: relativePath(project, migration.sqlFile),
        generatedAt: options.now ?? new Date(),
        toolVersion: packageVersion(),
        warnings: bodyWarnings,
        review,
        repairs,
        empty,
        unrestored,
      })
      return {
        review,
        text: `${header.join('\n')}\n${body}`,
        warnings: bodyWarnings.map((warning) => ({ ...warning, line: warning.line + header.length })),
      }
    }
    // Tried as it would be written; the notes of what the trial found go into the header after (comments only).
    const dataNotes = rowNotes(analysis.effects)
    const draft = compose(dataNotes)
    const outcome = await trial.tryRollback(relativePath(project, rollbackFile(project, migration.name)), draft.text, migration)
    const final = outcome.failure ? draft : compose([...dataNotes, ...trialNotes(outcome)], outcome.unrestored.length)
    return {
      migration: migration.name,
      file: rollbackFile(project, migration.name),
      text: final.text,
      empty,
      unrestored: outcome.unrestored.length,
      warnings: final.warnings,
      review: final.review,
      repairs,
      ...(outcome.failure ? { failure: outcome.failure } : {}),
    }
  } finally {
    if (!options.trial) await trial.close()
  }
}

const ROW_CHANGES: Partial<Record<Effect['kind'], string>> = {
  insert_rows: 'nothing below deletes them',
  update_rows: 'nothing below puts the old values back',
  delete_rows: 'nothing below brings them back',
  truncate: 'nothing below brings them back',
}

/** Rows the migration writes in tables it did not create: no schema diff sees them (a dropped table takes its own). */
function rowNotes(effects: Effect[]): ReviewNote[] {
  const created = new Set(effects.filter((effect) => effect.kind === 'create_table').map((effect) => effect.table))
  return effects.flatMap((effect) => {
    const left = ROW_CHANGES[effect.kind]
    if (!left || created.has(effect.table)) return []
    return [{ line: effect.line, description: `${effect.description}; ${left}` }]
  })
}

/** What trying the rollback found it does not do: each schema difference left, and a failing re-apply. */
function trialNotes(outcome: TrialOutcome): ReviewNote[] {
  const notes: ReviewNote[] = outcome.unrestored.map((difference) => ({
    description: `not restored (found by running this file on a scratch database): ${difference.message}; add its inverse by hand`,
  }))
  if (outcome.reapplyError) {
    notes.push({
      description:
        `applying the migration again after this rollback fails (${outcome.reapplyError}); make the rollback undo what ` +
        'stands in the way (rows the migration inserts, objects it creates)',
    })
  }
  return notes
}

/**
 * Prisma's diff from the schema with the migration applied to the schema just before it (see RollbackTrial), by
 * Prisma's own schema engine, over the schemas the project's Prisma schema names.
 */
async function inverseDiff(project: Project, trial: RollbackTrial, history: MigrationOnDisk[], index: number): Promise<string> {
  const migration = history[index]
  const shown = relativePath(project, rollbackFile(project, migration.name))
  try {
    return await trial.inverseDiff(history, index)
  } catch (error) {
    if (!(error instanceof SchemaEngineCallError)) throw error
    throw new RollbackGenerationError(
      migration.name,
      `Prisma's diff for ${migration.name} failed${error.panic ? ' (its WebAssembly schema engine panicked, as it does on some SQL)' : ''}: ${error.message}`,
      { cause: error, hint: `Write ${shown} by hand, then prove it: npx migrate-kit verify-rollbacks` },
    )
  }
}

/** Refuses (exit 2) to replace an existing rollback.sql without `force`: it may hold hand-written work. */
export function assertWritable(project: Project, migration: string, options: { force?: boolean } = {}): void {
  const file = rollbackFile(project, migration)
  if (!existsSync(file) || options.force) return
  throw new UsageError(`${relativePath(project, file)} exists already; nothing was written`, {
    hint: `Overwrite it only if nothing in it was written by hand: npx migrate-kit rollbacks generate ${migration} --force`,
  })
}

/** Never writes a rollback that did not run in the trial (exit 1): a file that exists is taken for a working one. */
export function writeRollback(project: Project, generated: GeneratedRollback, options: { force?: boolean } = {}): void {
  assertWritable(project, generated.migration, options)
  if (generated.failure) {
    const shown = relativePath(project, generated.file)
    throw new RollbackGenerationError(
      generated.migration,
      `the rollback Prisma's diff gives for ${generated.migration} does not run on the schema it is for, so ${shown} was not written:\n${generated.failure.text}`,
      {
        hint:
          `Write ${shown} by hand, starting from Prisma's script (npx migrate-kit rollbacks generate ${generated.migration} --print), ` +
          'then prove it: npx migrate-kit verify-rollbacks',
      },
    )
  }
  mkdirSync(path.dirname(generated.file), { recursive: true })
  writeFileSync(generated.file, generated.text)
}

/** One migration's outcome in generateRollbacks: written (with its file), or the error that stopped it. */
export type RollbackWriteResult =
  | { migration: string; status: 'written'; file: string; generated: GeneratedRollback; seconds: number }
  | { migration: string; status: 'error'; error: unknown; seconds: number }

/**
 * Generates and writes the rollbacks of `migrations` (history order) on one trial, so that each migration of the
 * history is applied once for all the tries. A migration that fails is reported and the others go on: a long history
 * gets every rollback that can be made in one run (`rollbacks generate`, `init`).
 */
export async function generateRollbacks(
  project: Project,
  migrations: string[],
  options: GenerateOptions & {
    trial: RollbackTrial
    force?: boolean
    onStarting?: (migration: string) => void
    onResult?: (result: RollbackWriteResult) => void
    /** Stops before the next migration (Ctrl-C): the results so far are returned, their files kept. */
    signal?: AbortSignal
  },
): Promise<RollbackWriteResult[]> {
  const results: RollbackWriteResult[] = []
  const shared = { analyses: new HistoryAnalyses(project), history: listMigrations(project) }
  for (const migration of migrations) {
    if (options.signal?.aborted) break
    let result: RollbackWriteResult
    options.onStarting?.(migration)
    const started = performance.now()
    const seconds = () => (performance.now() - started) / 1000
    try {
      const generated = await generateRollback(project, migration, { ...options, ...shared })
      writeRollback(project, generated, { force: options.force })
      result = { migration, status: 'written', file: generated.file, generated, seconds: seconds() }
    } catch (error) {
      result = { migration, status: 'error', error, seconds: seconds() }
    }
    results.push(result)
    options.onResult?.(result)
  }
  return results
}
