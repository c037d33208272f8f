import { existsSync, readFileSync } from 'node:fs'
import {
  findMigration,
  migrationChecksum,
  migrationState,
  scriptMatchesChecksum,
  type MigrationOnDisk,
  type MigrationRecord,
  type MigrationState,
} from '../prisma/migrations'
import type { Project } from '../project'
import { RollbackRefusedError, type RollbackProblem } from './errors'
import { relativePath, rollbackFile } from './files'
import { parseRollbackScript, type RollbackScript } from './script'

/** One migration to revert: its live row in _prisma_migrations and the rollback.sql that reverts it. */
export interface RollbackStep {
  migration: string
  /** The row Prisma wrote when it applied the migration; this row gets rolled_back_at. */
  record: MigrationRecord
  /** sha256 of migration.sql on disk now; differs from record.checksum only when the edit was accepted. */
  migrationFileChecksum: string
  edited: boolean
  /** Relative to the project root. */
  rollbackFile: string
  rollbackChecksum: string
  script: RollbackScript
}

export interface RollbackRequest {
  /** The newest migration to revert: folder name or the name after the timestamp. */
  migration: string
  /** Revert every applied migration back to and including this one. */
  to?: string
  /** Roll back even though migration.sql changed since Prisma applied it (both checksums are recorded). */
  acceptEditedMigration?: boolean
}

export interface RollbackSelection {
  /** Newest first: the order they are reverted in. */
  steps: RollbackStep[]
  /** Migrations inside the range that are not applied: nothing to revert. */
  skipped: Array<{ migration: string; state: MigrationState }>
}

/**
 * Decides what to revert, and refuses (RollbackRefusedError, exit 2) everything that can be refused before anything
 * runs: an unknown migration (InputError from findMigration), a missing or unusable rollback.sql, a migration that is
 * not applied or failed, a later migration still applied, a migration.sql edited since Prisma applied it.
 */
export async function selectRollback(
  project: Project,
  onDisk: MigrationOnDisk[],
  recordsByName: Map<string, MigrationRecord[]>,
  request: RollbackRequest,
): Promise<RollbackSelection> {
  const newest = findMigration(onDisk, request.migration)
  const oldest = request.to === undefined ? newest : findMigration(onDisk, request.to)
  const stateOf = (name: string) => migrationState(recordsByName.get(name) ?? [])
  const problems: RollbackProblem[] = []
  const appliedNames = [...new Set([...onDisk.map((m) => m.name), ...recordsByName.keys()])]
    .sort()
    .filter((name) => ['applied', 'failed'].includes(stateOf(name)))
  const newestApplied = appliedNames[appliedNames.length - 1]

  if (oldest.name > newest.name) {
    problems.push({
      reason: 'bad_range',
      migration: newest.name,
      message: `--to ${oldest.name} is newer than ${newest.name}; rollbacks go from the newest back to the oldest`,
      hint: `Swap them: npx migrate-kit rollback ${oldest.name} --to ${newest.name}`,
    })
    throw new RollbackRefusedError(problems)
  }

  const later = appliedNames.filter((name) => name > newest.name)
  if (later.length > 0) {
    problems.push({
      reason: 'later_applied',
      migration: newest.name,
      message:
        `${later.join(', ')} ${later.length === 1 ? 'was' : 'were'} applied after ${newest.name} and ` +
        `${later.length === 1 ? 'is' : 'are'} still applied; migrations are rolled back newest first`,
      hint: `Roll back the newer ones in the same run: npx migrate-kit rollback ${later[later.length - 1]} --to ${newest.name}`,
    })
  }

  const range = onDisk.filter((m) => m.name >= oldest.name && m.name <= newest.name).reverse()
  const selection: RollbackSelection = { steps: [], skipped: [] }
  for (const migration of range) {
    const state = stateOf(migration.name)
    const named = migration.name === newest.name || migration.name === oldest.name
    if (state === 'failed') {
      problems.push({
        reason: 'failed',
        migration: migration.name,
        message: `${migration.name} is in a failed state (Prisma started it and it did not finish), not applied`,
        hint: `Let Prisma forget the failed attempt: npx migrate-kit prisma migrate resolve --rolled-back ${migration.name}`,
      })
      continue
    }
    if (state !== 'applied') {
      if (named) {
        problems.push({
          reason: 'not_applied',
          migration: migration.name,
          message: `${migration.name} is not applied (${state.replace('_', ' ')}): there is nothing to roll back`,
          hint: newestApplied
            ? `The newest applied migration is ${newestApplied}; \`npx migrate-kit status\` shows them all.`
            : 'No migration is applied to this database; `npx migrate-kit status` shows them all.',
        })
      } else {
        selection.skipped.push({ migration: migration.name, state })
      }
      continue
    }
    const step = await stepFor(project, migration, recordsByName.get(migration.name) ?? [], request, problems)
    if (step) selection.steps.push(step)
  }
  if (problems.length > 0) throw new RollbackRefusedError(problems)
  return selection
}

async function stepFor(
  project: Project,
  migration: MigrationOnDisk,
  records: MigrationRecord[],
  request: RollbackRequest,
  problems: RollbackProblem[],
): Promise<RollbackStep | undefined> {
  const record = records.filter((row) => row.rolledBackAt === null && row.finishedAt !== null).at(-1)!
  const migrationSql = readFileSync(migration.sqlFile, 'utf8')
  const edited = !scriptMatchesChecksum(migrationSql, record.checksum)
  const migrationFile = relativePath(project, migration.sqlFile)
  if (edited && !request.acceptEditedMigration) {
    problems.push({
      reason: 'edited_migration',
      migration: migration.name,
      file: migrationFile,
      message:
        `${migrationFile} changed since Prisma applied it (recorded sha256 ${record.checksum.slice(0, 12)}…, ` +
        `on disk ${migrationChecksum(migrationSql).slice(0, 12)}…): its rollback.sql may revert something else ` +
        'than what ran',
      hint:
        `Restore the file as it was applied (git log -p -- ${migrationFile}), or, if you checked that ` +
        `${relativePath(project, rollbackFile(project, migration.name))} reverts what really ran, add --accept-edited-migration.`,
    })
  }
  const file = rollbackFile(project, migration.name)
  const shown = relativePath(project, file)
  if (!existsSync(file)) {
    problems.push({
      reason: 'missing_rollback',
      migration: migration.name,
      file: shown,
      message: `${migration.name} has no ${shown}`,
      hint: `Generate it from the migration history, review it, then retry: npx migrate-kit rollbacks generate ${migration.name}`,
    })
    return undefined
  }
  const text = readFileSync(file, 'utf8')
  const script = await parseRollbackScript(text)
  for (const problem of script.problems) {
    problems.push({
      reason: 'invalid_rollback',
      migration: migration.name,
      file: shown,
      line: problem.line,
      message: problem.message,
      hint: `Fix ${shown}:${problem.line}, then check it: npx migrate-kit rollback ${migration.name} --dry-run`,
    })
  }
  return {
    migration: migration.name,
    record,
    migrationFileChecksum: migrationChecksum(migrationSql),
    edited,
    rollbackFile: shown,
    rollbackChecksum: migrationChecksum(text),
    script,
  }
}
