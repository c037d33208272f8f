import { StepFailedError, UsageError, type ErrorDetails } from '../errors'
import type { SqlErrorReport } from '../sql/error-report'

/** Why a rollback is refused before anything runs. */
export type RefusalReason =
  'missing_rollback' | 'invalid_rollback' | 'not_applied' | 'failed' | 'later_applied' | 'edited_migration' | 'bad_range'

export interface RollbackProblem {
  reason: RefusalReason
  migration: string
  /** What is wrong, in one sentence. */
  message: string
  /** The exact command or edit that fixes it. */
  hint: string
  /** The file concerned, relative to the project root, with a line where one is known. */
  file?: string
  line?: number
}

/**
 * Everything that stops a rollback, found before anything ran (exit 2): every problem at once, so an operator under
 * pressure fixes them in one go instead of one per attempt.
 */
export class RollbackRefusedError extends UsageError {
  constructor(readonly problems: RollbackProblem[]) {
    super(refusalMessage(problems), { hint: problems.length === 1 ? problems[0].hint : undefined })
  }
}

function refusalMessage(problems: RollbackProblem[]): string {
  const lines = problems.map((problem) => {
    const where = problem.file ? `${problem.file}${problem.line ? `:${problem.line}` : ''}: ` : ''
    return problems.length === 1 ? `${where}${problem.message}` : `  - ${where}${problem.message}\n    ${problem.hint}`
  })
  const head = 'rollback refused, nothing was changed'
  return problems.length === 1 ? `${head}: ${lines[0]}` : `${head}:\n${lines.join('\n')}`
}

/** A statement of a rollback.sql failed; the transaction was rolled back, so nothing changed. Exit 1. */
export class RollbackSqlError extends StepFailedError {
  constructor(
    readonly migration: string,
    readonly report: SqlErrorReport,
    details: ErrorDetails = {},
  ) {
    super(report.text, details)
  }
}

/** The state of _prisma_migrations changed between planning and running (a deploy ran meanwhile). Exit 1. */
export class RollbackStateChangedError extends StepFailedError {}

/** Prisma's diff could not produce a rollback script for a migration. Exit 1. */
export class RollbackGenerationError extends StepFailedError {
  constructor(
    readonly migration: string,
    message: string,
    details: ErrorDetails = {},
  ) {
    super(message, details)
  }
}

/** verify-rollbacks cannot prove a migration without its rollback.sql: refused before a database is made. Exit 2. */
export class MissingRollbacksError extends UsageError {
  constructor(readonly migrations: string[]) {
    super(
      `${migrations.length === 1 ? 'a migration has' : `${migrations.length} migrations have`} no rollback.sql: ` +
        migrations.map((name) => `rollbacks/${name}/rollback.sql`).join(', '),
      {
        hint:
          migrations.length === 1
            ? `Generate it, review it, commit it: npx migrate-kit rollbacks generate ${migrations[0]}`
            : 'Generate them, review them, commit them: npx migrate-kit rollbacks generate',
      },
    )
  }
}
