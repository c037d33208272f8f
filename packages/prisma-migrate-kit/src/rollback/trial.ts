import type { Client } from 'pg'
import { readFileSync } from 'node:fs'
import { connect } from '../db/connect'
import { createScratchDatabase, type ScratchDatabase } from '../db/scratch'
import type { MigrationOnDisk } from '../prisma/migrations'
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

/**
 * A scratch database that follows the history: each migration.sql applied as Prisma applies it (the whole file as
 * one script), and a rollback tried on top of it inside a transaction that is always rolled back. Generating the
 * rollbacks of a whole history walks it once: migration i is applied, its rollback tried, then migration i + 1.
 */
export class RollbackTrial {
  private applied = 0
  /** The schema just before the last migration applied: what its rollback must give back. */
  private before: SchemaSnapshot | undefined

  private constructor(
    private readonly scratch: ScratchDatabase,
    private readonly client: Client,
  ) {}

  static async open(serverUrl: string): Promise<RollbackTrial> {
    const scratch = await createScratchDatabase(serverUrl, {
      prefix: 'migrate_kit_trial_',
      purpose: 'rollbacks generate (to try each rollback it writes)',
    })
    try {
      return new RollbackTrial(scratch, await connect(scratch.url, { applicationName: 'migrate-kit rollbacks generate' }))
    } catch (error) {
      await scratch.drop()
      throw error
    }
  }

  /** The scratch database's URL (the server's, with the scratch database's name): Prisma's diff can describe it. */
  get url(): string {
    return this.scratch.url
  }

  /** Whether the database can still be brought to just after history[index] (it never goes back). */
  reaches(index: number): boolean {
    return index + 1 >= this.applied
  }

  /** Applies the migrations up to and including history[index]. */
  async applyThrough(history: MigrationOnDisk[], index: number): Promise<void> {
    if (!this.reaches(index)) throw new Error(`the trial database is past ${history[index]?.name}`)
    for (; this.applied <= index; this.applied++) {
      const migration = history[this.applied]
      if (this.applied === index) this.before = await captureSchema(this.client)
      try {
        await this.client.query(readFileSync(migration.sqlFile, 'utf8'))
      } catch (error) {
        await this.client.query('ROLLBACK').catch(() => undefined)
        throw new RollbackGenerationError(
          history[index].name,
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

  /**
   * Schemas the migration applied last created (absent just before it), as SQL names them. Prisma's diff never drops
   * a schema, so the rollback has to.
   */
  async schemasCreatedByLast(): Promise<string[]> {
    if (!this.before) return []
    const before = this.before
    return (await appSchemaNames(this.client)).filter((name) => !before.objects[objectKey('schema', name)])
  }

  /**
   * Runs the rollback of the migration applied last as `rollback` does (statement by statement, one transaction),
   * compares the schema with the one before that migration, applies the migration again, and undoes all of it.
   */
  async tryRollback(file: string, text: string, migration: MigrationOnDisk): Promise<TrialOutcome> {
    const script = await parseRollbackScript(text)
    const problem = script.problems[0]
    if (problem) return { failure: { line: problem.line, text: `${file}:${problem.line}: ${problem.message}` }, unrestored: [] }
    await this.client.query('BEGIN')
    try {
      for (const statement of script.statements) {
        try {
          await this.client.query(statement.sql)
        } catch (error) {
          if (!isPostgresError(error)) throw error
          const report = sqlErrorReport(file, script.source, statement, error)
          return { failure: { line: report.line, ...(report.code ? { code: report.code } : {}), text: report.text }, unrestored: [] }
        }
      }
      const unrestored = this.before
        ? diffSchemas(await captureSchema(this.client), this.before, { actual: 'after the rollback', expected: 'before the migration' })
        : []
      const reapplyError = await this.reapply(migration)
      return { unrestored, ...(reapplyError ? { reapplyError } : {}) }
    } finally {
      await this.client.query('ROLLBACK')
    }
  }

  /** The migration again, inside the trial's transaction; skipped for one that manages transactions itself. */
  private async reapply(migration: MigrationOnDisk): Promise<string | undefined> {
    const sql = readFileSync(migration.sqlFile, 'utf8')
    // Statements that cannot run inside our transaction (BEGIN/COMMIT, CONCURRENTLY): the same test `rollback` uses.
    if ((await parseRollbackScript(sql)).problems.length > 0) return undefined
    await this.client.query('SAVEPOINT migrate_kit_reapply')
    try {
      await this.client.query(sql)
      return undefined
    } catch (error) {
      if (!isPostgresError(error)) throw error
      return `${error.code ? `${error.code}: ` : ''}${error.message}${error.detail ? ` (${error.detail})` : ''}`
    } finally {
      await this.client.query('ROLLBACK TO SAVEPOINT migrate_kit_reapply')
    }
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined)
    await this.scratch.drop()
  }
}
