/**
 * How big the next batch is and when it may start. Pure functions and a clock-driven limiter, so the arithmetic is
 * tested on its own.
 */

import { defaultOf } from './options'

export interface BatchSizing {
  /** The batch duration to aim at (ms). */
  targetBatchMs: number
  minBatchSize: number
  maxBatchSize: number
}

/** Defaults of the settings table (options.ts), where --help reads them too. */
export const DEFAULT_TARGET_BATCH_MS = defaultOf('targetBatchMs')!
export const DEFAULT_BATCH_SIZE = defaultOf('batchSize')!
export const MIN_BATCH_SIZE = 10
export const MAX_BATCH_SIZE = 100_000
/** Like GitLab's batch optimizer: grow cautiously, at most ×1.2 per batch. */
export const MAX_GROWTH = 1.2
/** Within ±10 % of the target a batch is on target: leave the size alone rather than oscillate around it. */
export const ON_TARGET = 0.1

/**
 * The size of the next batch after one of `size` rows took `batchMs`: grow toward the target at most ×1.2, shrink
 * in proportion to how slow it was (a batch twice too slow halves the size), always within [min, max].
 */
export function nextBatchSize(size: number, batchMs: number, sizing: BatchSizing): number {
  const { targetBatchMs, minBatchSize, maxBatchSize } = sizing
  let next: number
  if (batchMs <= 0) next = size * MAX_GROWTH
  else {
    const ratio = targetBatchMs / batchMs
    if (Math.abs(1 - batchMs / targetBatchMs) <= ON_TARGET) next = size
    else next = ratio > 1 ? size * Math.min(ratio, MAX_GROWTH) : size * ratio
  }
  // Growth from a tiny size must still move (10 × 1.2 rounds back to 12, 1 × 1.2 to 1): at least one more row.
  const rounded = next > size ? Math.max(size + 1, Math.floor(next)) : Math.floor(next)
  return Math.min(maxBatchSize, Math.max(minBatchSize, rounded))
}

/**
 * The share of the table one batch may hold locked. While a batch runs, an app write to one of its rows waits for its
 * commit, so the share of app writes that wait is about half the batch's share of the table: at 1/200 that stays
 * under 0.3 %, below what moves an app's p99, whatever the table's size. The time target alone would let a batch hold
 * 2 to 3 % of a million-row table, and one app write in a hundred then waits for it.
 */
export const MAX_TABLE_SHARE = 1 / 200
/** Below this many rows per batch the per-batch round trips cost more than the locks save: small tables keep it. */
export const MIN_TABLE_SHARE_CAP = 2_000

/** The largest batch for a table of `tableRows` rows: at most MAX_TABLE_SHARE of it, never less than the floor. */
export function tableShareCap(sizing: BatchSizing, tableRows: number | null): BatchSizing {
  if (tableRows === null || !Number.isFinite(tableRows) || tableRows <= 0) return sizing
  const cap = Math.max(MIN_TABLE_SHARE_CAP, Math.floor(tableRows * MAX_TABLE_SHARE))
  const maxBatchSize = Math.min(sizing.maxBatchSize, cap)
  return { ...sizing, maxBatchSize, minBatchSize: Math.min(sizing.minBatchSize, maxBatchSize) }
}

/** The sizing a run uses: the rate limit also caps a batch, so one batch never takes more than a second's budget. */
export function batchSizing(options: { targetBatchMs?: number; maxRowsPerSecond?: number }): BatchSizing {
  const rateCap = options.maxRowsPerSecond ? Math.max(1, Math.floor(options.maxRowsPerSecond)) : MAX_BATCH_SIZE
  const maxBatchSize = Math.min(MAX_BATCH_SIZE, rateCap)
  return {
    targetBatchMs: options.targetBatchMs ?? DEFAULT_TARGET_BATCH_MS,
    minBatchSize: Math.min(MIN_BATCH_SIZE, maxBatchSize),
    maxBatchSize,
  }
}

/**
 * A token bucket over rows, shared by every worker of a runner: reserve() says how long to wait before a batch of
 * that many rows may start, and books it, so workers started together are spread over time.
 */
export class RowRateLimiter {
  private nextFreeAt: number

  constructor(
    readonly rowsPerSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.nextFreeAt = now()
  }

  /** Milliseconds to wait before starting a batch of `rows` rows. */
  reserve(rows: number): number {
    const now = this.now()
    const start = Math.max(now, this.nextFreeAt)
    this.nextFreeAt = start + (rows * 1000) / this.rowsPerSecond
    return start - now
  }

  /** Books the difference when a batch turned out bigger (or smaller) than reserved. */
  settle(extraRows: number): void {
    this.nextFreeAt += (extraRows * 1000) / this.rowsPerSecond
  }
}

/** Exponential backoff with jitter (half to full), capped: 100, 200, 400 … ms up to capMs. */
export function backoffMs(attempt: number, options: { baseMs?: number; capMs?: number } = {}, random = Math.random): number {
  const base = options.baseMs ?? 100
  const cap = options.capMs ?? 5_000
  const ceiling = Math.min(cap, base * 2 ** Math.max(0, attempt))
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}

/** Rows per second over a sliding window of (time, cumulative rows) samples: the recent pace, not the average. */
export class RateMeter {
  private samples: Array<{ at: number; rows: number }> = []
  /** Set while the run is held: the time held is not run time, so it is left out of the rate. */
  private heldSince: number | undefined

  constructor(
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  record(totalRows: number): void {
    const at = this.now()
    this.samples.push({ at, rows: totalRows })
    while (this.samples.length > 2 && at - this.samples[0].at > this.windowMs) this.samples.shift()
  }

  /** The run is held (paused): no rate until it goes on. */
  hold(): void {
    this.heldSince ??= this.now()
  }

  /** The run goes on: the samples move forward by the time held, as if the pause had not been. */
  release(): void {
    if (this.heldSince === undefined) return
    const held = this.now() - this.heldSince
    for (const sample of this.samples) sample.at += held
    this.heldSince = undefined
  }

  /** Rows per second over the window; 0 while held (a held run makes no progress and has no time left to tell). */
  perSecond(): number {
    if (this.heldSince !== undefined) return 0
    const first = this.samples[0]
    const last = this.samples[this.samples.length - 1]
    if (!first || !last || last.at === first.at) return 0
    return ((last.rows - first.rows) * 1000) / (last.at - first.at)
  }
}

/** Rows per second and the time left, for progress. Undefined while there is nothing to go on. */
export function eta(rowsDone: number, rowsTotal: number | null, rowsPerSecond: number): number | undefined {
  if (rowsTotal === null || rowsPerSecond <= 0) return undefined
  return Math.max(0, (rowsTotal - rowsDone) / rowsPerSecond)
}
