import type { Client } from 'pg'
import { readFileSync } from 'node:fs'
import { connect } from '../db/connect'
import { createScratchDatabase, type ScratchDatabase } from '../db/scratch'
import type { MigrationOnDisk } from '../prisma/migrations'
import { InProcessSchemaEngine } from '../prisma/engine/in-process'
import type { Project } from '../project'
import { RollbackGenerationError } from './errors'
import { diffSchemas, type SchemaDifference } from './schema-diff'
import { parseRollbackScript } from './script'
import { appSchemaNames, captureSchema, objectKey, type SchemaSnapshot } from './snapshot'
import { isPostgresError, sqlErrorReport } from '../sql/error-report'

/** Why a rollback did not run in the trial, located in its file. */
export interface TrialFailure {
  line: number
  code?: string
  /** file:line:column, PostgreSQL's message, the lines and a caret. */
  text: string
}

/** What trying a rollback found. */
export interface TrialOutcome {
  /** The rollback did not run: nothing else was looked at. */
  failure?: TrialFailure
  /** After it ran: what differs from the schema before the migration (what the rollback does not restore). */
  unrestored: SchemaDifference[]
  /** After it ran: PostgreSQL's error when the migration is applied again (rows it inserts are still there, …). */
  reapplyError?: string
}

/** A scratch database brought along the history: each migration.sql applied as Prisma applies it (one script). */
class HistoryCopy {
  /** How many migrations of the history it holds (the first `applied`). */
  applied = 0

  private constructor(
    readonly scratch: ScratchDatabase,
    readonly client: Client,
  ) {}

  static async open(serverUrl: string): Promise<HistoryCopy> {
    const scratch = await createScratchDatabase(serverUrl, {
      prefix: 'migrate_kit_trial_',
      purpose: 'rollbacks generate (to try each rollback it writes)',
    })
    try {
      return new HistoryCopy(scratch, await connect(scratch.url, { applicationName: 'migrate-kit rollbacks generate' }))
    } catch (error) {
      await scratch.drop()
      throw error
    }
  }

  /**
   * Applies the migrations up to and including history[index]; `beforeEach` runs just before each one. `forMigration`
   * names the rollback this is for, in the error when a migration on the way does not apply.
   */
  async applyThrough(
    history: MigrationOnDisk[],
    index: number,
    forMigration: string,
    beforeEach?: (index: number) => Promise<void>,
  ): Promise<void> {
    if (index + 1 < this.applied) throw new Error(`the trial database is past ${history[index]?.name}`)
    for (; this.applied <= index; this.applied++) {
      const migration = history[this.applied]
      await beforeEach?.(this.applied)
      try {
        await this.client.query(readFileSync(migration.sqlFile, 'utf8'))
      } catch (error) {
        await this.client.query('ROLLBACK').catch(() => undefined)
        throw new RollbackGenerationError(
          forMigration,
          `cannot try the rollback: ${migration.name}/migration.sql does not apply to a database built from the migrations before it: ${(error as Error).message}`,
          {
            cause: error,
            hint: "Every migration must apply in order to an empty database (Prisma's shadow database needs that too). Fix that migration first.",
          },
        )
      }
      // A script that leaves its transaction open would fail under Prisma; here it must not swallow what follows.
      if (this.client.getTransactionStatus() !== 'I') await this.client.query('ROLLBACK').catch(() => undefined)
    }
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined)
    await this.scratch.drop()
  }
}

/**
 * Two scratch databases that follow the history one migration apart, and Prisma's schema engine between them. For
 * the rollback of migration i, `ahead` holds migrations 0..i and `trial` 0..i-1: Prisma's diff from `ahead` to
 * `trial` is the rollback, and it is tried on `trial` once migration i is applied there, inside a transaction that
 * is always rolled back. Generating the rollbacks of a whole history walks it once: each migration is applied once
 * to each database and each diff compares two schemas, never a replay of the history from the start.
 */
export class RollbackTrial {
  /** The schema just before the last migration applied to `trial`: what its rollback must give back. */
  private before: SchemaSnapshot | undefined

  private constructor(
    private readonly trial: HistoryCopy,
    private readonly ahead: HistoryCopy,
    private readonly engine: InProcessSchemaEngine,
  ) {}

  static async open(project: Project, serverUrl: string): Promise<RollbackTrial> {
    const opened: HistoryCopy[] = []
    try {
      opened.push(await HistoryCopy.open(serverUrl))
      opened.push(await HistoryCopy.open(serverUrl))
      const [trial, ahead] = opened
      const engine = await InProcessSchemaEngine.open(project, { databaseUrl: trial.scratch.url, fromUrl: ahead.scratch.url })
      return new RollbackTrial(trial, ahead, engine)
    } catch (error) {
      for (const copy of opened) await copy.close()
      throw error
    }
  }

  /**
   * Prisma's diff from the schema with history[index] applied to the schema just before it: the rollback's SQL,
   * exactly as `prisma migrate diff` prints it. Leaves the trial database just before history[index].
   */
  async inverseDiff(history: MigrationOnDisk[], index: number): Promise<string> {
    const name = history[index].name
    await this.trial.applyThrough(history, index - 1, name)
    await this.ahead.applyThrough(history, index, name)
    return this.engine.diffFromDatabase()
  }

  /** Applies the migrations up to and including history[index] to the trial database. */
  async applyThrough(history: MigrationOnDisk[], index: number): Promise<void> {
    await this.trial.applyThrough(history, index, history[index].name, async (applying) => {
      if (applying === index) this.before = await captureSchema(this.trial.client)
    })
  }

  /**
   * Schemas the migration applied last created (absent just before it), as SQL names them. Prisma's diff never drops
   * a schema, so the rollback has to.
   */
  async schemasCreatedByLast(): Promise<string[]> {
    if (!this.before) return []
    const before = this.before
    return (await appSchemaNames(this.trial.client)).filter((name) => !before.objects[objectKey('schema', name)])
  }

  /**
   * Runs the rollback of the migration applied last as `rollback` does (statement by statement, one transaction),
   * compares the schema with the one before that migration, applies the migration again, and undoes all of it.
   */
  async tryRollback(file: string, text: string, migration: MigrationOnDisk): Promise<TrialOutcome> {
    const script = await parseRollbackScript(text)
    const problem = script.problems[0]
    if (problem) return { failure: { line: problem.line, text: `${file}:${problem.line}: ${problem.message}` }, unrestored: [] }
    await this.trial.client.query('BEGIN')
    try {
      for (const statement of script.statements) {
        try {
          await this.trial.client.query(statement.sql)
        } catch (error) {
          if (!isPostgresError(error)) throw error
          const report = sqlErrorReport(file, script.source, statement, error)
          return { failure: { line: report.line, ...(report.code ? { code: report.code } : {}), text: report.text }, unrestored: [] }
        }
      }
      const unrestored = this.before
        ? diffSchemas(await captureSchema(this.trial.client), this.before, {
            actual: 'after the rollback',
            expected: 'before the migration',
          })
        : []
      const reapplyError = await this.reapply(migration)
      return { unrestored, ...(reapplyError ? { reapplyError } : {}) }
    } finally {
      await this.trial.client.query('ROLLBACK')
    }
  }

  /** The migration again, inside the trial's transaction; skipped for one that manages transactions itself. */
  private async reapply(migration: MigrationOnDisk): Promise<string | undefined> {
    const sql = readFileSync(migration.sqlFile, 'utf8')
    // Statements that cannot run inside our transaction (BEGIN/COMMIT, CONCURRENTLY): the same test `rollback` uses.
    if ((await parseRollbackScript(sql)).problems.length > 0) return undefined
    await this.trial.client.query('SAVEPOINT migrate_kit_reapply')
    try {
      await this.trial.client.query(sql)
      return undefined
    } catch (error) {
      if (!isPostgresError(error)) throw error
      return `${error.code ? `${error.code}: ` : ''}${error.message}${error.detail ? ` (${error.detail})` : ''}`
    } finally {
      await this.trial.client.query('ROLLBACK TO SAVEPOINT migrate_kit_reapply')
    }
  }

  async close(): Promise<void> {
    await this.trial.close()
    await this.ahead.close()
  }
}
