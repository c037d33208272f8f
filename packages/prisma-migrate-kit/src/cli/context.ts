import { openDatabase, type DatabaseHandle } from '../db/database'
import { projectAt, type Project } from '../project'
import type { CliIO } from './io'

/**
 * What every command gets: the project, where to write, and the database, opened on first use and closed once when
 * the command ends (which also stops an embedded server this process started).
 */
export class CliContext {
  private databaseHandle?: Promise<DatabaseHandle>
  private readonly cleanups: Array<() => Promise<void>> = []
  private interruptHandler?: (signal: NodeJS.Signals) => void

  constructor(
    readonly project: Project,
    readonly io: CliIO,
  ) {}

  static forDirectory(cwd: string, io: CliIO): CliContext {
    return new CliContext(projectAt(cwd), io)
  }

  database(): Promise<DatabaseHandle> {
    this.databaseHandle ??= openDatabase(this.project, { announce: (line) => this.io.err(line) })
    return this.databaseHandle
  }

  /** Registers work to do when the command ends, however it ends (newest first). */
  onDispose(cleanup: () => Promise<void>): void {
    this.cleanups.unshift(cleanup)
  }

  /**
   * A command that stops cleanly on Ctrl-C or SIGTERM (a backfill run finishing its batch) takes the signal here;
   * without one, the CLI cleans up (stopping an embedded server it started) and exits 130 / 143.
   * Returns the function that gives the signal back.
   */
  onInterrupt(handler: (signal: NodeJS.Signals) => void): () => void {
    this.interruptHandler = handler
    return () => {
      if (this.interruptHandler === handler) this.interruptHandler = undefined
    }
  }

  /** Called by the CLI's signal listener; true when a command took the signal. */
  interrupt(signal: NodeJS.Signals): boolean {
    if (!this.interruptHandler) return false
    this.interruptHandler(signal)
    return true
  }

  async dispose(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0)) await cleanup().catch(() => undefined)
    if (this.databaseHandle) {
      const handle = await this.databaseHandle.catch(() => undefined)
      this.databaseHandle = undefined
      await handle?.close().catch(() => undefined)
    }
  }
}
