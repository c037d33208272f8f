import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
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

export function stageMigrations(project: Project, migrations: MigrationOnDisk[], label: string): StagedMigrations {
  const root = mkdtempSync(path.join(os.tmpdir(), `migrate-kit-${label}-`))
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
