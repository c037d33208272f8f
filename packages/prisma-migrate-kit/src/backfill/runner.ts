import { randomUUID } from 'node:crypto'
import os from 'node:os'
import { performance } from 'node:perf_hooks'
import type { Client, Pool, PoolClient } from 'pg'
import {
  closeClient,
  closePool,
  connect,
  createPool,
  isStalledConnection,
  stallLimitMs,
  stalledConnectionText,
  withConnection,
} from '../db/connect'
import { blockingSessions, describeBlockingSession, type BlockingSession } from '../db/locks'
import { formatDuration } from './progress'
import { ReplicaLagMeter, assertReplicasVisible, describeReplica, readReplication } from './replica-lag'
import { LATENCY_WINDOW, LatencyWindow, PROBE_EVERY_MS, assertProbeRuns, timeProbe } from './app-latency'
import { UsageError } from '../errors'
import type { MigrationRecord } from '../prisma/migrations'
import { assertAfterMigrationApplied } from './after-migration'
import { PrecheckFailedError } from './errors'
import type { BatchSettings } from './batch'
import { InvalidationFlusher, describeRedis, pendingInvalidations, pendingInvalidationsNotice } from './invalidation'
import { displayKey } from './key'
import { describeRange, ledgerTotals, lowWaterCursor, type KeyRange, type LedgerRange } from './ledger'
import type { LoadedBackfill } from './loader'
import {
  endOwnStalledSession,
  endSessions,
  heartbeatRunner,
  liveRunners,
  lockHeldError,
  registerRunner,
  releaseBackfillLock,
  removeRunner,
  tryBackfillLock,
  type RunnerIdentity,
} from './lock'
import {
  RateMeter,
  RowRateLimiter,
  backoffMs,
  batchSizing,
  eta,
  nextBatchSize,
  tableShareCap,
  type BatchSizing,
  DEFAULT_BATCH_SIZE,
} from './pacing'
import { RunLifecycle } from './lifecycle'
import { setting } from './options'
import { takeOverBackfill } from './takeover'
import { Workers, type WorkerRun } from './worker'
import { PrismaBinding } from './prisma'
import { DEFAULT_RECONNECT_FOR_MS, sleep } from './retry'
import { T, ensureBackfillState, readBackfillRecord, type BackfillStatusValue } from './state'
import { resolveBackfill, type ResolvedBackfill } from './validate'
import { describePrecheck, describeVerify, runPrecheck, runVerify, type VerifyResult } from './verify'
import type { RunOptions, RunResult } from './run-types'
import {
  BackfillStateError,
  recordCancelled,
  recordConclusion,
  recordFailure,
  recordInterrupted,
  recordThrottle,
  saveProgress,
} from './store'

export type { RunOptions, RunResult, RunEvent, RunProgress } from './run-types'

const DEFAULT_CATCH_UP_PASSES = 5
const CONTROL_POLL_MS = 250
const HEARTBEAT_MS = 2_000
/** What one health signal says now: why it holds the run (over its limit), whether it is back under half of it. */
interface HealthVerdict {
  over: string | undefined
  calm: boolean
  /** Where it stands, for the message when the run goes on. */
  now: string
}

/** A duration for health messages: `1.2 s`, `340 ms`. */
const durationText = (ms: number): string => (ms < 1_000 ? `${Math.round(ms)} ms` : formatDuration(ms / 1000))

/** How often a verify query still running is said. */
const VERIFY_NOTICE_EVERY_MS = 30_000

/** How long a blocking session seen by the control loop is named in what the workers say about a lock wait. */
const BLOCKER_MEMORY_MS = 5_000
const PROGRESS_MS = 500
const RATE_WINDOW_MS = 10_000

/** Runs (or resumes, or joins) one backfill until it is done, paused, cancelled or failed. */
export function runBackfill(url: string, loaded: LoadedBackfill, options: RunOptions = {}): Promise<RunResult> {
  return new BackfillRun(url, loaded, options).run()
}

export function runnerApplicationName(name: string): string {
  return `migrate-kit backfill ${name}`.slice(0, 63)
}

class BackfillRun {
  private readonly identity: RunnerIdentity = { id: randomUUID(), host: os.hostname(), pid: process.pid }
  private readonly applicationName: string
  /** Set from the options, then capped to the table's size once it is known (prepare). */
  private sizing: BatchSizing
  private readonly limiter: RowRateLimiter | undefined
  private readonly startedAt = performance.now()
  /** Runner time is added to the state row's run_ms (summed over runners) each time progress is saved. */
  private runTimeSavedAt = performance.now()
  private control: Client | undefined
  private pool: Pool | undefined
  private resolved!: ResolvedBackfill
  private role: RunResult['role'] = 'primary'
  /** The _prisma_migrations row of the `after` migration, recorded with the run to notice a rollback since. */
  private afterMigration: MigrationRecord | undefined
  private flusher: InvalidationFlusher | undefined
  /** --max-replica-lag: where the primary's WAL was, look by look; and why the run holds itself, while it does. */
  private readonly replicaLag: ReplicaLagMeter | undefined
  /** --max-app-latency: the probe's last runs, and when it last ran. */
  private readonly appLatency: LatencyWindow | undefined
  private probedAt = 0
  /** Each health signal's last verdict. */
  private readonly health = new Map<'replica' | 'latency', HealthVerdict>()
  private throttledFor: string | undefined
  /** The sessions the batches were last seen waiting for, and when. */
  private blockers: { sessions: BlockingSession[]; seenAt: number } | undefined
  private batchSize = DEFAULT_BATCH_SIZE
  private lastBatchMs: number | null = null
  private maxBatchMs = 0
  /** What holds or stops the workers: one state value, changed by the signal, the control loop, or a worker. */
  private readonly lifecycle = new RunLifecycle()
  private failure: { message: string; range: KeyRange | null } | undefined
  // Counters of this process.
  private batches = 0
  private rowsThisRun = 0
  private changedThisRun = 0
  private retries = 0
  private splits = 0
  private ledgerRowsDone = 0
  private ledgerRowsChanged = 0
  private rowsAtLedgerRead = 0
  private rowsTotal: number | null = null
  private readonly rate = new RateMeter(RATE_WINDOW_MS)
  /** The workers, once the run works (they keep what they share: cooling ranges, an outage, waiting). */
  private workers: Workers | undefined

  constructor(
    private readonly url: string,
    private readonly loaded: LoadedBackfill,
    private readonly options: RunOptions,
  ) {
    this.applicationName = runnerApplicationName(loaded.name)
    this.sizing = batchSizing(options)
    this.limiter = options.maxRowsPerSecond ? new RowRateLimiter(options.maxRowsPerSecond) : undefined
    this.replicaLag = setting(options, 'maxReplicaLagMs') ? new ReplicaLagMeter() : undefined
    this.appLatency = setting(options, 'maxAppLatencyMs') ? new LatencyWindow() : undefined
  }

  private notice(message: string): void {
    this.options.onEvent?.({ type: 'notice', message })
  }

  async run(): Promise<RunResult> {
    const control = await this.connectControl()
    this.control = control
    let locked = false
    try {
      // Checked before anything is written, the migrate_kit tables included: a bad definition leaves no trace.
      this.resolved = await resolveBackfill(control, this.loaded)
      this.afterMigration = await assertAfterMigrationApplied(control, this.loaded)
      // After `after`: a precheck may call what that migration creates (a conversion function).
      const precheck = await runPrecheck(control, this.loaded.definition)
      if (precheck && precheck.failures > 0) throw new PrecheckFailedError(this.loaded.name, describePrecheck(precheck))
      // --max-replica-lag that could never see a replica would be a throttle that never acts: refused up front.
      if (this.replicaLag) assertReplicasVisible((await readReplication(control)).replicas)
      if (this.options.appLatencyQuery !== undefined && !this.appLatency) {
        throw new UsageError('--app-latency-query names the probe of --max-app-latency, which is not given: nothing was changed', {
          hint: 'Add --max-app-latency <duration> (e.g. 50ms), or leave --app-latency-query out.',
        })
      }
      if (this.appLatency) await assertProbeRuns(control, setting(this.options, 'appLatencyQuery')!)
      await ensureBackfillState(control)
      locked = await tryBackfillLock(control, this.loaded.name)
      if (!locked && !this.options.join) throw await lockHeldError(control, this.loaded.name)
      this.role = locked ? 'primary' : 'joined'
      const alreadyDone = await this.prepare()
      await registerRunner(control, this.loaded.name, this.identity, this.role)
      this.pool = createPool(this.url, {
        applicationName: this.applicationName,
        max: this.concurrency() + 1,
        queryTimeoutMs: this.stallAfterMs(),
      })
      this.startInvalidation()
      if (alreadyDone) return await this.result('done', true)
      await this.flusher?.flush()
      return await this.work()
    } finally {
      this.lifecycle.finish()
      await this.flusher?.close()
      const client = this.control ?? control
      if (this.throttledFor !== undefined) await recordThrottle(client, this.loaded.name, null).catch(() => undefined)
      await removeRunner(client, this.identity.id).catch(() => undefined)
      if (locked) await releaseBackfillLock(client, this.loaded.name).catch(() => undefined)
      await closeClient(client)
      if (this.pool) await closePool(this.pool)
    }
  }

  /** Runs work, saying message(seconds so far) every `everyMs` (or the run's verifyNoticeEveryMs) while it lasts. */
  private async saying<T>(everyMs: number, message: (seconds: number) => string, work: () => Promise<T>): Promise<T> {
    const started = Date.now()
    const every = this.options.verifyNoticeEveryMs ?? everyMs
    const timer = setInterval(() => this.notice(message(Math.round((Date.now() - started) / 1000))), every)
    try {
      return await work()
    } finally {
      clearInterval(timer)
    }
  }

  /** The batches' statement_timeout plus a margin: a session silent for longer is stalled (db/connect.ts). */
  private stallAfterMs(): number {
    return stallLimitMs(setting(this.options, 'statementTimeoutMs')!)
  }

  /**
   * The runner's own session. Every query on it is bounded like a batch's (a stalled session is replaced, not waited
   * on forever), which is why verify, whose query may rightly take long, runs on a session of its own.
   */
  private connectControl(): Promise<Client> {
    return connect(this.url, { applicationName: this.applicationName, queryTimeoutMs: this.stallAfterMs() })
  }

  /** Stalled batch sessions, ended on the server through a healthy session of the pool (bounded like any query). */
  private async endStalledSessions(pids: number[]): Promise<void> {
    try {
      const client = await this.pool!.connect()
      try {
        const ended = await endSessions(client, pids, this.applicationName)
        if (ended.length > 0)
          this.notice(`Ended the stalled session${ended.length === 1 ? '' : 's'} (pid ${ended.join(', ')}) on the server.`)
      } finally {
        client.release()
      }
    } catch {
      // The server ends them itself: idle_in_transaction_session_timeout of the batch (batch.ts).
    }
  }

  private concurrency(): number {
    return Math.max(1, Math.floor(setting(this.options, 'concurrency')!))
  }

  /** Creates or takes over the state row. Returns true when the backfill is already done (nothing to run). */
  private async prepare(): Promise<boolean> {
    const takeover = await takeOverBackfill(this.control!, {
      loaded: this.loaded,
      resolved: this.resolved,
      primary: this.role === 'primary',
      identity: this.identity,
      restart: this.options.restart ?? false,
      afterMigrationId: this.afterMigration?.id,
      batchSize: this.options.batchSize,
      sizing: this.sizing,
      notice: (message) => this.notice(message),
    })
    this.sizing = tableShareCap(this.sizing, takeover.rowsTotal)
    // An explicit --batch-size is the first batch as asked; a default or remembered one keeps within the cap at once.
    this.batchSize = this.options.batchSize === undefined ? Math.min(takeover.batchSize, this.sizing.maxBatchSize) : takeover.batchSize
    this.rowsTotal = takeover.rowsTotal
    return takeover.alreadyDone
  }

  private startInvalidation(): void {
    const patterns = this.resolved.invalidate
    const redisUrl = this.options.redisUrl?.trim()
    if (!redisUrl) {
      if (patterns.length > 0) {
        this.notice(`REDIS_URL is not set: cache invalidation (${patterns.map((p) => p.source).join(', ')}) is skipped for this run.`)
      }
      return
    }
    this.flusher = new InvalidationFlusher(this.pool!, redisUrl, this.loaded.name, (message) => this.notice(message))
    if (patterns.length > 0)
      this.notice(
        `Cache invalidation after each batch: ${patterns.map((p) => p.source).join(', ')} on Redis at ${describeRedis(redisUrl)}.`,
      )
  }

  private async work(): Promise<RunResult> {
    const signal = this.options.signal
    const onAbort = () => {
      this.lifecycle.stop('signal')
    }
    signal?.addEventListener('abort', onAbort)
    if (signal?.aborted) this.lifecycle.stop('signal')
    await this.refreshLedger(this.control!)
    const control = this.controlLoop()
    this.emitProgress()
    const progress = setInterval(() => this.emitProgress(), PROGRESS_MS)
    const prisma: PrismaBinding[] = []
    try {
      const workers = new Workers(this.workerRun())
      this.workers = workers
      await Promise.all(
        Array.from({ length: this.concurrency() }, () => {
          const binding = new PrismaBinding()
          prisma.push(binding)
          return workers.work(binding)
        }),
      )
    } finally {
      await Promise.all(prisma.map((binding) => binding.dispose()))
      clearInterval(progress)
      signal?.removeEventListener('abort', onAbort)
      // The control loop shares the control session: it must be gone before conclude() opens a transaction there.
      this.lifecycle.finish()
      await control
    }
    try {
      return await this.conclude()
    } finally {
      this.emitProgress()
    }
  }

  /** What the workers see of this run. */
  private workerRun(): WorkerRun {
    return {
      resolved: this.resolved,
      lifecycle: this.lifecycle,
      limiter: this.limiter,
      pool: this.pool!,
      settings: this.settings(),
      pauseMs: setting(this.options, 'pauseMs')!,
      maxCatchUpPasses: this.options.maxCatchUpPasses ?? DEFAULT_CATCH_UP_PASSES,
      reconnectForMs: this.options.reconnectForMs ?? DEFAULT_RECONNECT_FOR_MS,
      stallAfterMs: this.stallAfterMs(),
      endStalledSessions: (pids) => this.endStalledSessions(pids),
      lockHolders: () =>
        this.blockers && Date.now() - this.blockers.seenAt < BLOCKER_MEMORY_MS
          ? this.blockers.sessions.map(describeBlockingSession).join('; ')
          : undefined,
      debug: this.options.debug ?? false,
      keepErrorDetail: setting(this.options, 'keepErrorDetail') ?? false,
      batchSize: () => this.batchSize,
      recordBatch: (range, rowsChanged, batchMs) => this.recordBatch(range, rowsChanged, batchMs),
      afterBatch: () => void this.flusher?.flush({ retryDown: false }),
      notice: (message) => this.notice(message),
      fail: (message, range, reason) => {
        if (reason === 'failure') this.failure = { message, range }
        else this.failure ??= { message, range }
        this.lifecycle.stop(reason)
      },
      count: (what) => {
        if (what === 'retry') this.retries++
        else this.splits++
      },
    }
  }

  private settings(): BatchSettings {
    return {
      resolved: this.resolved,
      doneBy: `${this.identity.host}:${this.identity.pid}`,
      lockTimeoutMs: setting(this.options, 'lockTimeoutMs')!,
      statementTimeoutMs: setting(this.options, 'statementTimeoutMs')!,
      invalidate: this.flusher && this.resolved.invalidate.length > 0 ? this.resolved.invalidate : undefined,
    }
  }

  private recordBatch(range: LedgerRange, rowsChanged: number, batchMs: number): void {
    this.batches++
    this.rowsThisRun += range.rows
    this.changedThisRun += rowsChanged
    this.lastBatchMs = batchMs
    this.maxBatchMs = Math.max(this.maxBatchMs, batchMs)
    // A range cut at another size (a split half, a range left by a crash) says little about the current size.
    if (range.rows === this.batchSize || range.rows >= this.batchSize * 0.5) {
      this.batchSize = nextBatchSize(this.batchSize, (batchMs * this.batchSize) / Math.max(1, range.rows), this.sizing)
    }
    this.rate.record(this.rowsThisRun)
  }

  /**
   * The control loop, on the runner's own session: reads pause / resume / cancel requests and failures recorded by
   * other runners, keeps the heartbeat and the progress columns of the state row fresh, and reconnects (taking the
   * lock back) when the session is lost.
   */
  private async controlLoop(): Promise<void> {
    let lastHeartbeat = 0
    let broken = false
    while (!this.lifecycle.finished) {
      try {
        if (broken) await this.reconnectControl()
        broken = false
        const control = this.control!
        const { rows } = await control.query<{
          status: BackfillStatusValue
          requested: 'pause' | 'cancel' | null
          requested_by: string | null
          last_error: string | null
        }>(`SELECT status, requested, requested_by, last_error FROM ${T.backfills} WHERE name = $1`, [this.loaded.name])
        const state = rows[0]
        if (state) this.applyControl(state)
        await this.checkHealth(control)
        // Who the batches wait for, read while they wait: once lock_timeout ends the wait, nothing says who it was.
        const blockers = await blockingSessions(control, this.applicationName)
        if (blockers.length > 0) this.blockers = { sessions: blockers, seenAt: Date.now() }
        if (Date.now() - lastHeartbeat >= HEARTBEAT_MS) {
          lastHeartbeat = Date.now()
          await heartbeatRunner(control, this.identity.id)
          await this.refreshLedger(control)
          await this.saveProgress(control)
        }
      } catch (error) {
        if (!broken && isStalledConnection(error)) {
          this.notice(`${stalledConnectionText(this.stallAfterMs())}: the runner's control session is replaced.`)
        }
        broken = true
      }
      await this.lifecycle.nap(CONTROL_POLL_MS, { worker: false })
    }
  }

  private applyControl(state: {
    status: BackfillStatusValue
    requested: 'pause' | 'cancel' | null
    requested_by: string | null
    last_error: string | null
  }): void {
    if (state.requested === 'cancel') {
      if (!this.lifecycle.leaving)
        this.notice(`Cancelled by ${state.requested_by ?? 'another session'}: stopping after the batches in flight.`)
      this.lifecycle.stop('cancel')
      return
    }
    if (state.status === 'failed' && !this.failure && !this.lifecycle.leaving) {
      this.notice(`Another runner recorded ${this.loaded.name} as failed: ${state.last_error ?? 'unknown error'}. Stopping.`)
      this.lifecycle.stop('failed-elsewhere')
      return
    }
    const held = state.requested === 'pause'
    // Only a change wakes the workers: waking them at every poll would cut short the naps that keep the row rate.
    if (held && this.lifecycle.hold()) {
      this.notice(
        `Paused by ${state.requested_by ?? 'another session'}: holding after the batches in flight. Continue with \`migrate-kit backfill resume ${this.loaded.name}\`; Ctrl-C leaves (it stays paused).`,
      )
    }
    if (!held && this.lifecycle.release()) {
      this.notice(this.lifecycle.held ? `Pause lifted; still held: ${this.throttledFor ?? 'the replica lag'}.` : 'Resumed.')
    }
    this.syncRate()
  }

  /** The rate meter leaves held time out of rows/s and the ETA, whatever holds the run. */
  private syncRate(): void {
    if (this.lifecycle.held) this.rate.hold()
    else this.rate.release()
  }

  /**
   * The database's health, for --max-replica-lag and --max-app-latency: holds the batches while any signal is over
   * its limit, and lets them go once every one is back under half of it (so the run does not flap at the line). Said
   * in the output and, for other machines, in `status` (backfills.throttled).
   */
  private async checkHealth(control: Client): Promise<void> {
    if (this.replicaLag) this.health.set('replica', await this.replicaVerdict(control, this.replicaLag))
    if (this.appLatency && Date.now() - this.probedAt >= PROBE_EVERY_MS) {
      this.probedAt = Date.now()
      this.health.set('latency', await this.latencyVerdict(control, this.appLatency))
    }
    const verdicts = [...this.health.values()]
    const over = verdicts.find((verdict) => verdict.over !== undefined)?.over
    if (!this.lifecycle.heldBy('health')) {
      if (over === undefined) return
      this.throttledFor = over
      this.lifecycle.hold('health')
      this.syncRate()
      this.notice(`Throttled: ${over}. Holding the batches after those in flight; going on by itself under half of it.`)
      await recordThrottle(control, this.loaded.name, `${over} (since ${new Date().toISOString()})`)
    } else if (over === undefined && verdicts.every((verdict) => verdict.calm)) {
      this.throttledFor = undefined
      this.lifecycle.release('health')
      this.syncRate()
      this.notice(`${verdicts.map((verdict) => verdict.now).join('; ')}: going on.`)
      await recordThrottle(control, this.loaded.name, null)
    } else if (over !== undefined && over !== this.throttledFor) {
      this.throttledFor = over
      await recordThrottle(control, this.loaded.name, `${over} (since ${new Date().toISOString()})`)
    }
  }

  /** The furthest replica's lag against --max-replica-lag. */
  private async replicaVerdict(control: Client, meter: ReplicaLagMeter): Promise<HealthVerdict> {
    const max = setting(this.options, 'maxReplicaLagMs')!
    const { current, replicas } = await readReplication(control)
    meter.record(current)
    const worst = replicas
      .map((replica) => ({ replica, lagMs: replica.replayed === null ? Infinity : meter.lagMs(replica.replayed) }))
      .sort((a, b) => b.lagMs - a.lagMs)[0]
    if (!worst) return { over: 'no replica is streaming from the primary any more', calm: false, now: 'no replica' }
    const behind = `${describeReplica(worst.replica)} is ${durationText(worst.lagMs)} behind`
    return {
      over: worst.lagMs > max ? `${behind}, over --max-replica-lag ${durationText(max)}` : undefined,
      calm: worst.lagMs <= max / 2,
      now: `${behind} again`,
    }
  }

  /** The app latency probe's median against --max-app-latency. */
  private async latencyVerdict(control: Client, window: LatencyWindow): Promise<HealthVerdict> {
    const max = setting(this.options, 'maxAppLatencyMs')!
    window.record(await timeProbe(control, setting(this.options, 'appLatencyQuery')!))
    const median = window.median() ?? 0
    const took = `the app latency probe takes ${durationText(median)} (median of its last ${LATENCY_WINDOW} runs)`
    return {
      over: median > max ? `${took}, over --max-app-latency ${durationText(max)}` : undefined,
      calm: median <= max / 2,
      now: `${took} again`,
    }
  }

  private async reconnectControl(): Promise<void> {
    if (this.control) await closeClient(this.control)
    this.control = undefined
    const control = await this.connectControl()
    this.control = control
    await ensureBackfillState(control)
    // A stalled session may still be open on the server (a dead path carries no hang-up), holding the lock.
    const ended = await endOwnStalledSession(control, this.identity.id)
    if (ended !== undefined) this.notice(`Ended this runner's previous session (pid ${ended}), still open on the server.`)
    // The advisory lock lived in the lost session. Take it back; if another run took it meanwhile, carry on as a
    // joined runner: the ledger keeps the work exactly-once either way.
    if (this.role === 'primary' && !(await tryBackfillLock(control, this.loaded.name))) {
      this.role = 'joined'
      this.notice('Another run took the backfill lock while this one was reconnecting; continuing alongside it.')
    }
    await registerRunner(control, this.loaded.name, this.identity, this.role)
  }

  private async refreshLedger(client: Client | PoolClient): Promise<void> {
    const totals = await ledgerTotals(client, this.loaded.name)
    this.ledgerRowsDone = totals.rowsDone
    this.ledgerRowsChanged = totals.rowsChanged
    this.rowsAtLedgerRead = this.rowsThisRun
  }

  private rowsDone(): number {
    return this.ledgerRowsDone + (this.rowsThisRun - this.rowsAtLedgerRead)
  }

  /** Copies progress from the ledger onto the state row, for `status` readers and the record; adds runner time. */
  private async saveProgress(control: Client): Promise<void> {
    const cursor = await lowWaterCursor(control, this.loaded.name, this.resolved.key)
    const now = performance.now()
    await saveProgress(control, this.loaded.name, {
      rowsDone: this.ledgerRowsDone,
      rowsChanged: this.ledgerRowsChanged,
      cursor,
      batchSize: this.batchSize,
      lastBatchMs: roundOrNull(this.lastBatchMs),
      runMsSinceSave: Math.round(now - this.runTimeSavedAt),
    })
    this.runTimeSavedAt = now
  }

  private emitProgress(): void {
    if (!this.options.onEvent) return
    const rowsDone = this.rowsDone()
    const rowsTotal = this.rowsTotal === null ? null : Math.max(this.rowsTotal, rowsDone)
    const rate = this.rate.perSecond()
    this.options.onEvent({
      type: 'progress',
      progress: {
        name: this.loaded.name,
        state: this.lifecycle.heldBy('pause')
          ? 'paused'
          : this.lifecycle.heldBy('health')
            ? 'throttled'
            : this.workers?.waiting
              ? 'waiting'
              : 'running',
        rowsDone,
        rowsTotal,
        rowsChanged: this.ledgerRowsChanged + this.changedThisRun,
        rowsPerSecond: rate,
        etaSeconds: eta(rowsDone, rowsTotal, rate),
        batchSize: this.batchSize,
      },
    })
  }

  /** Records how the run ended, for this runner and, when it was the last one, for the backfill. */
  private async conclude(): Promise<RunResult> {
    const control = await this.settledControl()
    const reason = this.lifecycle.stopReason
    if (reason === 'failure' || reason === 'fatal' || reason === 'failed-elsewhere') {
      if (reason === 'fatal' && this.failure) {
        await recordFailure(control, this.loaded.name, this.failure.message, null).catch(() => undefined)
      }
      return this.result('failed')
    }
    if (reason === 'cancel') {
      await recordCancelled(control, this.loaded.name)
      return this.result('cancelled')
    }
    if (reason === 'signal') {
      // Others may still be working: the backfill is paused only when this was the last runner.
      const others = await liveRunners(control, this.loaded.name, this.identity.id)
      if (others.length === 0) await recordInterrupted(control, this.loaded.name)
      return this.result(others.length === 0 ? 'paused' : 'running')
    }
    return this.finalize(control)
  }

  /** Every range is done: run verify, then record the backfill as done (or failed, naming rows verify found). */
  private async finalize(control: Client): Promise<RunResult> {
    const open = await ledgerTotals(control, this.loaded.name)
    if (open.rangesPending > 0) {
      // Another runner cut more ranges (a catch-up pass) after this one saw none left: it will finish them.
      this.notice('Other runners are finishing the last ranges; leaving the end to them.')
      return this.result('running')
    }
    // verify has its own session with no client-side bound (its query may rightly take long on a big table), so the
    // wait is said while it lasts instead of looking like a hang.
    const verify =
      (await this.saying(
        VERIFY_NOTICE_EVERY_MS,
        (seconds) => `verify still running (${seconds} s)…`,
        () => withConnection(this.url, (client) => runVerify(client, this.loaded.definition), { applicationName: this.applicationName }),
      )) ?? null
    const failed = verify !== null && verify.failures > 0
    const totals = await ledgerTotals(control, this.loaded.name)
    const cursor = await lowWaterCursor(control, this.loaded.name, this.resolved.key)
    try {
      await recordConclusion(control, this.loaded.name, {
        failure: failed ? describeVerify(verify) : null,
        verified: verify !== null && !failed,
        verifyFailures: verify?.failures ?? null,
        progress: {
          rowsDone: totals.rowsDone,
          rowsChanged: totals.rowsChanged,
          cursor,
          batchSize: this.batchSize,
          runMsSinceSave: Math.round(performance.now() - this.runTimeSavedAt),
        },
      })
    } catch (error) {
      // Joined runners finish together: the first to conclude records the end; the others report what it recorded.
      if (error instanceof BackfillStateError && (error.found === 'done' || error.found === 'failed')) {
        return this.result(error.found, false, verify)
      }
      throw error
    }
    this.runTimeSavedAt = performance.now()
    if (!failed) this.rowsTotal = totals.rowsDone
    else this.failure = { message: describeVerify(verify), range: null }
    return this.result(failed ? 'failed' : 'done', false, verify)
  }

  /** The control session, reconnected if the run ended during an outage. */
  private async settledControl(): Promise<Client> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (!this.control) await this.reconnectControl()
        await this.control!.query('SELECT 1')
        return this.control!
      } catch (error) {
        this.control = undefined
        if (attempt >= 20) throw error
        await sleep(backoffMs(attempt))
      }
    }
  }

  private async result(status: RunResult['status'], alreadyDone = false, verify: VerifyResult | null = null): Promise<RunResult> {
    const control = await this.settledControl()
    const flush = this.flusher ? await this.flusher.flush() : undefined
    const record = await readBackfillRecord(control, this.loaded.name)
    const totals = await ledgerTotals(control, this.loaded.name)
    await this.saveProgressIfRunning(control, status)
    const cursor = await lowWaterCursor(control, this.loaded.name, this.resolved.key)
    const pending = await pendingInvalidations(control, this.loaded.name)
    if (this.flusher && pending > 0) this.notice(pendingInvalidationsNotice(this.loaded.name, pending, flush?.error))
    const failedRange: KeyRange | null =
      this.failure?.range ?? (record?.failedUpTo ? { after: record.failedAfter, upTo: record.failedUpTo } : null)
    return {
      name: this.loaded.name,
      status,
      role: this.role,
      rowsDone: totals.rowsDone,
      rowsTotal: status === 'done' ? totals.rowsDone : Math.max(record?.rowsTotal ?? 0, totals.rowsDone),
      rowsChanged: totals.rowsChanged,
      rowsThisRun: this.rowsThisRun,
      batchesThisRun: this.batches,
      maxBatchMs: Math.round(this.maxBatchMs),
      batchSize: this.batchSize,
      cursor,
      cursorShown: cursor && displayKey(this.resolved.key, cursor),
      durationMs: Math.round(performance.now() - this.startedAt),
      heldMs: Math.round(this.lifecycle.heldMs()),
      retries: this.retries,
      splits: this.splits,
      lastError: this.failure?.message ?? (status === 'failed' ? (record?.lastError ?? null) : null),
      failedRange,
      failedKeys: failedRange && describeRange(this.resolved.key, failedRange),
      verify: verify ?? null,
      alreadyDone,
      invalidation: { enabled: this.flusher !== undefined, keysRemoved: this.flusher?.totalKeysRemoved ?? 0, pending },
    }
  }

  private async saveProgressIfRunning(control: Client, status: RunResult['status']): Promise<void> {
    if (status === 'done') return
    await this.refreshLedger(control).catch(() => undefined)
    await this.saveProgress(control).catch(() => undefined)
  }
}

function roundOrNull(value: number | null): number | null {
  return value === null ? null : Math.round(value)
}
