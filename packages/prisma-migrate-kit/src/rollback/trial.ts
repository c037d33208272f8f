import type { Client } from 'pg'
import { readFileSync } from 'node:fs'
import { connect } from '../db/connect'
import { createScratchDatabase, type ScratchDatabase } from '../db/scratch'
import type { MigrationOnDisk } from '../prisma/migrations'
import { RollbackGenerationError } from './errors'
import { parseRollbackScript } from './script'
import { isPostgresError, sqlErrorReport } from './sql-error'

/** Why a rollback did not run in the trial, located in its file. */
export interface TrialFailure {
  line: number
  code?: string
  /** file:line:column, PostgreSQL's message, the lines and a caret. */
  text: string
}

/**
 * A scratch database that follows the history: each migration.sql applied as Prisma applies it (the whole file as
 * one script), and a rollback tried on top of it inside a transaction that is always rolled back. Generating the
 * rollbacks of a whole history walks it once: migration i is applied, its rollback tried, then migration i + 1.
 */
export class RollbackTrial {
  private applied = 0

  private constructor(
    private readonly scratch: ScratchDatabase,
    private readonly client: Client,
  ) {}

  static async open(serverUrl: string): Promise<RollbackTrial> {
    const scratch = await createScratchDatabase(serverUrl, { prefix: 'migrate_kit_trial_', purpose: 'rollbacks generate (to try each rollback it writes)' })
    try {
      return new RollbackTrial(scratch, await connect(scratch.url, { applicationName: 'migrate-kit rollbacks generate' }))
    } catch (error) {
      await scratch.drop()
      throw error
    }
  }

  /** Whether the database can still be brought to just after history[index] (it never goes back). */
  reaches(index: number): boolean {
    return index + 1 >= this.applied
  }

  /** Applies the migrations up to and including history[index]. */
  async applyThrough(history: MigrationOnDisk[], index: number): Promise<void> {
    if (!this.reaches(index)) throw new Error(`the trial database is past ${history[index]?.name}`)
    for (; this.applied <= index; this.applied++) {
      const migration = history[this.applied]!
      try {
        await this.client.query(readFileSync(migration.sqlFile, 'utf8'))
      } catch (error) {
        await this.client.query('ROLLBACK').catch(() => undefined)
        throw new RollbackGenerationError(
          history[index]!.name,
          `cannot try the rollback: ${migration.name}/migration.sql does not apply to a database built from the migrations before it: ${(error as Error).message}`,
          { cause: error, hint: 'Every migration must apply in order to an empty database (Prisma\'s shadow database needs that too). Fix that migration first.' },
        )
      }
      // A script that leaves its transaction open would fail under Prisma; here it must not swallow what follows.
      if (this.client.getTransactionStatus() !== 'I') await this.client.query('ROLLBACK').catch(() => undefined)
    }
  }

  /** Runs the rollback as `rollback` does (statement by statement, one transaction) and undoes it; undefined = it ran. */
  async tryRollback(file: string, text: string): Promise<TrialFailure | undefined> {
    const script = await parseRollbackScript(text)
    const problem = script.problems[0]
    if (problem) return { line: problem.line, text: `${file}:${problem.line}: ${problem.message}` }
    await this.client.query('BEGIN')
    try {
      for (const statement of script.statements) {
        try {
          await this.client.query(statement.sql)
        } catch (error) {
          if (!isPostgresError(error)) throw error
          const report = sqlErrorReport(file, script.source, statement, error)
          return { line: report.line, ...(report.code ? { code: report.code } : {}), text: report.text }
        }
      }
      return undefined
    } finally {
      await this.client.query('ROLLBACK')
    }
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined)
    await this.scratch.drop()
  }
}
