import type { Command } from 'commander'
import { withConnection } from '../../db/connect'
import { describeTarget } from '../../db/url'
import { ExitCode } from '../../errors'
import { DEFAULT_LOCK_TIMEOUT } from '../../rollback/actions'
import { planLines, rollbackJson } from '../../rollback/plan-text'
import { planRollback } from '../../rollback/rollback'
import { executeRollback } from '../../rollback/run'
import { action, examples, type CommandHost } from '../command'
import { printJson } from '../io'

interface RollbackCliOptions {
  to?: string
  dryRun?: boolean
  json?: boolean
  lockTimeout?: string
  acceptEditedMigration?: boolean
}

export function registerRollback(program: Command, host: CommandHost): void {
  program
    .command('rollback')
    .description(
      'Revert applied migrations with their rollbacks/<migration>/rollback.sql, newest first, in one transaction, and ' +
        'record it so that Prisma sees them as not applied (a later deploy re-applies them).',
    )
    .argument('<migration>', 'the newest migration to revert (folder name, or the part after the timestamp)')
    .option('--to <migration>', 'revert every applied migration back to and including this older one')
    .option('--dry-run', 'print the plan (migrations, files, every statement) and change nothing')
    .option('--lock-timeout <duration>', `give up when a statement waits longer than this for a lock (default ${DEFAULT_LOCK_TIMEOUT})`)
    .option('--accept-edited-migration', 'roll back although migration.sql changed since Prisma applied it')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText(
      'after',
      examples([
        'migrate-kit rollback 20260301120000_add_display_name --dry-run',
        'migrate-kit rollback add_display_name',
        'migrate-kit rollback 20260305120000_contract_display_name --to 20260301120000_add_display_name',
        'migrate-kit rollback add_display_name --lock-timeout 2s --json',
      ]) +
        '\nRefused before anything runs (exit 2): no rollback.sql, migration not applied or failed, a later migration\n' +
        'still applied, migration.sql edited since it was applied. A failing statement rolls everything back (exit 1)\n' +
        "and is shown with its file, line and PostgreSQL's error. Exit 4: a `prisma migrate` command holds its lock.\n",
    )
    .action(
      action(host, async (migration: string, options: RollbackCliOptions) => {
        const { context } = host
        const database = await context.database('change')
        return withConnection(
          database.url,
          async (client) => {
            const plan = await planRollback(client, context.project, {
              migration,
              to: options.to,
              lockTimeout: options.lockTimeout,
              acceptEditedMigration: options.acceptEditedMigration,
            })
            if (options.dryRun) {
              if (options.json) printJson(context.io, rollbackJson(plan, undefined))
              else {
                for (const line of planLines(plan, describeTarget(database.target))) context.io.out(line)
                context.io.out('')
                context.io.out(`Run it: npx migrate-kit rollback ${migration}${options.to ? ` --to ${options.to}` : ''}`)
              }
              return ExitCode.ok
            }
            const run = await executeRollback(client, plan)
            if (options.json) printJson(context.io, rollbackJson(plan, run))
            if (run.error) throw run.error
            if (!options.json) {
              for (const result of run.results) context.io.out(`rolled back ${result.migration}  (${result.rollbackFile})`)
              context.io.out(
                `${run.results.length} migration${run.results.length === 1 ? '' : 's'} rolled back in one transaction on ` +
                  `${describeTarget(database.target)}. Check: npx migrate-kit status; re-apply later: npx migrate-kit deploy`,
              )
            }
            return ExitCode.ok
          },
          { applicationName: 'migrate-kit rollback' },
        )
      }),
    )
}
