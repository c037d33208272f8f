import type { ClientBase } from 'pg'
import type { LoadedBackfill } from '../backfill/loader'
import { readBackfillStatuses, type BackfillStatus } from '../backfill/status'
import type { Project } from '../project'
import { backfillColumns } from './backfill-columns'
import { dependenciesOf, type GateBackfill } from './dependencies'
import { namesMigration, pendingEntries, readHistory, type History, type HistoryEntry } from './history'
import { readWaits, type Wait } from './readiness'

/** A pending migration that waits for backfills, with their readiness as read now. */
export interface Gate {
  entry: HistoryEntry
  waits: Wait[]
}

/** A backfill as the plan sees it. */
export interface BackfillState {
  loaded: LoadedBackfill
  status: BackfillStatus
  /** Its `before:` migration is applied: the contract it prepared has run, so there is nothing left for it to do. */
  obsolete: boolean
}

/** Everything deploy, plan and check decide from: migrations, backfills and the gates between them. */
export interface DeployState {
  history: History
  backfills: BackfillState[]
  /** Pending migrations that wait for at least one backfill, in Prisma's order. */
  gates: Gate[]
}

/** Reads the state; writes nothing (verify queries run in READ ONLY transactions). */
export async function readDeployState(client: ClientBase, project: Project, loaded: LoadedBackfill[]): Promise<DeployState> {
  const history = await readHistory(client, project)
  const gateBackfills: GateBackfill[] = []
  for (const backfill of loaded) gateBackfills.push({ loaded: backfill, columns: await backfillColumns(backfill.definition) })
  const byName = new Map(loaded.map((backfill) => [backfill.name, backfill]))
  const gates: Gate[] = []
  for (const entry of pendingEntries(history)) {
    const dependencies = dependenciesOf(entry, history.entries, gateBackfills)
    if (dependencies.length > 0) gates.push({ entry, waits: await readWaits(client, dependencies, byName) })
  }
  const statuses = new Map((await readBackfillStatuses(client, loaded)).map((status) => [status.name, status]))
  const backfills = loaded.map((backfill): BackfillState => {
    const before = backfill.before
    const obsolete =
      before !== undefined && history.entries.some((entry) => entry.state === 'applied' && namesMigration(before, entry.migration.name))
    return { loaded: backfill, status: statuses.get(backfill.name)!, obsolete }
  })
  return { history, backfills, gates }
}
