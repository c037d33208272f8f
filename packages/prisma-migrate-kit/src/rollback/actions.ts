import { randomUUID } from 'node:crypto'
import { quoteLiteral } from '../db/quote'
import { UsageError } from '../errors'
import { PRISMA_MIGRATE_LOCK } from '../prisma/migrations'
import { packageVersion } from '../version'
import type { RollbackSelection, RollbackStep } from './plan'
import { INSERT_RECORD_SQL, MARK_ROLLED_BACK_SQL, type Operator } from './record'
import type { RollbackStatement } from './script'

export const DEFAULT_LOCK_TIMEOUT = '5s'

/**
 * Every statement of the rollback transaction, in order. The dry run prints this list and the real run executes it,
 * so what an operator reviewed is what runs.
 */
export type RollbackAction =
  | { kind: 'begin'; sql: string }
  | { kind: 'lock_timeout'; sql: string }
  | { kind: 'lock'; sql: string; params: [number] }
  | { kind: 'recheck'; description: string }
  | { kind: 'statement'; step: number; statement: RollbackStatement }
  | { kind: 'mark'; step: number; sql: string; params: string[] }
  | { kind: 'record'; step: number; sql: string; params: Array<string | number> }
  | { kind: 'commit'; sql: string }

export interface RollbackPlan extends RollbackSelection {
  runId: string
  lockTimeout: string
  operator: Operator
  actions: RollbackAction[]
}

/**
 * PostgreSQL's own units for lock_timeout. SET cannot take a bind parameter, so the value is checked here and quoted
 * (db/quote.ts's rule for SET) instead of passed through.
 */
export function parseLockTimeout(value: string): string {
  const trimmed = value.trim()
  if (!/^\d+\s*(ms|s|min|h)?$/.test(trimmed)) {
    throw new UsageError(`--lock-timeout must be a duration such as 500ms, 5s or 1min, not "${value}"`, {
      hint: `The default is ${DEFAULT_LOCK_TIMEOUT}: a statement waiting longer than that for a lock gives up, and the rollback with it.`,
    })
  }
  return trimmed.replace(/\s+/g, '')
}

export function planActions(selection: RollbackSelection, lockTimeout: string, operator: Operator): RollbackPlan {
  const runId = randomUUID()
  const actions: RollbackAction[] = [
    { kind: 'begin', sql: 'BEGIN' },
    { kind: 'lock_timeout', sql: `SET LOCAL lock_timeout = ${quoteLiteral(lockTimeout)}` },
    { kind: 'lock', sql: 'SELECT pg_try_advisory_xact_lock($1) AS locked', params: [PRISMA_MIGRATE_LOCK] },
    {
      kind: 'recheck',
      description: 're-read _prisma_migrations under the lock; stop if a deploy or rollback changed it since this plan',
    },
  ]
  selection.steps.forEach((step, index) => {
    for (const statement of step.script.statements) actions.push({ kind: 'statement', step: index, statement })
    actions.push({ kind: 'mark', step: index, sql: MARK_ROLLED_BACK_SQL, params: [step.record.id, step.migration] })
    actions.push({ kind: 'record', step: index, sql: INSERT_RECORD_SQL, params: recordParams(runId, index, step, operator) })
  })
  actions.push({ kind: 'commit', sql: 'COMMIT' })
  return { ...selection, runId, lockTimeout, operator, actions }
}

function recordParams(runId: string, index: number, step: RollbackStep, operator: Operator): Array<string | number> {
  return [
    runId,
    index + 1,
    step.migration,
    step.record.id,
    step.record.checksum,
    step.migrationFileChecksum,
    step.rollbackFile,
    step.rollbackChecksum,
    operator.osUser,
    operator.host,
    operator.pid,
    packageVersion(),
  ]
}
