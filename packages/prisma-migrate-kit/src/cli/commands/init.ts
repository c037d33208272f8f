import { statSync } from 'node:fs'
import type { Command } from 'commander'
import { ExitCode, MigrateKitError, errorMessage, signalExitCode } from '../../errors'
import { planInitFiles, applyInitFiles, type InitFileChange } from '../../init/plan'
import { lintProject, resolveTargets, type LintReport } from '../../lint'
import { applyBaseline, baselineEntries, lintBaselinePath, readLintBaseline, writeLintBaseline } from '../../lint/baseline'
import { findingCounts } from '../../lint/report'
import { plural } from '../../text'
import { listMigrations, type MigrationOnDisk } from '../../prisma/migrations'
import { relativePath, type Project } from '../../project'
import { hasRollback, rollbackFile } from '../../rollback/files'
import { generateRollbacks } from '../../rollback/generate'
import { RollbackTrial } from '../../rollback/trial'
import { action, examples, type CommandHost } from '../command'
import { stopAfterStep } from '../graceful-stop'
import { historyProgress } from '../history-progress'
import { printJson } from '../io'
import { printGenerationError, printWarnings } from './rollbacks'

interface InitOptions {
  dryRun?: boolean
  json?: boolean
  /** commander's --no-rollbacks */
  rollbacks: boolean
}

interface RollbacksStep {
  /** Migrations that had no rollback.sql when init started. */
  missing: string[]
  written: string[]
  failed: Array<{ migration: string; error: string }>
  /** Why none was generated (dry run, --no-rollbacks, no database), or why not all (interrupted). */
  notDone?: string
  /** Ctrl-C / SIGTERM stopped the step after the rollback under way. */
  interrupted?: NodeJS.Signals
}

/** The variable the workflow must set: the one the config reads (its value is the config's URL), else DATABASE_URL. */
function urlVariable(project: Project, env: NodeJS.ProcessEnv): string {
  if (project.datasource?.unsetVariable) return project.datasource.unsetVariable
  const url = project.datasource?.url
  if (!url || env.DATABASE_URL === url) return 'DATABASE_URL'
  return Object.entries(env).find(([, value]) => value === url)?.[0] ?? 'DATABASE_URL'
}

const VERBS = { create: ['created', 'would create'], update: ['updated', 'would update'], keep: ['kept', 'kept'] } as const

export function registerInit(program: Command, host: CommandHost): void {
  program
    .command('init')
    .description(
      'Set up an existing Prisma project in one step, idempotent: the offline-engine line in the Prisma config, the backfills ' +
        'and rollbacks folders, .gitignore, a CI workflow, rollback.sql for every migration of the history, and a lint baseline of its findings.',
    )
    .option('--dry-run', 'change nothing: say what init would create, update and generate')
    .option('--no-rollbacks', 'leave the rollbacks of the existing history for later (npx migrate-kit rollbacks generate)')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText(
      'after',
      examples(['migrate-kit init --dry-run', 'migrate-kit init', 'migrate-kit init --no-rollbacks']) +
        '\nRun twice, init changes nothing: a file that has what init would add is kept as it is, an existing rollback.sql\n' +
        'or CI workflow that runs migrate-kit is never touched. Generating the rollbacks of the history needs a database\n' +
        '(DATABASE_URL, or the embedded one of a project that opted in): each rollback is tried on a scratch database first.\n' +
        'Exit codes: 0 set up; 1 a rollback could not be generated (named, with why) or there was no database to try them on;\n' +
        '2 not a Prisma project (nothing was changed).\n',
    )
    .action(
      action(host, async (options: InitOptions) => {
        const { context } = host
        const { project, io } = context
        const dryRun = options.dryRun ?? false
        const say = (line: string): void => {
          if (!options.json) io.out(line)
        }
        const history = listMigrations(project)
        say(
          `${dryRun ? 'Would set up' : 'Setting up'} ${project.root} (${history.length} migration${history.length === 1 ? '' : 's'} in ${relativePath(project, project.migrationsDir)}):`,
        )

        const changes = planInitFiles(project, { urlVariable: urlVariable(project, process.env) })
        if (!dryRun) applyInitFiles(changes)
        for (const change of changes) say(printableChange(project, change, dryRun))
        if (!project.configFile) {
          say(
            '  note: no Prisma config file, so plain `npx prisma migrate …` cannot be given the offline engine; `npx migrate-kit prisma migrate …` always is.',
          )
        }

        const rollbacks: RollbacksStep = {
          missing: history.filter((m) => !hasRollback(project, m.name)).map((m) => m.name),
          written: [],
          failed: [],
        }
        let noDatabase = false
        const count = `${rollbacks.missing.length} migration${rollbacks.missing.length === 1 ? '' : 's'} without rollback.sql`
        if (rollbacks.missing.length === 0)
          say(`  rollbacks:   ${history.length === 0 ? 'no migrations yet' : 'every migration has its rollback.sql'}`)
        else if (dryRun) rollbacks.notDone = `dry run: would generate the rollbacks of ${count} (${rollbacks.missing.join(', ')})`
        else if (!options.rollbacks) rollbacks.notDone = `--no-rollbacks: ${count}; generate them with npx migrate-kit rollbacks generate`
        else noDatabase = !(await generateHistoryRollbacks(host, rollbacks, say, options.json ?? false))
        if (rollbacks.notDone) say(`  rollbacks:   ${rollbacks.notDone}`)

        const lint = lintStep(project, history, await lintProject(project, resolveTargets(project, []), {}, { useBaseline: false }), dryRun)
        say(`  lint:        ${lint.text}`)

        const failed = rollbacks.failed.length > 0 || noDatabase || rollbacks.interrupted !== undefined
        const changed =
          changes.some((change) => change.action !== 'keep') || rollbacks.written.length > 0 || lint.baseline.action === 'create'
        if (options.json) {
          printJson(io, {
            ok: !failed,
            dryRun,
            files: changes.map((change) => ({ file: relativePath(project, change.file), action: change.action, what: change.what })),
            rollbacks,
            lint: { migrations: history.length, errors: lint.errors, warnings: lint.warnings, baseline: lint.baseline },
          })
        } else if (failed) {
          io.err(
            rollbacks.failed.length > 0
              ? `error: ${rollbacks.failed.length} rollback${rollbacks.failed.length === 1 ? '' : 's'} could not be generated (${rollbacks.failed.map((f) => f.migration).join(', ')}): ` +
                  'write each by hand, starting from `npx migrate-kit rollbacks generate <migration> --print`, then prove them with `npx migrate-kit verify-rollbacks`.'
              : `error: the rollbacks of the history were not generated: ${rollbacks.notDone}`,
          )
        } else if (dryRun) {
          say('Nothing was changed (--dry-run).')
        } else {
          say(changed ? 'Review the changes (git status, git diff) and commit them.' : 'Nothing to change: the project is set up.')
          say('Day to day: npx migrate-kit new <name> (a migration with its rollback.sql, linted), npx migrate-kit status, and in CI or')
          say('production npx migrate-kit deploy instead of prisma migrate deploy.')
        }
        if (rollbacks.interrupted) return signalExitCode(rollbacks.interrupted)
        return failed ? ExitCode.failed : ExitCode.ok
      }),
    )
}

interface LintStep {
  errors: number
  warnings: number
  /** The baseline file: written now (create), there already (keep), or not needed (none: no finding). */
  baseline: { file: string; action: 'create' | 'keep' | 'none'; accepted: number }
  text: string
}

/**
 * The history's findings become the lint baseline when there is none, so that check fails on new findings only from
 * the first day; an existing baseline is the team's and is kept (what it no longer covers, check reports).
 */
function lintStep(project: Project, history: MigrationOnDisk[], report: LintReport, dryRun: boolean): LintStep {
  const { errors, warnings } = findingCounts(report.findings)
  const counts = `${plural(errors, 'error')} and ${plural(warnings, 'warning')} in the existing migrations`
  const file = relativePath(project, lintBaselinePath(project))
  const kept = readLintBaseline(project)
  if (kept) {
    const applied = applyBaseline(
      kept,
      report.analyses,
      history.map((migration) => migration.name),
    )
    const beyond = findingCounts(applied.findings).errors
    return {
      errors,
      warnings,
      baseline: { file, action: 'keep', accepted: applied.skipped },
      text:
        `${counts}; ${file} (kept) accepts ${plural(applied.skipped, 'finding')}` +
        (beyond > 0 ? `; ${plural(beyond, 'error')} beyond it fail \`npx migrate-kit check\` (\`npx migrate-kit lint\` lists them)` : ''),
    }
  }
  if (report.findings.length === 0) return { errors, warnings, baseline: { file, action: 'none', accepted: 0 }, text: counts }
  const entries = baselineEntries(report.analyses)
  if (!dryRun) writeLintBaseline(project, entries)
  const migrations = new Set(entries.map((entry) => entry.migration)).size
  return {
    errors,
    warnings,
    baseline: { file, action: 'create', accepted: report.findings.length },
    text:
      `${counts}; ${dryRun ? 'would write' : 'wrote'} ${file} accepting them (${plural(migrations, 'migration')}), so that ` +
      '`npx migrate-kit check` and `lint` fail on new findings only (`npx migrate-kit lint --ignore-baseline` lists them all)',
  }
}

function printableChange(project: Project, change: InitFileChange, dryRun: boolean): string {
  const verb = VERBS[change.action][dryRun ? 1 : 0]
  const folder = statSync(change.file, { throwIfNoEntry: false })?.isDirectory() ? '/' : ''
  return `  ${verb.padEnd(12)} ${relativePath(project, change.file)}${folder}: ${change.what}`
}

/**
 * The rollbacks of the migrations that have none, tried on one scratch database. False when there was no database to
 * try them on (said in step.notDone).
 */
async function generateHistoryRollbacks(
  host: CommandHost,
  step: RollbacksStep,
  say: (line: string) => void,
  json: boolean,
): Promise<boolean> {
  const { context } = host
  const { project } = context
  let databaseUrl: string
  try {
    databaseUrl = (await context.database('read')).url
  } catch (error) {
    if (!(error instanceof MigrateKitError)) throw error
    step.notDone = `${errorMessage(error)}${error.hint ? ` (${error.hint})` : ''}; the other steps are done: run npx migrate-kit init again once it is set`
    return false
  }
  const trial = await RollbackTrial.open(project, databaseUrl)
  const progress = historyProgress(context.io, { label: 'init: rollbacks', total: step.missing.length, json })
  // The files written are kept; a second Ctrl-C goes back to the CLI, whose cleanup below drops the databases too.
  const stop = stopAfterStep(context, progress.io.err, 'the rollback under way, then dropping the scratch databases')
  context.onDispose(async () => {
    stop.release()
    progress.stop()
    await trial.close()
  })
  // What init says goes through the progress's io: above the bar on a terminal.
  const io = progress.io
  await generateRollbacks(project, step.missing, {
    databaseUrl,
    trial,
    signal: stop.signal,
    onStarting: (migration) => progress.starting(migration),
    onResult: (result) => {
      progress.done()
      if (result.status === 'written') {
        step.written.push(result.migration)
        const file = relativePath(project, result.file)
        if (!json) io.out(`  ${'created'.padEnd(12)} ${file}`)
        if (!json) printWarnings(io, file, result.generated)
        return
      }
      step.failed.push({ migration: result.migration, error: errorMessage(result.error) })
      if (!json) io.out(`  ${'not written'.padEnd(12)} ${relativePath(project, rollbackFile(project, result.migration))} (why: on stderr)`)
      if (!json) printGenerationError(io, result.migration, result.error)
    },
  })
  progress.stop()
  step.interrupted = stop.signalled
  if (step.interrupted) {
    const left = step.missing.length - step.written.length - step.failed.length
    step.notDone = `interrupted (${step.interrupted}) with ${left} still to generate; run npx migrate-kit init again for them`
  }
  say(`  rollbacks:   ${step.written.length} written, ${step.failed.length} could not be generated`)
  return true
}
