/**
 * The lifecycle of one run in this process, as ONE value: running, held (by a pause request, by the database's health,
 * or both: each released on its own), stopping (why), finished.
 * The transitions are pure functions (`nextState`); `RunLifecycle` holds the value, wakes the sleepers when it
 * changes, and counts the time held, on an injectable clock so that tests drive time by hand.
 *
 *   running ──hold(by)──▶ held(by…) ──release(by)──▶ running, once nothing holds it
 *   running / held ──stop(reason)──▶ stopping(reason)      (the first reason wins)
 *   any ──finish──▶ finished(reason or null)              (the workers are done; nothing else changes it)
 */

export type StopReason = 'signal' | 'cancel' | 'failure' | 'failed-elsewhere' | 'fatal'

/** What holds a run: an operator's pause request, or the database's health (replica lag). */
export type HoldReason = 'pause' | 'health'

export type RunState =
  | { kind: 'running' }
  | { kind: 'held'; since: number; by: readonly HoldReason[] }
  | { kind: 'stopping'; reason: StopReason }
  | { kind: 'finished'; reason: StopReason | null }

export type LifecycleEvent =
  { type: 'hold'; by: HoldReason } | { type: 'release'; by: HoldReason } | { type: 'stop'; reason: StopReason } | { type: 'finish' }

/** The state after `event` at time `now`. Returns the very same object when the event changes nothing. */
export function nextState(state: RunState, event: LifecycleEvent, now: number): RunState {
  switch (event.type) {
    case 'hold':
      if (state.kind === 'running') return { kind: 'held', since: now, by: [event.by] }
      return state.kind === 'held' && !state.by.includes(event.by) ? { ...state, by: [...state.by, event.by] } : state
    case 'release': {
      if (state.kind !== 'held' || !state.by.includes(event.by)) return state
      const by = state.by.filter((reason) => reason !== event.by)
      return by.length === 0 ? { kind: 'running' } : { ...state, by }
    }
    case 'stop':
      return state.kind === 'running' || state.kind === 'held' ? { kind: 'stopping', reason: event.reason } : state
    case 'finish':
      return state.kind === 'finished' ? state : { kind: 'finished', reason: state.kind === 'stopping' ? state.reason : null }
  }
}

/** Time, and timers, as the lifecycle sees them: the system's, or a test's. */
export interface Clock {
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

export class RunLifecycle {
  private current: RunState = { kind: 'running' }
  private heldBefore = 0
  private readonly sleepers = new Set<() => void>()

  constructor(private readonly clock: Clock = systemClock) {}

  get state(): RunState {
    return this.current
  }

  /** Applies an event; wakes every sleeper when the state changed (and only then). Returns whether it changed. */
  apply(event: LifecycleEvent): boolean {
    const now = this.clock.now()
    const next = nextState(this.current, event, now)
    if (next === this.current) return false
    if (this.current.kind === 'held' && next.kind !== 'held') this.heldBefore += now - this.current.since
    this.current = next
    this.wakeAll()
    return true
  }

  hold(by: HoldReason = 'pause'): boolean {
    return this.apply({ type: 'hold', by })
  }

  release(by: HoldReason = 'pause'): boolean {
    return this.apply({ type: 'release', by })
  }

  /** Whether this reason holds the run now. */
  heldBy(reason: HoldReason): boolean {
    return this.current.kind === 'held' && this.current.by.includes(reason)
  }

  stop(reason: StopReason): boolean {
    return this.apply({ type: 'stop', reason })
  }

  finish(): void {
    this.apply({ type: 'finish' })
  }

  get held(): boolean {
    return this.current.kind === 'held'
  }

  /** Workers leave their loop: the run is stopping or finished. */
  get leaving(): boolean {
    return this.current.kind === 'stopping' || this.current.kind === 'finished'
  }

  get finished(): boolean {
    return this.current.kind === 'finished'
  }

  /** Why the run stopped; undefined while it runs or holds, and when it finished with every range done. */
  get stopReason(): StopReason | undefined {
    return this.current.kind === 'stopping' || this.current.kind === 'finished' ? (this.current.reason ?? undefined) : undefined
  }

  /** Total time held by pause requests (ms), the current hold included. */
  heldMs(): number {
    return this.heldBefore + (this.current.kind === 'held' ? this.clock.now() - this.current.since : 0)
  }

  /**
   * Sleeps `ms`, waking early when the state changes. A worker's nap (the default) also ends at once, or does not
   * start, while the run is leaving; the control loop's (`worker: false`) only once the run is finished, since it
   * keeps running until the workers are done.
   */
  nap(ms: number, options: { worker: boolean } = { worker: true }): Promise<void> {
    if (ms <= 0 || this.finished || (options.worker && this.leaving)) return Promise.resolve()
    return new Promise((resolve) => {
      const wake = () => {
        this.clock.clearTimeout(timer)
        this.sleepers.delete(wake)
        resolve()
      }
      const timer = this.clock.setTimeout(wake, ms)
      this.sleepers.add(wake)
    })
  }

  private wakeAll(): void {
    for (const wake of [...this.sleepers]) wake()
  }
}

/**
 * The rate ceiling's wait before a batch, with the lifecycle: a pause (or a stop) that comes during the wait ends it,
 * and the batch gives its booked rows back, so resuming does not make it wait again for a slot it never used.
 */
export async function waitForRate(
  lifecycle: RunLifecycle,
  limiter: { reserve(rows: number): number; settle(extraRows: number): void } | undefined,
  rows: number,
): Promise<'go' | 'held' | 'leave'> {
  if (limiter) await lifecycle.nap(limiter.reserve(rows))
  const verdict = lifecycle.leaving ? 'leave' : lifecycle.held ? 'held' : 'go'
  if (verdict !== 'go') limiter?.settle(-rows)
  return verdict
}
