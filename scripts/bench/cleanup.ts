import { performance } from 'node:perf_hooks'
/**
 * What the benchmark must undo however it ends: the scratch database, the temp project, a runner still running.
 * Cleanups run once, newest first, on a normal end, on an error, and on Ctrl-C / SIGTERM.
 */

type Cleanup = () => Promise<void> | void

export class Cleanups {
  private readonly stack: Array<{ what: string; run: Cleanup }> = []
  private running: Promise<void> | undefined
  private signalled: NodeJS.Signals | undefined

  constructor(private readonly log: (line: string) => void) {}

  /** Registers an undo step; the returned function runs it now (and only once) instead of at the end. */
  add(what: string, run: Cleanup): () => Promise<void> {
    const entry = { what, run }
    this.stack.push(entry)
    return async () => {
      const index = this.stack.indexOf(entry)
      if (index < 0) return
      this.stack.splice(index, 1)
      await entry.run()
    }
  }

  /** Runs every pending step, newest first; a failing step is reported and does not stop the others. */
  runAll(): Promise<void> {
    this.running ??= (async () => {
      while (this.stack.length > 0) {
        const { what, run } = this.stack.pop()!
        try {
          await run()
        } catch (error) {
          this.log(`cleanup: could not ${what}: ${error instanceof Error ? error.message : String(error)}`)
        }
      }
    })()
    return this.running
  }

  /** Set once Ctrl-C / SIGTERM was received: the work failing from then on is the interruption, not an error. */
  get interrupted(): boolean {
    return this.signalled !== undefined
  }

  /**
   * Ctrl-C / SIGTERM: clean up, then exit 130 / 143. A second signal while cleaning up is ignored, so the scratch
   * database is not left behind by an impatient second Ctrl-C.
   */
  onSignals(): () => void {
    const listener = (signal: NodeJS.Signals) => {
      if (this.signalled) return
      this.signalled = signal
      this.log(`${signal}: stopping the benchmark and dropping its scratch database…`)
      void this.runAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143))
    }
    process.on('SIGINT', listener)
    process.on('SIGTERM', listener)
    return () => {
      process.off('SIGINT', listener)
      process.off('SIGTERM', listener)
    }
  }
}

/**
 * A benchmark's run: its stderr log (seconds since the start on each line), its cleanups run however it ends (an
 * error, Ctrl-C), and after Ctrl-C the failing work waits for the signal handler, which exits once cleaned up.
 */
export async function withCleanups<T>(work: (cleanups: Cleanups, log: (line: string) => void, started: number) => Promise<T>): Promise<T> {
  const started = performance.now()
  const log = (line: string) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}\n`)
  const cleanups = new Cleanups(log)
  const stopListening = cleanups.onSignals()
  try {
    return await work(cleanups, log, started)
  } catch (error) {
    // After Ctrl-C the work fails because its connections are being closed: the signal handler exits once cleaned up.
    if (cleanups.interrupted) await new Promise(() => undefined)
    throw error
  } finally {
    await cleanups.runAll()
    stopListening()
  }
}
