import { backoffMs } from './pacing'
import { CONFLICT_ATTEMPTS, SINGLE_ROW_CONFLICT_ATTEMPTS, type FailureKind } from './retry'

/**
 * What a worker does with a batch that failed while its session was fine (a lost session is the worker's own
 * business: reconnect with backoff). Pure: the kind of failure (retry.ts), the range's size, and for a conflict how
 * many attempts the range has had, this one included.
 * - conflict (the app held a row): cool the range down and do the rest meanwhile; after CONFLICT_ATTEMPTS halve it;
 *   one row still held after SINGLE_ROW_CONFLICT_ATTEMPTS needs a person: fail it.
 * - data (PostgreSQL refused a row): halve at once; the ledger, which counts the rows the range holds now, finds the
 *   one row that cannot be halved, and it fails.
 * - code (not about a row): fail the whole range at once; halving would only blame a healthy row.
 */
export type FailureDecision = { action: 'cool'; forMs: number } | { action: 'halve' } | { action: 'fail'; note: string }

export function decideFailure(
  kind: Exclude<FailureKind, 'connection'>,
  range: { rows: number },
  attempts = 1,
  random: () => number = Math.random,
): FailureDecision {
  if (kind === 'code') return { action: 'fail', note: '' }
  if (kind === 'data') return { action: 'halve' }
  const singleRow = range.rows <= 1
  if (attempts < CONFLICT_ATTEMPTS || (singleRow && attempts < SINGLE_ROW_CONFLICT_ATTEMPTS)) {
    return { action: 'cool', forMs: backoffMs(attempts, {}, random) }
  }
  return singleRow ? { action: 'fail', note: ` (still, after ${attempts} attempts)` } : { action: 'halve' }
}
