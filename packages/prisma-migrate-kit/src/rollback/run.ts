import type { ClientBase } from 'pg'
import { LockHeldError, errorMessage, type MigrateKitError } from '../errors'
import { migrationState, readMigrationRecords, recordsByName, type MigrationRecord } from '../prisma/migrations'
import { ensureState } from '../state/schema'
import type { RollbackPlan } from './actions'
import { RollbackSqlError, RollbackStateChangedError } from './errors'
import { ROLLBACK_STATE } from './record'
import { isPostgresError, sqlErrorReport } from '../sql/error-report'

/** Per migration, Kysely-style: partial progress is never hidden inside an exception. */
export interface RollbackResult {
  migration: string
  rollbackFile: string
  /** `not_executed`: never started, or undone with the rest of the transaction when another one failed. */
  status: 'rolled_back' | 'error' | 'not_executed'
}

export interface RollbackRun {
  results: RollbackResult[]
  /** Set when nothing was committed; the CLI maps it to its exit code. */
  error?: MigrateKitError
}

/**
 * Executes the plan's actions in one transaction: every rollback.sql of the run, each migration's Prisma row marked
 * rolled back, our record. All of it commits, or none of it does (PostgreSQL's DDL is transactional).
 */
export async function executeRollback(client: ClientBase, plan: RollbackPlan): Promise<RollbackRun> {
  // Our table is created in its own transaction first: harmless to keep when the rollback fails.
  await ensureState(client, ROLLBACK_STATE)
  const results: RollbackResult[] = plan.steps.map((step) => ({
    migration: step.migration,
    rollbackFile: step.rollbackFile,
    status: 'not_executed',
  }))
  try {
    for (const action of plan.actions) {
      switch (action.kind) {
        case 'begin':
        case 'lock_timeout':
        case 'commit':
          await client.query(action.sql)
          break
        case 'lock': {
          const { rows } = await client.query<{ locked: boolean }>(action.sql, action.params)
          if (!rows[0]?.locked) {
            throw new LockHeldError(
              "Prisma Migrate's lock on this database is held by another session (a `prisma migrate` command or another rollback is running)",
              undefined,
              {
                hint: 'Wait for it to finish (`npx migrate-kit status` shows the result), then run the rollback again.',
              },
            )
          }
          break
        }
        case 'recheck':
          assertPlanStillHolds(plan, await readMigrationRecords(client))
          break
        case 'statement': {
          const step = plan.steps[action.step]
          try {
            await client.query(action.statement.sql)
          } catch (error) {
            if (!isPostgresError(error)) throw error
            const report = sqlErrorReport(step.rollbackFile, step.script.source, action.statement, error)
            throw new RollbackSqlError(step.migration, report, { cause: error, hint: sqlErrorHint(plan, step.rollbackFile, error.code) })
          }
          break
        }
        case 'mark': {
          const { rowCount } = await client.query(action.sql, action.params)
          if (rowCount !== 1) {
            throw new RollbackStateChangedError(
              `_prisma_migrations row ${action.params[0]} of ${action.params[1]} is no longer the applied one`,
              { hint: 'Nothing was changed. Check `npx migrate-kit status`, then plan again.' },
            )
          }
          break
        }
        case 'record':
          await client.query(action.sql, action.params)
          break
      }
    }
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    if (error instanceof RollbackSqlError) {
      for (const result of results) if (result.migration === error.migration) result.status = 'error'
    }
    return { results, error: asKitError(error) }
  }
  for (const result of results) result.status = 'rolled_back'
  return { results }
}

function sqlErrorHint(plan: RollbackPlan, file: string, code: string | undefined): string {
  const undone = plan.steps.length > 1 ? ` (all ${plan.steps.length} migrations of this run)` : ''
  const command = `npx migrate-kit rollback ${plan.steps[0].migration}${plan.steps.length > 1 ? ` --to ${plan.steps.at(-1)!.migration}` : ''}`
  const cause =
    code === '55P03'
      ? 'A lock wait ran out: stop the writers (or wait for a quieter moment), or raise --lock-timeout, then'
      : `Fix the cause (the WARNING lines at the top of ${file} say what the rollback needs of the data) or the file, check it with \`${command} --dry-run\`, then`
  return `Nothing was changed: the whole transaction was rolled back${undone}. ${cause} run the rollback again.`
}

function asKitError(error: unknown): MigrateKitError {
  if (error instanceof RollbackSqlError || error instanceof LockHeldError || error instanceof RollbackStateChangedError) {
    return error
  }
  if (isPostgresError(error)) {
    return new RollbackStateChangedError(`the rollback transaction failed: ${error.message}`, {
      cause: error,
      hint: 'Nothing was changed: the transaction was rolled back.',
    })
  }
  return new RollbackStateChangedError(`the rollback stopped: ${errorMessage(error)}`, {
    cause: error,
    hint: 'Nothing was changed: the transaction was rolled back.',
  })
}

/**
 * Between planning and taking the lock, a deploy or another rollback may have run. The plan still holds when each
 * migration's live row is the one planned and nothing newer than the newest of them got applied.
 */
export function assertPlanStillHolds(plan: RollbackPlan, records: MigrationRecord[]): void {
  const byName = recordsByName(records)
  for (const step of plan.steps) {
    const live = (byName.get(step.migration) ?? []).filter((row) => row.rolledBackAt === null).at(-1)
    if (live?.id !== step.record.id || live.finishedAt === null) {
      throw new RollbackStateChangedError(`${step.migration} changed in _prisma_migrations since the rollback was planned`, {
        hint: 'Nothing was changed. Check `npx migrate-kit status`, then run the rollback again.',
      })
    }
  }
  const newest = plan.steps[0]?.migration ?? ''
  const newer = [...byName.entries()]
    .filter(([name, rows]) => name > newest && ['applied', 'failed'].includes(migrationState(rows)))
    .map(([name]) => name)
  if (newer.length > 0) {
    throw new RollbackStateChangedError(`${newer.join(', ')} got applied since the rollback was planned`, {
      hint: `Nothing was changed. Roll back newest first: npx migrate-kit rollback ${newer.sort().at(-1)} --to ${plan.steps.at(-1)?.migration ?? newest}`,
    })
  }
}
