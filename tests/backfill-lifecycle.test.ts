import { RunLifecycle, nextState, waitForRate, type RunState } from '../packages/prisma-migrate-kit/src/backfill/lifecycle'
import { decideFailure } from '../packages/prisma-migrate-kit/src/backfill/failure-policy'
import { RowRateLimiter } from '../packages/prisma-migrate-kit/src/backfill/pacing'
import { FakeClock, settle } from './helpers/fake-clock'
import { ReplicaLagMeter, parseLsn } from '../packages/prisma-migrate-kit/src/backfill/replica-lag'
import { LatencyWindow } from '../packages/prisma-migrate-kit/src/backfill/app-latency'

/** Watches a promise without awaiting it. */
function track<T>(promise: Promise<T>): { settled: () => boolean; value: () => T | undefined } {
  let done = false
  let result: T | undefined
  void promise.then((value) => {
    done = true
    result = value
  })
  return { settled: () => done, value: () => result }
}

describe('run lifecycle: the transitions (pure)', () => {
  const running: RunState = { kind: 'running' }

  test('hold and release move between running and held; anything else leaves the state as it is', () => {
    const held = nextState(running, { type: 'hold', by: 'pause' }, 5)
    expect(held).toEqual({ kind: 'held', since: 5, by: ['pause'] })
    expect(nextState(held, { type: 'hold', by: 'pause' }, 9)).toBe(held) // held since 5, not 9
    expect(nextState(held, { type: 'release', by: 'pause' }, 9)).toEqual(running)
    expect(nextState(running, { type: 'release', by: 'pause' }, 9)).toBe(running)
  })

  test('a pause and the database’s health hold a run each on its own: it runs again only once neither holds it', () => {
    const paused = nextState(running, { type: 'hold', by: 'pause' }, 5)
    const both = nextState(paused, { type: 'hold', by: 'health' }, 7)
    expect(both).toEqual({ kind: 'held', since: 5, by: ['pause', 'health'] })
    // The replica caught up, but the operator's pause still holds it.
    const stillPaused = nextState(both, { type: 'release', by: 'health' }, 8)
    expect(stillPaused).toEqual({ kind: 'held', since: 5, by: ['pause'] })
    expect(nextState(stillPaused, { type: 'release', by: 'health' }, 9)).toBe(stillPaused)
    expect(nextState(stillPaused, { type: 'release', by: 'pause' }, 9)).toEqual(running)
  })

  test('the first stop reason wins; finish keeps it; a finished run stays finished', () => {
    const stopping = nextState({ kind: 'held', since: 1, by: ['pause'] }, { type: 'stop', reason: 'cancel' }, 2)
    expect(stopping).toEqual({ kind: 'stopping', reason: 'cancel' })
    expect(nextState(stopping, { type: 'stop', reason: 'signal' }, 3)).toBe(stopping)
    expect(nextState(stopping, { type: 'hold', by: 'health' }, 3)).toBe(stopping)
    const finished = nextState(stopping, { type: 'finish' }, 4)
    expect(finished).toEqual({ kind: 'finished', reason: 'cancel' })
    expect(nextState(finished, { type: 'stop', reason: 'fatal' }, 5)).toBe(finished)
    expect(nextState(running, { type: 'finish' }, 5)).toEqual({ kind: 'finished', reason: null })
  })
})

describe('run lifecycle with a fake clock', () => {
  test('a rate nap is not cut short by control polls that change nothing (the bug of the rate naps woken every 250 ms)', async () => {
    const clock = new FakeClock()
    const lifecycle = new RunLifecycle(clock)
    const nap = track(lifecycle.nap(1_000))
    for (let poll = 0; poll < 3; poll++) {
      await clock.advance(250)
      expect(lifecycle.release()).toBe(false) // what the control loop says at each poll of a run nobody paused
    }
    expect(nap.settled()).toBe(false)
    await clock.advance(249)
    expect(nap.settled()).toBe(false)
    await clock.advance(1)
    expect(nap.settled()).toBe(true)
  })

  test('a pause during the rate wait holds the batch and gives its slot back (the bug of the pause during a rate wait)', async () => {
    const clock = new FakeClock()
    const lifecycle = new RunLifecycle(clock)
    // 100 rows per second; batches of 100 rows: the first may start at once, the second one second later.
    const limiter = new RowRateLimiter(100, () => clock.now())
    expect(await waitForRate(lifecycle, limiter, 100)).toBe('go')
    const second = track(waitForRate(lifecycle, limiter, 100))
    await clock.advance(300)
    expect(second.settled()).toBe(false)
    lifecycle.hold()
    await settle()
    expect(second.value()).toBe('held')
    // Resumed at once: the next batch waits what is left of the first batch's second, not a second more.
    lifecycle.release()
    expect(limiter.reserve(100)).toBe(700)
  })

  test('a stop ends a worker nap at once and none starts after it; the control loop naps until the run is finished', async () => {
    const clock = new FakeClock()
    const lifecycle = new RunLifecycle(clock)
    const worker = track(lifecycle.nap(10_000))
    const control = track(lifecycle.nap(10_000, { worker: false }))
    lifecycle.stop('signal')
    await settle()
    expect(worker.settled()).toBe(true)
    expect(control.settled()).toBe(true) // woken by the change; it naps again while the workers finish
    const again = track(lifecycle.nap(10_000, { worker: false }))
    expect(track(lifecycle.nap(10_000)).settled()).toBe(false)
    await settle()
    expect(again.settled()).toBe(false)
    lifecycle.finish()
    await settle()
    expect(again.settled()).toBe(true)
    expect(lifecycle.stopReason).toBe('signal')
  })

  test('the time held is counted across holds, the current one included, and only while held', async () => {
    const clock = new FakeClock()
    const lifecycle = new RunLifecycle(clock)
    await clock.advance(100)
    lifecycle.hold()
    await clock.advance(500)
    lifecycle.release()
    await clock.advance(400)
    expect(lifecycle.heldMs()).toBe(500)
    lifecycle.hold()
    await clock.advance(200)
    expect(lifecycle.heldMs()).toBe(700)
    lifecycle.stop('cancel') // a cancel while held ends the hold
    await clock.advance(1_000)
    expect(lifecycle.heldMs()).toBe(700)
  })
})

describe('failure policy (pure)', () => {
  const half = () => 0.5
  test('a code error fails the range at once, whatever its size: no halving', () => {
    expect(decideFailure('code', { rows: 5_000 })).toEqual({ action: 'fail', note: '' })
  })

  test('a data error halves the range at once, even one cut as a single row (rows may have come since)', () => {
    expect(decideFailure('data', { rows: 2 })).toEqual({ action: 'halve' })
    expect(decideFailure('data', { rows: 1 })).toEqual({ action: 'halve' })
  })

  test('a conflict cools the range with growing backoff, then halves it; one row held that long fails', () => {
    expect(decideFailure('conflict', { rows: 500 }, 1, half)).toEqual({ action: 'cool', forMs: 150 })
    expect(decideFailure('conflict', { rows: 500 }, 2, half)).toEqual({ action: 'cool', forMs: 300 })
    expect(decideFailure('conflict', { rows: 500 }, 3, half)).toEqual({ action: 'halve' })
    expect(decideFailure('conflict', { rows: 1 }, 3, half)).toEqual({ action: 'cool', forMs: 600 })
    expect(decideFailure('conflict', { rows: 1 }, 19, half).action).toBe('cool')
    expect(decideFailure('conflict', { rows: 1 }, 20, half)).toEqual({ action: 'fail', note: ' (still, after 20 attempts)' })
  })
})

describe('replica lag from WAL positions (fake clock)', () => {
  test('a replica is as far behind as the time since the WAL first went past what it replayed; caught up is 0', () => {
    let now = 0
    const meter = new ReplicaLagMeter(() => now)
    expect(parseLsn('0/3025AA0')).toBe(0x3025aa0n)
    expect(parseLsn('16/B374D848')).toBe(0x16b374d848n)
    expect(() => parseLsn('nonsense')).toThrow(/not a log sequence number/)
    meter.record(100n)
    now = 250
    meter.record(200n)
    now = 500
    meter.record(200n) // no new WAL: not a new point in the history
    now = 750
    meter.record(300n)
    expect(meter.lagMs(300n)).toBe(0)
    // It replayed up to 150: the WAL went past that at 250, half a second ago.
    expect(meter.lagMs(150n)).toBe(500)
    // Stuck for a while (replay paused): the lag keeps growing though nothing new is reported.
    now = 5_750
    expect(meter.lagMs(150n)).toBe(5_500)
    expect(meter.lagMs(50n)).toBe(5_750)
  })
})

describe('app latency probe window', () => {
  test('the verdict is the median of the last 5 runs: one slow run does not hold the backfill, a slow database does', () => {
    const window = new LatencyWindow()
    expect(window.median()).toBeUndefined()
    for (const ms of [2, 3, 2, 250, 3]) window.record(ms)
    expect(window.median()).toBe(3)
    for (const ms of [240, 260]) window.record(ms)
    expect(window.median()).toBe(240) // 2, 250, 3, 240, 260
    window.record(1)
    window.record(2)
    expect(window.median()).toBe(3) // 3, 240, 260, 1, 2: fast again for most runs
  })
})
