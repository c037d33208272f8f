import type { Command } from 'commander'
import { UsageError } from '../../errors'
import { DEFAULT_SETTINGS, META_RULES, RULES, lintProject, reportJson, reportLines, resolveTargets } from '../../lint'
import { action, examples, type CommandHost } from '../command'
import { formatTable, printJson } from '../io'

interface LintOptions {
  json?: boolean
  postgresVersion?: string
  rules?: boolean
}

function parsePostgresVersion(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const version = Number(value)
  if (!Number.isInteger(version) || version < 9 || version > 99) {
    throw new UsageError(`--postgres-version must be a major version such as 14, not "${value}"`)
  }
  return version
}

export function registerLint(program: Command, host: CommandHost): void {
  program
    .command('lint')
    .description(
      'Lint migrations: statements that lock tables or break running code, with the safe recipe, and the ' +
        'expand/contract phase of each migration. No database needed.',
    )
    .argument(
      '[migrations...]',
      'migration names (full folder name or the part after the timestamp) or .sql paths; default: all',
    )
    .option('--json', 'print one JSON document on stdout')
    .option(
      '--postgres-version <major>',
      `major version of the production PostgreSQL (default ${DEFAULT_SETTINGS.postgresVersion})`,
    )
    .option('--rules', 'list the rules (name, level, what each one catches) and exit')
    .addHelpText(
      'after',
      examples([
        'migrate-kit lint',
        'migrate-kit lint add_display_name',
        'migrate-kit lint prisma/migrations/20260301120000_add_display_name/migration.sql --json',
        'migrate-kit lint --postgres-version 11',
      ]) +
        '\nAcknowledge a finding in migration.sql, with a reason:\n' +
        '  -- migrate-kit-ignore <rule>[, <rule>]: <reason>    (the next statement)\n' +
        '  -- migrate-kit-ignore-file <rule>: <reason>         (the whole file)\n' +
        '\nExit codes: 0 no error-level finding, 1 errors found, 2 unknown migration or missing file.\n',
    )
    .action(
      action(host, async (references: string[], options: LintOptions) => {
        const { context } = host
        if (options.rules) {
          const catalogue = [...RULES, ...META_RULES].map(({ name, level, summary }) => ({ name, level, summary }))
          if (options.json) printJson(context.io, { rules: catalogue })
          else {
            const rows = catalogue.map((rule) => [rule.name, rule.level, rule.summary])
            for (const line of formatTable(['rule', 'level', 'catches'], rows)) context.io.out(line)
          }
          return 0
        }
        const postgresVersion = parsePostgresVersion(options.postgresVersion)
        const targets = resolveTargets(context.project, references, context.workingDirectory)
        const report = await lintProject(context.project, targets, postgresVersion === undefined ? {} : { postgresVersion })
        if (options.json) printJson(context.io, reportJson(report))
        else if (report.phases.length === 0) context.io.out('No migrations in prisma/migrations yet: nothing to lint.')
        else for (const line of reportLines(report)) context.io.out(line)
        return report.ok ? 0 : 1
      }),
    )
}
