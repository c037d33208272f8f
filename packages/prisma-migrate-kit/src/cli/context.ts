import { openDatabase, type DatabaseHandle, type DatabaseUse } from '../db/database'
import { StepFailedError } from '../errors'
import type { Project } from '../project'
import { loadProject, type LoadProjectOptions } from '../project/load'
import type { CliIO } from './io'

/**
 * What every command gets: the project, where to write, and the database, opened on first use and closed once when
 * the command ends (which also stops an embedded server this process started).
 */
export class CliContext {
  private databaseHandle?: Promise<DatabaseHandle>
  private readonly cleanups: Array<() => Promise<void>> = []
  private interruptHandler?: (signal: NodeJS.Signals) => void

  private loadedProject?: Project
  /** Where the command runs; undefined when the context was given its project. */
  readonly cwd?: string

  /** A Project (tests, scripts), or the folder to find it from when the command starts (the CLI). */
  constructor(
    where: Project | { cwd: string },
    readonly io: CliIO,
  ) {
    if ('root' in where) this.loadedProject = where
    else this.cwd = where.cwd
  }

  static forDirectory(cwd: string, io: CliIO): CliContext {
    return new CliContext({ cwd }, io)
  }

  /** The project, read from its Prisma config before the command's action runs (see buildProgram). */
  get project(): Project {
    if (!this.loadedProject) throw new StepFailedError('internal: the project was used before it was loaded')
    return this.loadedProject
  }

  /** Where paths given on the command line are relative to: the folder the command runs in. */
  get workingDirectory(): string {
    return this.cwd ?? this.project.root
  }

  /** Reads the project (once) from `cwd` with --config / --schema; a context given its project keeps it. */
  async useProject(options: Omit<LoadProjectOptions, 'cwd'>): Promise<Project> {
    if (!this.loadedProject && this.cwd !== undefined) this.loadedProject = await loadProject({ ...options, cwd: this.cwd })
    return this.project
  }

  /** The command's database; `use` says whether the command changes it (see openDatabase). */
  database(use: DatabaseUse): Promise<DatabaseHandle> {
    this.databaseHandle ??= openDatabase(this.project, { announce: (line) => this.io.err(line), use })
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
