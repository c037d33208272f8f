import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { MigrationOnDisk } from '../prisma/migrations'
import type { Project } from '../project'

/**
 * A copy of part of the migration history in a temporary folder: Prisma's `--from-migrations`/`--to-migrations` and
 * `migrate deploy` read a whole folder, so "the history up to X" has to exist as one. Prisma refuses a folder without
 * migration_lock.toml (it names the connector), so one is always there.
 */
export interface StagedMigrations {
  /** A temporary folder of our own; `dir` is its `migrations` folder. */
  root: string
  dir: string
  /** Copies one more migration folder in. */
  add(migration: MigrationOnDisk): void
  remove(): void
}

const LOCK_FILE = 'migration_lock.toml'
const DEFAULT_LOCK = '# Written by migrate-kit for a temporary copy of the migrations\nprovider = "postgresql"\n'

/** Our temporary folders are named `migrate-kit-<label>-<pid>-<random>`: the pid says whether their owner lives. */
const STAGED_FOLDER = /^migrate-kit-[a-z]+-(\d+)-[A-Za-z0-9]{6}$/

/**
 * Removes the folders of processes that are gone (a migrate-kit killed with -9 before its Prisma child could remove
 * them; see bin/die-with-parent.js). A pid that exists under another user (EPERM) counts as alive.
 */
export function sweepStagedFolders(tmp = os.tmpdir()): string[] {
  const removed: string[] = []
  let names: string[]
  try {
    names = readdirSync(tmp)
  } catch {
    return removed
  }
  for (const name of names) {
    const pid = Number(STAGED_FOLDER.exec(name)?.[1])
    if (!pid || pid === process.pid || processAlive(pid)) continue
    rmSync(path.join(tmp, name), { recursive: true, force: true })
    removed.push(name)
  }
  return removed
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export function stageMigrations(project: Project, migrations: MigrationOnDisk[], label: string): StagedMigrations {
  sweepStagedFolders()
  const root = mkdtempSync(path.join(os.tmpdir(), `migrate-kit-${label}-${process.pid}-`))
  const dir = path.join(root, 'migrations')
  const lock = path.join(project.migrationsDir, LOCK_FILE)
  mkdirSync(dir)
  if (existsSync(lock)) cpSync(lock, path.join(dir, LOCK_FILE))
  else writeFileSync(path.join(dir, LOCK_FILE), DEFAULT_LOCK)
  const staged: StagedMigrations = {
    root,
    dir,
    add: (migration) => cpSync(migration.dir, path.join(dir, migration.name), { recursive: true }),
    remove: () => rmSync(root, { recursive: true, force: true }),
  }
  for (const migration of migrations) staged.add(migration)
  return staged
}
