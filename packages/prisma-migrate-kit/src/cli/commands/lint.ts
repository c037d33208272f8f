import { existsSync } from 'node:fs'
import type { Command } from 'commander'
import { UsageError } from '../../errors'
import { DEFAULT_SETTINGS, META_RULES, RULES, lintProject, reportJson, reportLines, resolveTargets, type LintSettings } from '../../lint'
import { settingMs } from '../../lint/timeout-settings'
import { LINT_BASELINE_FILE, baselineEntries, lintBaselinePath, writeLintBaseline } from '../../lint/baseline'
import { plural } from '../../text'
import { relativePath } from '../../project'
import { action, examples, type CommandHost } from '../command'
import { FORMAT_FLAG_HELP, chooseFormat, printCiFormat } from '../report-format'
import { openLintDatabase } from '../lint-database'
import { configuredDatabaseUrl } from '../../db/database'
import { formatTable, printJson } from '../io'

interface LintOptions {
  json?: boolean
  format?: string
  baseline?: boolean
  ignoreBaseline?: boolean
  postgresVersion?: string
  maxLockTimeout?: string
  maxStatementTimeout?: string
  sizesFrom?: string
  database?: boolean
  rules?: boolean
}

/** `--max-lock-timeout 10s`: PostgreSQL's units (ms, s, min, h) or a number of milliseconds. */
function parseLimit(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const ms = settingMs(value)
  if (ms === undefined || ms <= 0) throw new UsageError(`${flag} must be a duration such as 10s, 500ms or 2min, not "${value}"`)
  return ms
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
    .argument('[migrations...]', 'migration names (full folder name or the part after the timestamp) or .sql paths; default: all')
    .option('--json', 'print one JSON document on stdout (the same as --format json)')
    .option('--format <format>', FORMAT_FLAG_HELP)
    .option('--postgres-version <major>', `major version of the production PostgreSQL (default ${DEFAULT_SETTINGS.postgresVersion})`)
    .option(
      '--max-lock-timeout <duration>',
      'the longest lock_timeout a migration may set (default 10s; package.json "migrateKit.maxLockTimeout")',
    )
    .option(
      '--max-statement-timeout <duration>',
      'the longest statement_timeout a migration may set (default: none, only 0 is reported; "migrateKit.maxStatementTimeout")',
    )
    .option(
      '--sizes-from <url>',
      'read table sizes (pg_class) from this database, production or a replica: findings say them and their level follows them (package.json "migrateKit.sizesFrom" names a variable instead)',
    )
    .option('--no-database', "do not ask the project's database for its PostgreSQL version")
    .option('--rules', 'list the rules (name, level, what each one catches) and exit')
    .option(
      '--baseline',
      `record every finding of the history in ${LINT_BASELINE_FILE} (commit it): lint and check then fail on new findings only`,
    )
    .option('--ignore-baseline', `report every finding, the ones ${LINT_BASELINE_FILE} accepts too`)
    .addHelpText(
      'after',
      examples([
        'migrate-kit lint',
        'migrate-kit lint add_display_name',
        'migrate-kit lint prisma/migrations/20260301120000_add_display_name/migration.sql --json',
        'migrate-kit lint --postgres-version 11',
        'migrate-kit lint --baseline',
        'migrate-kit lint --format github     # annotations on the migration lines of a pull request',
        'migrate-kit lint --format sarif > migrate-kit.sarif',
        'migrate-kit lint --sizes-from "$PRODUCTION_REPLICA_URL"   # levels follow the real tables\' sizes',
      ]) +
        '\nAcknowledge a finding in migration.sql, with a reason:\n' +
        '  -- migrate-kit-ignore <rule>[, <rule>]: <reason>    (the next statement)\n' +
        '  -- migrate-kit-ignore-file <rule>: <reason>         (the whole file)\n' +
        `Accept the findings of a history written before adopting the linter: migrate-kit lint --baseline (${LINT_BASELINE_FILE}).\n` +
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
        const maxLockTimeoutMs = parseLimit('--max-lock-timeout', options.maxLockTimeout)
        const maxStatementTimeoutMs = parseLimit('--max-statement-timeout', options.maxStatementTimeout)
        const settings = {
          ...(postgresVersion === undefined ? {} : { postgresVersion }),
          ...(maxLockTimeoutMs === undefined ? {} : { maxLockTimeoutMs }),
          ...(maxStatementTimeoutMs === undefined ? {} : { maxStatementTimeoutMs }),
        }
        if (options.baseline) return writeBaseline(host, references, settings, options)
        const targets = resolveTargets(context.project, references, context.workingDirectory)
        const format = chooseFormat(options)
        const database = await openLintDatabase(context.project, {
          ...(options.sizesFrom === undefined ? {} : { sizesFrom: options.sizesFrom }),
          ...(options.database === false ? {} : { projectUrl: configuredDatabaseUrl(context.project) }),
        })
        context.onDispose(() => database.close())
        for (const note of database.notes) context.io.err(note)
        const measured = { ...(database.postgresVersion === undefined ? {} : { postgresVersion: database.postgresVersion }), ...settings }
        const report = await lintProject(context.project, targets, measured, {
          useBaseline: !options.ignoreBaseline,
          ...(database.sizes ? { sizes: database.sizes } : {}),
        })
        if (format === 'json') printJson(context.io, reportJson(report))
        else if (format !== 'text') printCiFormat(context.io, format, report.findings, context.project.root)
        else if (report.phases.length === 0)
          context.io.out(`No migrations in ${relativePath(context.project, context.project.migrationsDir)} yet: nothing to lint.`)
        else for (const line of reportLines(report)) context.io.out(line)
        return report.ok ? 0 : 1
      }),
    )
}

/** `lint --baseline`: every finding of the whole history, whatever the baseline said before, becomes the baseline. */
async function writeBaseline(
  host: CommandHost,
  references: string[],
  settings: Partial<LintSettings>,
  options: LintOptions,
): Promise<number> {
  const { context } = host
  if (references.length > 0 || options.ignoreBaseline) {
    throw new UsageError('--baseline records the findings of the whole history: it takes no migration names and no --ignore-baseline', {
      hint: 'Run it alone: npx migrate-kit lint --baseline',
    })
  }
  const report = await lintProject(context.project, resolveTargets(context.project, []), settings, { useBaseline: false })
  const entries = baselineEntries(report.analyses)
  const path = lintBaselinePath(context.project)
  const existed = existsSync(path)
  const file = relativePath(context.project, path)
  if (entries.length === 0 && !existed) {
    if (options.json) printJson(context.io, { ok: true, file: null, accepted: [], findings: 0 })
    else context.io.out(`No finding in ${plural(report.phases.length, 'migration')}: no baseline needed, nothing written.`)
    return 0
  }
  writeLintBaseline(context.project, entries)
  const findings = entries.reduce((sum, entry) => sum + entry.count, 0)
  if (options.json) {
    printJson(context.io, { ok: true, file, accepted: entries, findings })
    return 0
  }
  const migrations = new Set(entries.map((entry) => entry.migration)).size
  context.io.out(
    `${existed ? 'Rewrote' : 'Wrote'} ${file}: ${plural(findings, 'finding')} accepted in ${plural(migrations, 'migration')}. ` +
      '`lint` and `check` now fail on new findings only. Commit it.',
  )
  return 0
}
