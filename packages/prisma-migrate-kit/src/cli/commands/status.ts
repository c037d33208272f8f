import type { Command } from 'commander'
import { withConnection } from '../../db/connect'
import { relativePath } from '../../project'
import { migrationStatuses, statusExitCode, type MigrationStatus } from '../../status/status'
import { loadBackfills } from '../../backfill/loader'
import { readBackfillStatuses } from '../../backfill/status'
import { splitChangeLines, splitChangeStatuses } from '../../safe/progress'
import { printStatusTable } from './backfill-status'
import { action, examples, type CommandHost } from '../command'
import { formatTable, printJson } from '../io'

export function registerStatus(program: Command, host: CommandHost): void {
  program
    .command('status')
    .description(
      'Every migration (applied, pending, failed, rolled back) with its rollback file, every backfill, and where each ' +
        'split change of `new --safe` stands (the release or command it waits for).',
    )
    .option('--json', 'print one JSON document on stdout')
    .addHelpText(
      'after',
      examples(['migrate-kit status', 'migrate-kit status --json | jq \'.migrations[] | select(.state != "applied")\'']) +
        '\nExit codes, as `prisma migrate status`: 0 every migration applied; 1 one failed, one is not applied yet (pending or\n' +
        'rolled back), or the database applied one that is not in the folder (with --json too).\n',
    )
    .action(
      action(host, async (options: { json?: boolean }) => {
        const { context } = host
        const database = await context.database('read')
        const migrations = await withConnection(database.url, (client) => migrationStatuses(client, context.project))
        // Backfills: every file and every backfill the state tables know, read-only (never creates migrate_kit).
        const { backfills: loaded, problems } = await loadBackfills(context.project)
        const backfills = await withConnection(database.url, (client) => readBackfillStatuses(client, loaded))
        const broken = problems.map((problem) => ({
          name: problem.file.replace(/^.*[\\/]/, '').replace(/\.[cm]?[jt]s$/, ''),
          status: 'pending' as const,
          rowsDone: 0,
          rowsTotal: null,
          error: `${problem.file}: ${problem.message}`,
        }))
        const splitChanges = splitChangeStatuses(context.project, migrations, backfills)
        if (options.json) {
          printJson(context.io, {
            migrations: migrations.map(({ name, state, rollback, appliedAt, onDisk, checksumMatches }) => ({
              name,
              state,
              rollback,
              appliedAt,
              onDisk,
              checksumMatches,
            })),
            backfills: [...backfills.map(({ name, status, rowsDone, rowsTotal }) => ({ name, status, rowsDone, rowsTotal })), ...broken],
            splitChanges,
          })
          return statusExitCode(migrations)
        }
        printMigrations(context.io.out, migrations, relativePath(context.project, context.project.migrationsDir))
        context.io.out('')
        printStatusTable(context.io.out, backfills, context.project)
        for (const entry of broken) context.io.out(`warning: ${entry.error}`)
        const split = splitChangeLines(splitChanges)
        if (split.length > 0) context.io.out('')
        for (const line of split) context.io.out(line)
        return statusExitCode(migrations)
      }),
    )
}

function printMigrations(out: (line: string) => void, migrations: MigrationStatus[], migrationsFolder: string): void {
  if (migrations.length === 0) {
    out(`No migrations in ${migrationsFolder} yet. Create one with \`npx migrate-kit new <name>\`.`)
    return
  }
  const rows = migrations.map((migration) => [
    migration.name,
    migration.state.replace('_', ' '),
    migration.rollback,
    [
      migration.state === 'in_progress' ? 'being applied now: Prisma Migrate holds its lock and has not finished it' : '',
      migration.onDisk ? '' : `folder missing from ${migrationsFolder}`,
      migration.checksumMatches === false ? 'migration.sql edited since it was applied' : '',
    ]
      .filter(Boolean)
      .join('; '),
  ])
  for (const line of formatTable(['migration', 'state', 'rollback', 'note'], rows)) out(line)
  const pending = migrations.filter((migration) => migration.state === 'pending').length
  const failed = migrations.filter((migration) => migration.state === 'failed').length
  const applying = migrations.filter((migration) => migration.state === 'in_progress').length
  const missing = migrations.filter((migration) => migration.rollback === 'missing').length
  out('')
  out(
    `${migrations.length} migrations: ${migrations.length - pending - failed - applying} applied or rolled back, ${applying > 0 ? `${applying} in progress, ` : ''}${pending} pending, ${failed} failed; ${missing} without rollback.sql`,
  )
}
