import { readFileSync } from 'node:fs'

/**
 * One process for good: a pid plus the kernel's start time of that pid, because pids are reused and a bare pid in a
 * file written by a killed run may name an unrelated process by now.
 */
export interface ProcessRef {
  pid: number
  /** /proc/<pid>/stat field 22 (clock ticks since boot); absent where there is no /proc. */
  startTime?: string
}

interface ProcStat {
  state: string
  startTime: string
}

function readProcStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Field 2 (the command name) is in parentheses and may contain spaces; the fields after the last ')' are fixed:
    // field 3 (state) is the first of them, field 22 (start time) the 20th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const state = fields[0]
    const startTime = fields[19]
    return state && startTime ? { state, startTime } : undefined
  } catch {
    return undefined
  }
}

/** This process, as other processes will later check it. */
export function currentProcess(): ProcessRef {
  return { pid: process.pid, startTime: readProcStat(process.pid)?.startTime }
}

export function sameProcess(a: ProcessRef, b: ProcessRef): boolean {
  return a.pid === b.pid && (a.startTime === undefined || b.startTime === undefined || a.startTime === b.startTime)
}

/**
 * Whether the process still runs. A zombie counts as gone: it has exited and only waits to be reaped, which in some
 * containers (a PID 1 that never reaps) is forever, so `kill(pid, 0)` alone would call it alive.
 */
export function isProcessAlive(ref: ProcessRef): boolean {
  if (!Number.isInteger(ref.pid) || ref.pid <= 0) return false
  try {
    process.kill(ref.pid, 0)
  } catch (error) {
    // EPERM: it exists but belongs to another user (a server running as another uid).
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  const stat = readProcStat(ref.pid)
  if (!stat) return true
  if (stat.state === 'Z' || stat.state === 'X') return false
  return ref.startTime === undefined || ref.startTime === stat.startTime
}

/** argv of a process, or undefined where /proc is absent or hides it. */
export function processArguments(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    return raw.length > 0 ? raw.replace(/\0$/, '').split('\0') : undefined
  } catch {
    return undefined
  }
}

/**
 * Whether pid is a live PostgreSQL postmaster serving dataDir. Servers we start get `-D <absolute dataDir>` on their
 * command line (the postmaster, unlike its children, keeps its argv), so a reused pid is not mistaken for one.
 */
export function isPostmasterOf(pid: number, dataDir: string): boolean {
  if (!isProcessAlive({ pid })) return false
  const argv = processArguments(pid)
  if (!argv) return true
  return /(^|\/)postgres$/.test(argv[0] ?? '') && argv.includes(dataDir)
}
