import os from 'node:os'
import type { ClientBase } from 'pg'
import { UsageError } from '../errors'
import { liveRunners } from './lock'
import { recordRequest } from './store'
import { backfillStateExists, inTransaction, readBackfillRecord, type BackfillStatusValue } from './state'

/**
 * pause, resume and cancel, from any machine: a request written on the backfill's row, which every runner reads
 * within a quarter of a second. Runners finish the batches in flight first: nothing is cut in the middle.
 */
export interface ControlResult {
  name: string
  status: BackfillStatusValue
  /** Runners connected right now, which act on the request. */
  runners: number
}

export type ControlAction = 'pause' | 'resume' | 'cancel'

function requester(): string {
  return `${os.hostname()}:${process.pid}`
}

export async function controlBackfill(client: ClientBase, name: string, action: ControlAction): Promise<ControlResult> {
  if (!(await backfillStateExists(client))) throw notStarted(name, action)
  return inTransaction(client, async () => {
    const record = await readBackfillRecord(client, name, { forUpdate: true })
    if (!record) throw notStarted(name, action)
    const runners = (await liveRunners(client, name)).length
    // A row left at "running" by a runner that died is paused in all but name.
    const current = record.status === 'running' && runners === 0 ? 'paused' : record.status
    const refuse = (why: string, hint: string) => new UsageError(`cannot ${action} backfill "${name}": ${why}`, { hint })
    if (current === 'done') throw refuse('it is done', `Nothing to ${action}. Its status: migrate-kit backfill status ${name}`)
    let status: BackfillStatusValue
    let requested: ControlAction | null
    if (action === 'pause') {
      if (current === 'cancelled' || current === 'failed') {
        throw refuse(`it is ${current}, nothing runs`, `Start it again with: migrate-kit backfill run ${name}`)
      }
      status = 'paused'
      requested = runners > 0 ? 'pause' : null
    } else if (action === 'resume') {
      if (current !== 'paused' && record.requested !== 'pause') {
        throw refuse(`it is ${current}, not paused`, `Its status: migrate-kit backfill status ${name}`)
      }
      status = runners > 0 ? 'running' : 'paused'
      requested = null
    } else {
      if (current === 'cancelled') throw refuse('it is already cancelled', `Its status: migrate-kit backfill status ${name}`)
      status = runners > 0 ? record.status : 'cancelled'
      requested = runners > 0 ? 'cancel' : null
    }
    await recordRequest(client, name, action, { status, requested, by: requester() })
    return { name, status: action === 'cancel' ? 'cancelled' : status, runners }
  })
}

function notStarted(name: string, action: ControlAction): UsageError {
  return new UsageError(`cannot ${action} backfill "${name}": it has never run on this database`, {
    hint: `Start it with: migrate-kit backfill run ${name}`,
  })
}
