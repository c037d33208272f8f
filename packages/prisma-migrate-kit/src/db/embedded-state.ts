import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { ProcessRef } from './process-info'

/** Every file the embedded server keeps under <project>/.migrate-kit/ (gitignored). */
export interface EmbeddedPaths {
  stateDir: string
  /** PGDATA. */
  dataDir: string
  /** Who started the running server and which live processes use it (no secret in it). */
  stateFile: string
  /** Held while a process starts, adopts or stops the server, so two of them never initdb or start together. */
  lockFile: string
  /** The superuser's password, generated once, mode 0600. */
  passwordFile: string
  /** The server's own log (stdout and stderr of postgres). */
  logFile: string
}

export function embeddedPaths(stateDir: string): EmbeddedPaths {
  return {
    stateDir,
    dataDir: path.join(stateDir, 'postgres'),
    stateFile: path.join(stateDir, 'embedded.json'),
    lockFile: path.join(stateDir, 'embedded.lock'),
    passwordFile: path.join(stateDir, 'postgres.password'),
    logFile: path.join(stateDir, 'postgres.log'),
  }
}

/** embedded.json: written only under the lock. */
export interface EmbeddedState {
  port: number
  postmasterPid: number
  /** The process that started the server (or adopted it after its starter died). */
  startedBy: ProcessRef
  /** Every process using the server now; the last one to leave stops it. */
  users: ProcessRef[]
  startedAt: string
}

export function readState(file: string): EmbeddedState | undefined {
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as Partial<EmbeddedState>
    if (typeof value.port !== 'number' || typeof value.postmasterPid !== 'number' || !Array.isArray(value.users)) return undefined
    return value as EmbeddedState
  } catch {
    return undefined
  }
}

export function writeState(file: string, state: EmbeddedState): void {
  // Write then rename: a reader (or a crash) never sees half a file.
  const temporary = `${file}.${process.pid}.tmp`
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644 })
  renameSync(temporary, file)
}

export function removeState(file: string): void {
  try {
    unlinkSync(file)
  } catch {
    // already gone
  }
}

/** The lines of postmaster.pid that matter here (PostgreSQL's own lock file in the data folder). */
export interface PostmasterPidFile {
  pid: number
  port: number
  /** "starting", "ready", "stopping" or "standby" once the server has got that far. */
  status: string
}

export function postmasterPidFile(dataDir: string): string {
  return path.join(dataDir, 'postmaster.pid')
}

export function readPostmasterPid(dataDir: string): PostmasterPidFile | undefined {
  let lines: string[]
  try {
    lines = readFileSync(postmasterPidFile(dataDir), 'utf8').split('\n')
  } catch {
    return undefined
  }
  // Line 1 pid, 4 port, 8 status (src/include/utils/pidfile.h).
  const pid = Number(lines[0])
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  return { pid, port: Number(lines[3]) || 0, status: (lines[7] ?? '').trim() }
}
