import type { ClientBase } from 'pg'
import { listMigrations, readMigrationRecords, recordsByName, type MigrationOnDisk } from '../prisma/migrations'
import type { Project } from '../project'
import { DEFAULT_LOCK_TIMEOUT, parseLockTimeout, planActions, type RollbackPlan } from './actions'
import { selectRollback, type RollbackRequest } from './plan'
import { currentOperator } from './record'
import { executeRollback, type RollbackRun } from './run'

export interface RollbackOptions extends RollbackRequest {
  /** How long one statement may wait for a lock before the whole rollback gives up (PostgreSQL units: 5s, 500ms). */
  lockTimeout?: string
  /** The project's migrations, when the caller listed them already (verify-rollbacks lists them once per run). */
  history?: MigrationOnDisk[]
}

/** The plan `--dry-run` prints: refuses (exit 2) what can be refused before anything runs, changes nothing. */
export async function planRollback(client: ClientBase, project: Project, options: RollbackOptions): Promise<RollbackPlan> {
  const lockTimeout = parseLockTimeout(options.lockTimeout ?? DEFAULT_LOCK_TIMEOUT)
  const records = recordsByName(await readMigrationRecords(client))
  const selection = await selectRollback(project, options.history ?? listMigrations(project), records, options)
  return planActions(selection, lockTimeout, currentOperator())
}

/** Plans, then executes exactly that plan in one transaction. */
export async function rollbackMigrations(
  client: ClientBase,
  project: Project,
  options: RollbackOptions,
): Promise<RollbackRun & { plan: RollbackPlan }> {
  const plan = await planRollback(client, project, options)
  return { plan, ...(await executeRollback(client, plan)) }
}
