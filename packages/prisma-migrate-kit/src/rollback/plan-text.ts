import type { RollbackAction, RollbackPlan } from './actions'
import type { RollbackRun } from './run'
import { RollbackSqlError } from './errors'
import { errorMessage } from '../errors'

function literal(value: string | number): string {
  return typeof value === 'number' ? String(value) : `'${value.replace(/'/g, "''")}'`
}

function withParams(sql: string, params: Array<string | number>): string {
  return `${sql};  -- ${params.map((value, index) => `$${index + 1} = ${literal(value)}`).join(', ')}`
}

/** One action as SQL a person can read and paste: the statement, its bound values in a comment. */
export function actionLines(plan: RollbackPlan, action: RollbackAction): string[] {
  switch (action.kind) {
    case 'begin':
    case 'lock_timeout':
    case 'commit':
      return [`${action.sql};`]
    case 'lock':
      return [`${withParams(action.sql, action.params)}: Prisma Migrate's lock; if another session holds it, stop (exit 4)`]
    case 'recheck':
      return [`-- ${action.description}`]
    case 'statement': {
      const step = plan.steps[action.step]
      const first = step.script.statements[0] === action.statement
      return [
        ...(first ? ['', `-- ${step.migration}: ${step.rollbackFile}`] : []),
        `-- ${step.rollbackFile}:${action.statement.line}`,
        `${action.statement.sql};`,
      ]
    }
    case 'mark':
    case 'record': {
      const step = plan.steps[action.step]
      const why =
        action.kind === 'mark'
          ? `-- Prisma sees ${step.migration} as not applied from here on (\`prisma migrate deploy\` re-applies it)`
          : '-- our record: which files, which checksums, who'
      const empty = action.kind === 'mark' && step.script.statements.length === 0
      return [
        ...(empty ? ['', `-- ${step.migration}: ${step.rollbackFile} (no statements)`] : []),
        why,
        withParams(action.sql, action.params),
      ]
    }
  }
}

/** What `rollback --dry-run` prints: which migrations, which files, then every statement the real run executes. */
export function planLines(plan: RollbackPlan, database: string): string[] {
  const lines = [`Rollback plan for ${database}, newest first (dry run: nothing was changed):`]
  plan.steps.forEach((step, index) => {
    lines.push(
      `  ${index + 1}. ${step.migration}  ${step.rollbackFile}  (${step.script.statements.length} statements, ` +
        `sha256 ${step.rollbackChecksum.slice(0, 12)}…)`,
    )
    if (step.edited) lines.push('     migration.sql changed since Prisma applied it: accepted with --accept-edited-migration')
  })
  for (const skipped of plan.skipped) lines.push(`  skipped: ${skipped.migration} (${skipped.state.replace('_', ' ')}: nothing to revert)`)
  lines.push(`All in one transaction, lock_timeout ${plan.lockTimeout}; these statements, in this order:`, '')
  for (const action of plan.actions) lines.push(...actionLines(plan, action))
  return lines
}

/** One action for scripts: the SQL exactly as it is sent, its bound values, and where a statement comes from. */
function actionJson(plan: RollbackPlan, action: RollbackAction): object {
  switch (action.kind) {
    case 'recheck':
      return { kind: action.kind, description: action.description }
    case 'statement': {
      const step = plan.steps[action.step]
      return {
        kind: action.kind,
        migration: step.migration,
        file: step.rollbackFile,
        line: action.statement.line,
        sql: action.statement.sql,
      }
    }
    case 'mark':
    case 'record':
      return { kind: action.kind, migration: plan.steps[action.step].migration, sql: action.sql, params: action.params }
    case 'lock':
      return { kind: action.kind, sql: action.sql, params: action.params }
    default:
      return { kind: action.kind, sql: action.sql }
  }
}

/** The `rollback --json` document. */
export function rollbackJson(plan: RollbackPlan, run: RollbackRun | undefined): object {
  const error = run?.error
  return {
    ok: run ? run.error === undefined : true,
    dryRun: run === undefined,
    lockTimeout: plan.lockTimeout,
    migrations: plan.steps.map((step, index) => ({
      name: step.migration,
      status: run ? run.results[index].status : 'planned',
      rollbackFile: step.rollbackFile,
      rollbackChecksum: step.rollbackChecksum,
      statements: step.script.statements.length,
      editedMigrationAccepted: step.edited,
    })),
    skipped: plan.skipped.map(({ migration, state }) => ({ name: migration, state })),
    ...(run === undefined ? { actions: plan.actions.map((action) => actionJson(plan, action)) } : {}),
    ...(error
      ? {
          error:
            error instanceof RollbackSqlError
              ? {
                  message: error.report.message,
                  migration: error.migration,
                  file: error.report.file,
                  line: error.report.line,
                  column: error.report.column,
                  code: error.report.code,
                  detail: error.report.detail,
                  hint: error.report.hint,
                }
              : { message: errorMessage(error) },
        }
      : {}),
  }
}
