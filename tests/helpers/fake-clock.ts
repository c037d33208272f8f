import type { Clock } from '../../packages/prisma-migrate-kit/src/backfill/lifecycle'

/** A clock whose time moves only when a test says so; timers fire in order as it moves. */
export class FakeClock implements Clock {
  private time = 0
  private nextId = 1
  private readonly timers = new Map<number, { at: number; callback: () => void }>()

  now(): number {
    return this.time
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++
    this.timers.set(id, { at: this.time + Math.max(0, ms), callback })
    return id
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number)
  }

  /** Moves time forward by `ms`, firing due timers in order, then lets the promises they settled run. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms
    for (;;) {
      const due = [...this.timers.entries()].filter(([, timer]) => timer.at <= target).sort((a, b) => a[1].at - b[1].at)[0]
      if (!due) break
      this.timers.delete(due[0])
      this.time = due[1].at
      due[1].callback()
      await settle()
    }
    this.time = target
    await settle()
  }
}

/** Lets every promise callback already queued run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
