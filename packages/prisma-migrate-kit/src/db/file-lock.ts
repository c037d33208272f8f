import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs'
import os from 'node:os'
import { LockHeldError } from '../errors'
import { currentProcess, isProcessAlive, type ProcessRef } from './process-info'

/** A lock held by this process on a file; release() is idempotent. */
export interface FileLock {
  release(): void
}

interface LockHolder extends ProcessRef {
  host: string
  since: string
}

export interface AcquireOptions {
  /** Give up after this long, with a LockHeldError naming the holder. */
  timeoutMs: number
  /** What the lock protects, for the error message ("the embedded PostgreSQL of /x/.migrate-kit"). */
  what: string
}

const POLL_MS = 25
/** A lock file still empty after this long was left by a process killed between creating and writing it. */
const UNWRITTEN_GRACE_MS = 10_000

/**
 * A cross-process lock: the file is created with O_EXCL, so of two processes exactly one gets it. Node has no flock;
 * instead the file names its holder (pid, start time, host), and a holder that has died is cleared by the next one.
 */
export async function acquireFileLock(file: string, options: AcquireOptions): Promise<FileLock> {
  const me: LockHolder = { ...currentProcess(), host: os.hostname(), since: new Date().toISOString() }
  const content = JSON.stringify(me)
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    if (tryCreate(file, content)) return lockOf(file, content)
    const raw = readOrUndefined(file)
    if (raw !== undefined && isStale(file, raw)) removeStale(file, raw)
    else if (Date.now() > deadline) {
      const holder = parseHolder(raw)
      throw new LockHeldError(
        `${options.what} is locked by another process${holder ? ` (pid ${holder.pid} on ${holder.host} since ${holder.since})` : ''}`,
        holder ? { host: holder.host, pid: holder.pid, since: new Date(holder.since) } : undefined,
        { hint: `Wait for it to finish and run the command again; if no such process exists, delete ${file}.` },
      )
    } else await sleep(POLL_MS)
  }
}

/** One attempt without waiting, for code that cannot wait (a process 'exit' handler). */
export function tryAcquireFileLockSync(file: string): FileLock | undefined {
  const content = JSON.stringify({ ...currentProcess(), host: os.hostname(), since: new Date().toISOString() })
  return tryCreate(file, content) ? lockOf(file, content) : undefined
}

function lockOf(file: string, content: string): FileLock {
  let held = true
  return {
    release() {
      if (!held) return
      held = false
      // Only our own lock: after a (wrong) stale takeover the file may be someone else's now.
      if (readOrUndefined(file) === content) unlinkQuietly(file)
    },
  }
}

function tryCreate(file: string, content: string): boolean {
  let fd: number
  try {
    fd = openSync(file, 'wx', 0o644)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  }
  try {
    writeSync(fd, content)
  } finally {
    closeSync(fd)
  }
  return true
}

function isStale(file: string, raw: string): boolean {
  const holder = parseHolder(raw)
  if (!holder) return ageMs(file) > UNWRITTEN_GRACE_MS
  // A pid means nothing on another machine (a project on a shared disk): never take such a lock over.
  return holder.host === os.hostname() && !isProcessAlive(holder)
}

/**
 * Removes a dead holder's lock. Two waiters may both see it dead; if the first removes it and takes the lock, the
 * second must not remove the first's new lock. So removal happens under a second O_EXCL file, and only if the lock
 * file still holds the very content that was judged stale.
 */
function removeStale(file: string, staleContent: string): void {
  const guard = `${file}.takeover`
  if (!tryCreate(guard, String(process.pid))) {
    if (ageMs(guard) > UNWRITTEN_GRACE_MS) unlinkQuietly(guard)
    return
  }
  try {
    if (readOrUndefined(file) === staleContent) unlinkQuietly(file)
  } finally {
    unlinkQuietly(guard)
  }
}

function parseHolder(raw: string | undefined): LockHolder | undefined {
  if (!raw) return undefined
  try {
    const value = JSON.parse(raw) as Partial<LockHolder>
    if (typeof value.pid !== 'number' || typeof value.host !== 'string' || typeof value.since !== 'string') return undefined
    return { pid: value.pid, startTime: value.startTime, host: value.host, since: value.since }
  } catch {
    return undefined
  }
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

function ageMs(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs
  } catch {
    return 0
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file)
  } catch {
    // already gone
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
