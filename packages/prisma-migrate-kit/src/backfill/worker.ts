import type { Pool, PoolClient } from 'pg'
import { backendPidOf, isStalledConnection, stalledConnectionText } from '../db/connect'
import { runBatch, type BatchSettings } from './batch'
import { decideFailure } from './failure-policy'
import {
  carveRange,
  describeRange,
  failRange,
  ledgerTotals,
  recordAttempt,
  splitRange,
  type CarveResult,
  type KeyRange,
  type LedgerRange,
} from './ledger'
import { waitForRate, type RunLifecycle } from './lifecycle'
import { backoffMs, type RowRateLimiter } from './pacing'
import type { PrismaBinding } from './prisma'
import { classifyFailure, describeFailure, withheldDetail, type FailureKind } from './retry'
import type { ResolvedBackfill } from './validate'

/** How often a held worker, or one waiting for ranges other sessions hold, looks again. */
export const WORKER_POLL_MS = 250

/** What the workers need from the run they belong to. */
export interface WorkerRun {
  readonly resolved: ResolvedBackfill
  readonly lifecycle: RunLifecycle
  readonly limiter: RowRateLimiter | undefined
  readonly pool: Pool
  readonly settings: BatchSettings
  readonly pauseMs: number
  readonly maxCatchUpPasses: number
  readonly reconnectForMs: number
  readonly debug: boolean
  /** Keep PostgreSQL's DETAIL of a failure (the failing row's values) in messages and the ledger. */
  readonly keepErrorDetail: boolean
  /** The batch size now (adapted by the run after each batch). */
  batchSize(): number
  /** A batch committed: counters, adaptive size, rate. */
  recordBatch(range: LedgerRange, rowsChanged: number, batchMs: number): void
  /** After how long without an answer a batch's session counts as stalled (its statement_timeout + a margin). */
  readonly stallAfterMs: number
  /** Asks the server to end sessions of this run that stalled (open there still, holding their ranges). */
  endStalledSessions(pids: number[]): Promise<void>
  /** The sessions a batch of this run was last seen waiting for (within seconds), described; undefined if none. */
  lockHolders(): string | undefined
  /** After a batch: deliver the cache invalidations it queued. */
  afterBatch(): void
  notice(message: string): void
  /** The run fails: on a range (recorded failed, its keys kept for the next run) or as a whole. */
  fail(message: string, range: KeyRange | null, reason: 'failure' | 'fatal'): void
  count(what: 'retry' | 'split'): void
}

/**
 * The workers of one run: each claims a range, runs its batch (batch.ts: one transaction), records it, and hands a
 * failed batch to the failure policy (failure-policy.ts). What they share: ranges cooling down after a conflict, the
 * database outage in progress, and whether they wait for ranges other sessions hold.
 */
export class Workers {
  /** Ranges that met an app's lock, by id, and when they may be tried again. */
  private readonly cooling = new Map<string, number>()
  private conflictNoticed = false
  /** When the database was lost, while it is (one notice per outage). */
  private outageSince: number | undefined
  private waitingSince: number | undefined
  private waitingNoticed = false

  constructor(private readonly run: WorkerRun) {}

  /** Every worker found no free range while some are still held by other sessions. */
  get waiting(): boolean {
    return this.waitingSince !== undefined
  }

  /** One worker: claim and run batches until nothing is left, the run stops, or its range fails for good. */
  async work(prisma: PrismaBinding): Promise<void> {
    const { lifecycle } = this.run
    let client: PoolClient | undefined
    let reconnectAttempts = 0
    // The range this worker cut last. When its batch was that very range, the claim had nothing older to take, so the
    // worker cuts the next range before it claims: asking first would find nothing, a transaction per batch for
    // nothing. Anything else (split halves, ranges left by a crash, other runners) goes claim first, as always.
    let lastCut: KeyRange | undefined
    let carveFirst = false
    while (!lifecycle.leaving) {
      if (lifecycle.held) {
        await lifecycle.nap(WORKER_POLL_MS)
        continue
      }
      try {
        if (!client) {
          client = await this.run.pool.connect()
          // A session killed while this worker holds it must surface as a failed query, not crash the process.
          client.on('error', () => undefined)
        }
        if (carveFirst) {
          carveFirst = false
          // Whatever it finds (a new range, or the end), the claim below takes the oldest free range, or finds none
          // and goes the usual way (nextRange): waiting for ranges others hold, or finishing.
          lastCut = cutRange(await this.carve(client))
          if (lifecycle.leaving) break
        }
        const reserved = this.run.batchSize()
        // A pause during the rate wait wakes it: the batch then waits for resume, its slot given back.
        const admitted = await waitForRate(lifecycle, this.run.limiter, reserved)
        if (admitted === 'leave') break
        if (admitted === 'held') continue
        const outcome = await runBatch(client, this.run.settings, prisma, this.coolingRanges())
        if (outcome.kind !== 'done') this.run.limiter?.settle(-reserved)
        const failure = outcome.kind === 'failed' ? { kind: classifyFailure(outcome.error), error: outcome.error } : undefined
        if (failure?.kind === 'connection') throw failure.error
        reconnectAttempts = 0
        this.connectionBack()
        if (outcome.kind === 'failed' && failure) {
          await this.handleFailure(client, outcome.range, outcome.error, failure.kind)
        } else if (outcome.kind === 'done') {
          this.run.limiter?.settle(outcome.range.rows - reserved)
          this.waitingSince = undefined
          this.run.recordBatch(outcome.range, outcome.rowsChanged, outcome.batchMs)
          this.run.afterBatch()
          await lifecycle.nap(this.run.pauseMs)
          carveFirst = lastCut !== undefined && lastCut.after === outcome.range.after && lastCut.upTo === outcome.range.upTo
        } else {
          const next = await this.nextRange(client)
          if (next === 'finished') break
          lastCut = next
        }
      } catch (error) {
        if (classifyFailure(error) !== 'connection') {
          this.run.fail(`unexpected failure: ${describeFailure(error)}`, null, 'fatal')
          break
        }
        // A stalled session is open on the server still, holding its batch's range: this worker's pid for it is
        // taken before the session is dropped, and the server is asked to end it.
        const stalledPid = isStalledConnection(error) && client ? backendPidOf(client) : undefined
        client?.release(error instanceof Error ? error : true)
        client = undefined
        if (!this.connectionLost(error)) break
        if (stalledPid !== undefined) await this.run.endStalledSessions([stalledPid])
        this.run.count('retry')
        await lifecycle.nap(backoffMs(reconnectAttempts++, { capMs: 5_000 }))
      }
    }
    client?.release()
  }

  /** A worker lost its session. Said once per outage; false once the outage lasted too long (the run then fails). */
  private connectionLost(error: unknown): boolean {
    if (this.outageSince === undefined) {
      this.outageSince = Date.now()
      this.run.notice(
        isStalledConnection(error)
          ? `${stalledConnectionText(this.run.stallAfterMs)}: the batch is dropped, its session ended on the server, and it is retried on a new connection.`
          : `Lost the database connection (${describeFailure(error)}); reconnecting with backoff.`,
      )
    }
    const seconds = (Date.now() - this.outageSince) / 1000
    if (seconds * 1000 > this.run.reconnectForMs) {
      this.run.fail(`the database was unreachable for ${Math.round(seconds)} s: ${describeFailure(error)}`, null, 'fatal')
      return false
    }
    return true
  }

  private connectionBack(): void {
    if (this.outageSince === undefined) return
    this.run.notice(`Reconnected after ${((Date.now() - this.outageSince) / 1000).toFixed(1)} s; carrying on.`)
    this.outageSince = undefined
  }

  private coolingRanges(): string[] {
    const now = Date.now()
    for (const [id, until] of this.cooling) if (until <= now) this.cooling.delete(id)
    return [...this.cooling.keys()]
  }

  /** Cuts the next range at the current batch size, or moves the bound for rows inserted meanwhile. */
  private async carve(client: PoolClient): Promise<CarveResult> {
    const carved = await carveRange(client, this.run.resolved, this.run.batchSize(), this.run.maxCatchUpPasses)
    if (carved.kind === 'carved') this.waitingSince = undefined
    if (carved.kind === 'extended' && carved.catchUp) this.run.notice('Catch-up pass: covering rows inserted since the backfill started.')
    return carved
  }

  /**
   * No free pending range: cut one (returned), extend for rows inserted meanwhile, wait for ranges others hold, or
   * finish.
   */
  private async nextRange(client: PoolClient): Promise<KeyRange | undefined | 'finished'> {
    const carved = await this.carve(client)
    if (carved.kind !== 'exhausted') return cutRange(carved)
    const totals = await ledgerTotals(client, this.run.resolved.name)
    if (totals.rangesFailed > 0 && totals.rangesPending === 0) {
      this.run.lifecycle.stop('failed-elsewhere')
      return 'finished'
    }
    if (totals.rangesPending === 0) return 'finished'
    // Pending ranges that SKIP LOCKED passed over: another runner's batches in flight, or the transaction of a killed
    // runner that the server has not ended yet. Either commits (done) or rolls back (free again): wait for it.
    this.waitingSince ??= Date.now()
    if (!this.waitingNoticed && Date.now() - this.waitingSince > 5_000) {
      this.waitingNoticed = true
      this.run.notice(
        `Waiting for ${totals.rangesPending} range${totals.rangesPending === 1 ? '' : 's'} held by other sessions (another runner, or a batch of a stopped runner the database is still ending).`,
      )
    }
    await this.run.lifecycle.nap(WORKER_POLL_MS)
    return undefined
  }

  /** A batch that failed while the session was fine: the failure policy says what to do with its range. */
  private async handleFailure(
    client: PoolClient,
    range: LedgerRange | undefined,
    error: unknown,
    kind: Exclude<FailureKind, 'connection'>,
  ): Promise<void> {
    const detail = this.run.keepErrorDetail
    const message = describeFailure(error, { detail })
    if (this.run.debug && error instanceof Error && error.stack) this.run.notice(`The error's stack (MIGRATE_KIT_DEBUG):\n${error.stack}`)
    if (!range) {
      this.run.fail(`a batch failed before it claimed a range: ${message}`, null, 'fatal')
      return
    }
    let attempts: number | undefined
    if (kind !== 'code') this.run.count('retry')
    if (kind === 'conflict') {
      attempts = await recordAttempt(client, range.id, message)
      if (attempts === undefined) return // another worker has taken it meanwhile
    }
    const decision = decideFailure(kind, range, attempts)
    // A lock wait: the session holding the rows, as the run last saw it waiting (a person can look at it, or end it).
    const holders = kind === 'conflict' ? this.run.lockHolders() : undefined
    const heldBy = holders ? `; held by ${holders}` : ''
    let note = ''
    if (decision.action === 'cool') {
      // Let it cool down and do the rest of the table meanwhile, rather than queue behind the app.
      this.cooling.set(range.id, Date.now() + decision.forMs)
      if (!this.conflictNoticed) {
        this.conflictNoticed = true
        this.run.notice(
          `Batch of keys ${describeRange(this.run.resolved.key, range)} met the app (${describeFailure(error, { short: true, detail })}${heldBy}); it is retried with backoff while the rest goes on.`,
        )
      }
      return
    }
    if (decision.action === 'halve') {
      const split = await splitRange(client, this.run.resolved, range.id)
      if (split === 'split') {
        this.run.count('split')
        // A conflict is the app's lock, not a fault of the rows: a smaller batch just holds fewer rows for less time.
        this.run.notice(
          kind === 'conflict'
            ? `Batch of keys ${describeRange(this.run.resolved.key, range)} met the app again (${describeFailure(error, { short: true, detail })}${heldBy}); split in two, so each half locks fewer rows for less time.`
            : `Batch of keys ${describeRange(this.run.resolved.key, range)} failed (${describeFailure(error, { short: true, detail })}); split in two to find the rows at fault.`,
        )
        return
      }
      if (split === 'busy') return // another worker has taken it meanwhile
      // A range of one row cannot be halved: that row is the one at fault.
    } else note = decision.note
    const recorded = `${message}${note}${heldBy}${withheldDetail(error, detail)}`
    await failRange(client, this.run.resolved.name, range, recorded)
    this.run.fail(recorded, { after: range.after, upTo: range.upTo }, 'failure')
  }
}

function cutRange(carved: CarveResult): KeyRange | undefined {
  return carved.kind === 'carved' ? carved.range : undefined
}
