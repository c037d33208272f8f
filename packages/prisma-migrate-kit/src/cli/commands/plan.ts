import type { Command } from 'commander'
import { loadBackfills } from '../../backfill/loader'
import { readBackfillStatuses } from '../../backfill/status'
import { withConnection } from '../../db/connect'
import { planDeploy } from '../../deploy/deploy'
import { splitChangeLines, splitChangeStatuses } from '../../safe/progress'
import { migrationStatuses } from '../../status/status'
import { planJson, planLines } from '../../deploy/plan-text'
import { ExitCode } from '../../errors'
import { action, examples, type CommandHost } from '../command'
import { printJson } from '../io'

export function registerPlan(program: Command, host: CommandHost): void {
  program
    .command('plan')
    .description(
      'The ordered steps still to run on this database: pending migrations (with their phase), the backfills they ' +
        'wait for, the gates where `deploy` stops until those are done, the integrity checks; each with its command.',
    )
    .option('--json', 'print one JSON document on stdout')
    .addHelpText(
      'after',
      examples(['migrate-kit plan', 'migrate-kit plan --json | jq \'.steps[] | select(.kind == "gate")\'']) +
        '\nRead-only: nothing is locked or written. It is the plan `migrate-kit deploy` executes (and `deploy --dry-run`\n' +
        'prints). Exit codes: 0 shown, 2 a deploy would be refused (a failed or edited migration; the message says why).\n',
    )
    .action(
      action(host, async (options: { json?: boolean }) => {
        const { context } = host
        const database = await context.database('read')
        const plan = await planDeploy(context.project, { databaseUrl: database.url })
        const { backfills } = await loadBackfills(context.project)
        // Where each split change of `new --safe` stands here: the release or the command it waits for.
        const splitChanges = await withConnection(database.url, async (client) =>
          splitChangeStatuses(
            context.project,
            await migrationStatuses(client, context.project),
            await readBackfillStatuses(client, backfills),
          ),
        )
        if (options.json) {
          printJson(context.io, { ...planJson(plan), splitChanges })
          return ExitCode.ok
        }
        for (const line of planLines(plan)) context.io.out(line)
        const split = splitChangeLines(splitChanges)
        if (split.length > 0) context.io.out('')
        for (const line of split) context.io.out(line)
        return ExitCode.ok
      }),
    )
}
