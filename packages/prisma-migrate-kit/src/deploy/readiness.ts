import type { ClientBase } from 'pg'
import type { LoadedBackfill } from '../backfill/loader'
import type { BackfillStatusValue } from '../backfill/state'
import { backfillReadiness } from '../backfill/status'
import { describeVerify, type VerifyResult } from '../backfill/verify'
import type { Dependency, WaitReason } from './dependencies'

/** One backfill a migration waits for, and whether it is done and verified right now. */
export interface Wait {
  backfill: string
  /** backfills/<file>, relative to the project root. */
  file: string
  reasons: WaitReason[]
  status: BackfillStatusValue
  done: boolean
  /** Its verify query, run now, returned no row; null when it has none (or is not done, so it was not run). */
  verified: boolean | null
  verify: VerifyResult | null
  ready: boolean
  /** Why a backfill that was done is pending again (its table was reset since). */
  reset: string | null
}

/**
 * Asks the database about each dependency: backfillReadiness reads the state tables and, once a backfill is done,
 * runs its verify query in a READ ONLY transaction. Nothing is written.
 */
export async function readWaits(client: ClientBase, dependencies: Dependency[], backfills: Map<string, LoadedBackfill>): Promise<Wait[]> {
  const waits: Wait[] = []
  for (const dependency of dependencies) {
    const loaded = backfills.get(dependency.backfill)!
    const readiness = await backfillReadiness(client, loaded)
    waits.push({
      backfill: dependency.backfill,
      file: loaded.relativeFile,
      reasons: dependency.reasons,
      status: readiness.status,
      done: readiness.done,
      verified: readiness.done ? readiness.verified : null,
      verify: readiness.verify,
      ready: readiness.ready,
      reset: readiness.reset,
    })
  }
  return waits
}

/** `pending`, `paused at …`, `done, but verify returned 3 rows not done`: what stands between the backfill and ready. */
export function describeWait(wait: Wait): string {
  if (wait.ready) return wait.verified === null ? 'done' : 'done and verified'
  if (wait.done && wait.verify) return `done, but ${describeVerify(wait.verify)}`
  if (wait.reset) return `pending again: ${wait.reset}`
  return wait.status === 'pending' ? 'not run yet' : wait.status
}

/** Why the migration waits, in words: `named in its before:`, `drops users.username, which it reads`. */
export function describeReasons(reasons: WaitReason[]): string {
  return reasons
    .map((reason) =>
      reason.kind === 'before'
        ? 'its before: names this migration'
        : reason.columns.length === 0
          ? `line ${reason.line} ${reason.description} (the backfill's table)`
          : `line ${reason.line} ${reason.description} (${reason.columns.map((column) => `${reason.table}.${column}`).join(', ')}, which the backfill touches)`,
    )
    .join('; ')
}
