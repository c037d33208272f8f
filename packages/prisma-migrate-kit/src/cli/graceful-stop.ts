import type { CliContext } from './context'

/**
 * How a long command takes Ctrl-C / SIGTERM: the first signal is said on stderr and asks it to stop after the step
 * under way (it then cleans up itself and exits 130 / 143); a second one goes back to the CLI, which runs the
 * command's cleanups and exits at once.
 */
export interface GracefulStop {
  /** Aborted by the first signal: the command's loop checks it between steps. */
  signal: AbortSignal
  /** The signal received, if any. */
  readonly signalled: NodeJS.Signals | undefined
  /** Gives the signals back to the CLI (safe to call more than once). */
  release(): void
}

/** `stopping` completes "SIGINT: stopping after …", e.g. "the rollback under way, then dropping the scratch databases". */
export function stopAfterStep(context: CliContext, say: (line: string) => void, stopping: string): GracefulStop {
  const controller = new AbortController()
  let signalled: NodeJS.Signals | undefined
  const release = context.onInterrupt((signal) => {
    signalled = signal
    say(`${signal}: stopping after ${stopping}…`)
    controller.abort()
    release()
  })
  return {
    signal: controller.signal,
    get signalled() {
      return signalled
    },
    release,
  }
}
