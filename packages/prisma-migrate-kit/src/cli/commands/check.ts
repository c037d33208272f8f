import type { Command } from 'commander'
import { runChecks } from '../../checks/check'
import { checkJson, checkLines } from '../../checks/report'
import { ExitCode } from '../../errors'
import { action, examples, type CommandHost } from '../command'
import { FORMAT_FLAG_HELP, chooseFormat, printCiFormat, type FormatFlags } from '../report-format'
import { openLintDatabase } from '../lint-database'
import { printJson } from '../io'

export function registerCheck(program: Command, host: CommandHost): void {
  program
    .command('check')
    .description(
      'Everything that can be wrong between the files and the database, changing nothing: rollback pairs, the lint of ' +
        "every migration, drift (Prisma's diff of the applied migrations against the database), applied migrations " +
        'edited since or failed, the integrity checks of prisma/checks/*.sql, and backfills a pending migration waits for.',
    )
    .option('--json', 'print one JSON document on stdout: the shape of `lint --json` ({ ok, findings, phases }), plus fields')
    .option('--format <format>', FORMAT_FLAG_HELP)
    .option('--sizes-from <url>', 'read table sizes from this database (production or a replica) for the lint, as lint --sizes-from')
    .addHelpText(
      'after',
      examples([
        'migrate-kit check',
        'migrate-kit check --json | jq \'.findings[] | select(.level == "error")\'',
        'migrate-kit check --format github',
      ]) +
        '\nAn integrity check is prisma/checks/<name>.sql: one SELECT whose rows are violations, opening with a comment\n' +
        'that says what a violation is. Each runs in a READ ONLY transaction.\n' +
        '\nExit codes: 0 no error-level finding, 1 errors found, 2 bad input (e.g. an unreadable migration folder).\n',
    )
    .action(
      action(host, async (options: FormatFlags & { sizesFrom?: string }) => {
        const { context } = host
        const format = chooseFormat(options)
        const database = await context.database('read')
        const lintDatabase = await openLintDatabase(context.project, {
          ...(options.sizesFrom === undefined ? {} : { sizesFrom: options.sizesFrom }),
          projectUrl: database.url,
        })
        context.onDispose(() => lintDatabase.close())
        for (const note of lintDatabase.notes) context.io.err(note)
        const report = await runChecks(context.project, database.url, {
          ...(lintDatabase.postgresVersion === undefined ? {} : { lintSettings: { postgresVersion: lintDatabase.postgresVersion } }),
          ...(lintDatabase.sizes ? { sizes: lintDatabase.sizes } : {}),
        })
        if (format === 'json') printJson(context.io, checkJson(report))
        else if (format !== 'text') printCiFormat(context.io, format, report.findings, context.project.root)
        else for (const line of checkLines(report)) context.io.out(line)
        return report.ok ? ExitCode.ok : ExitCode.failed
      }),
    )
}
