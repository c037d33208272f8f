/**
 * Every failure the toolkit reports is one of these classes. The CLI maps them to the exit codes the README lists
 * (Commands) in one place (reportError in src/cli/main.ts); the message says what happened and `hint` what to run next.
 */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  blocked: 3,
  locked: 4,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** The exit code of a command stopped by a signal, as shells report it: 128 + the signal's number. */
export function signalExitCode(signal: NodeJS.Signals | undefined): number {
  return signal === 'SIGTERM' ? 143 : signal === 'SIGINT' || signal === undefined ? 130 : ExitCode.failed
}

export interface ErrorDetails {
  /** The next thing a person should do, printed on its own line. */
  hint?: string
  /** The error this one wraps: a driver error, a child process failure. */
  cause?: unknown
}

export abstract class MigrateKitError extends Error {
  abstract readonly exitCode: ExitCode
  readonly hint?: string

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = new.target.name
    this.hint = details.hint
  }
}

/** Bad command line, bad file, bad definition: nothing was changed. Exit 2. */
export class UsageError extends MigrateKitError {
  readonly exitCode = ExitCode.usage
}

/** A file the toolkit reads is missing or malformed. Exit 2. */
export class InputError extends MigrateKitError {
  readonly exitCode = ExitCode.usage
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
    details: ErrorDetails = {},
  ) {
    super(message, details)
  }
}

/** The database could not be reached or does not exist. Exit 2. Never carries a password. */
export class ConnectionError extends MigrateKitError {
  readonly exitCode = ExitCode.usage
  constructor(
    message: string,
    readonly target: { host: string; port: number; database: string },
    details: ErrorDetails = {},
  ) {
    super(message, details)
  }
}

/** A check, a step or a statement failed. Exit 1. */
export class StepFailedError extends MigrateKitError {
  readonly exitCode = ExitCode.failed
}

/** Waiting for another step (a backfill before a contract migration). Exit 3. */
export class BlockedError extends MigrateKitError {
  readonly exitCode = ExitCode.blocked
}

/** Another run holds the lock. Exit 4. */
export class LockHeldError extends MigrateKitError {
  readonly exitCode = ExitCode.locked
  constructor(
    message: string,
    readonly holder: { host?: string; pid?: number; since?: Date } | undefined,
    details: ErrorDetails = {},
  ) {
    super(message, details)
  }
}

export function isMigrateKitError(error: unknown): error is MigrateKitError {
  return error instanceof MigrateKitError
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
