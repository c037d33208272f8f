import { describeHolder, holderFields } from '../db/locks'
import { LockHeldError } from '../errors'
import { findMigration } from '../prisma/migrations'
import { relativePath, type Project } from '../project'
import { DeployRefusedError, type DeployProblem } from './errors'
import type { History, HistoryEntry } from './history'

/**
 * What Prisma would trip over, or what would make the deploy apply something else than what was reviewed, refused
 * before anything runs: a failed migration (Prisma applies nothing past it), an applied migration.sql edited since,
 * an `--until` that is unknown (InputError from findMigration) or already applied. Returns the `--until` migration.
 */
export function assertDeployable(project: Project, history: History, until: string | undefined): HistoryEntry | undefined {
  // Not a failure: Prisma is applying it now (a deploy on another machine, a bare `prisma migrate deploy`). Wait.
  if (history.applying) throw migrationInProgressError(history.applying)
  const problems: DeployProblem[] = []
  const relative = (entry: HistoryEntry) => relativePath(project, entry.migration.sqlFile)
  for (const entry of history.entries) {
    const name = entry.migration.name
    if (entry.state === 'failed') {
      problems.push({
        reason: 'failed_migration',
        migration: name,
        file: relative(entry),
        message: `migration ${name} failed in this database${entry.record ? ` (started ${entry.record.startedAt.toISOString()})` : ''}; Prisma applies nothing after a failed migration`,
        hint:
          `Undo what it left behind (a migration that failed half-way in one transaction left nothing), then mark it rolled back and deploy again:\n` +
          `  npx migrate-kit prisma migrate resolve --rolled-back ${name}\n  npx migrate-kit deploy`,
      })
    }
    if (entry.edited) {
      problems.push({
        reason: 'edited_migration',
        migration: name,
        file: relative(entry),
        message: `${relative(entry)} was edited after it was applied: it no longer matches the checksum Prisma recorded, so the database holds something else than the file says`,
        hint: `Restore the file as it was applied (git log -p -- ${relative(entry)}); put a new change in a new migration (npx migrate-kit new <name>).`,
      })
    }
  }
  let untilEntry: HistoryEntry | undefined
  if (until !== undefined) {
    const migration = findMigration(
      history.entries.map((entry) => entry.migration),
      until,
    )
    untilEntry = history.entries.find((entry) => entry.migration.name === migration.name)!
    if (untilEntry.state === 'applied') {
      problems.push({
        reason: 'until_applied',
        migration: migration.name,
        message: `--until ${until}: migration ${migration.name} is already applied, so there is nothing to deploy up to it`,
        hint: 'See what is pending with `npx migrate-kit plan`; to go back to it, roll back instead: npx migrate-kit rollback <newest applied migration> --to <the one after it>',
      })
    }
  }
  if (problems.length > 0) throw new DeployRefusedError(problems)
  return untilEntry
}

/** Exit 4: a migration is being applied by another session; naming it, who, and since when. */
export function migrationInProgressError(applying: NonNullable<History['applying']>): LockHeldError {
  return new LockHeldError(
    `migration ${applying.migration} is being applied right now (started ${applying.startedAt.toISOString()}; Prisma Migrate's lock is held${describeHolder(applying.holder)})`,
    holderFields(applying.holder),
    {
      hint: 'Nothing was changed. Wait for it to finish (`npx migrate-kit status` shows it in progress), then run `npx migrate-kit deploy` again.',
    },
  )
}
