import type { KeyRange } from './ledger'
import type { RunTuning } from './options'
import type { BackfillStatusValue } from './state'
import type { VerifyResult } from './verify'

/** What a run is asked to do, what it tells while it works, and what it returns. */

/** The settings (batch size, pace, timeouts: RunTuning) are the rows of the table in options.ts, with their defaults. */
export interface RunOptions extends RunTuning {
  /** Add this process as another runner of a backfill that may already be running, instead of being refused. */
  join?: boolean
  /** Forget the ranges done and start over from the first key: every row is processed again. */
  restart?: boolean
  /** Redis for `invalidate`; without it, invalidation is skipped and the run says so once. */
  redisUrl?: string
  /** Aborting it stops the run once the batches in flight commit or roll back; the run is then recorded as paused. */
  signal?: AbortSignal
  /** Progress and notices, for a terminal or a log. */
  onEvent?: (event: RunEvent) => void
  /** How long the database may stay unreachable before the run gives up (ms). Default 5 minutes. */
  reconnectForMs?: number
  /** Catch-up passes at the end for rows inserted while the backfill ran. Default 5. */
  maxCatchUpPasses?: number
  /** Also tell the stack of an error that fails a batch (MIGRATE_KIT_DEBUG=1). */
  debug?: boolean
  /** How often a verify query still running is said (ms). Default 30 s. */
  verifyNoticeEveryMs?: number
}

export interface RunProgress {
  name: string
  /** running; held by a pause request; waiting for ranges other sessions hold. */
  state: 'running' | 'paused' | 'throttled' | 'waiting'
  rowsDone: number
  rowsTotal: number | null
  rowsChanged: number
  rowsPerSecond: number
  etaSeconds: number | undefined
  batchSize: number
}

export type RunEvent = { type: 'notice'; message: string } | { type: 'progress'; progress: RunProgress }

export interface RunResult {
  name: string
  /** How this run ended. */
  status: Extract<BackfillStatusValue, 'done' | 'paused' | 'failed' | 'cancelled' | 'running'>
  role: 'primary' | 'joined'
  rowsDone: number
  rowsTotal: number | null
  rowsChanged: number
  /** What this process did. */
  rowsThisRun: number
  batchesThisRun: number
  /** The longest batch of this process, BEGIN to COMMIT (ms): the longest it held rows locked. 0 when none ran. */
  maxBatchMs: number
  batchSize: number
  cursor: string | null
  /** The cursor as messages show it: `42`, or `(37, 4)` for a composite key. */
  cursorShown: string | null
  durationMs: number
  /** Of durationMs, the time the run was held by a pause request: not counted in its rows per second. */
  heldMs: number
  retries: number
  splits: number
  lastError: string | null
  failedRange: KeyRange | null
  /** That range as messages show it. */
  failedKeys: string | null
  verify: VerifyResult | null
  /** Set when the backfill was already done: nothing ran. */
  alreadyDone: boolean
  invalidation: { enabled: boolean; keysRemoved: number; pending: number }
}
