import type { Command } from 'commander'
import { planDeploy } from '../../deploy/deploy'
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
        if (options.json) printJson(context.io, planJson(plan))
        else for (const line of planLines(plan)) context.io.out(line)
        return ExitCode.ok
      }),
    )
}
