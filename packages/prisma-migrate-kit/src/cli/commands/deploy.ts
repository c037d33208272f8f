import { InvalidArgumentError, Option, type Command } from 'commander'
import { parseOptionValue } from '../../backfill/options'
import { DEPLOY_OPTIONS } from '../../deploy/options'
import { barReporter, lineReporter, type ProgressReporter } from '../../backfill/progress'
import { deploy, planDeploy, type DeployRun } from '../../deploy/deploy'
import { notExecutedLine, planJson, planLines, resultLines, runJson } from '../../deploy/plan-text'
import { ExitCode, UsageError, signalExitCode } from '../../errors'
import { action, examples, type CommandHost } from '../command'
import { printJson, type CliIO } from '../io'
import { redisUrl } from './backfill-common'
import { addRunOptions, givenRunFlags, runTuningFrom } from './backfill-options'

interface DeployCliOptions {
  until?: string
  dryRun?: boolean
  runBackfills?: boolean
  json?: boolean
  lockTimeout?: number
  lockRetries?: number
}

/** deploy's flags for the backfills it runs (--backfill-batch-size …): prefixed, so they never read as the deploy's own. */
const BACKFILL_PREFIX = 'backfill-'

export function registerDeploy(program: Command, host: CommandHost): void {
  const command = program
    .command('deploy')
    .description(
      'Apply pending migrations with Prisma Migrate in expand → backfill → contract order: a migration that waits for ' +
        'backfills (named in their before:, or over columns it drops or tightens) is applied only once they are done and ' +
        'verified. Then run the integrity checks (prisma/checks/*.sql).',
    )
    .option('--until <migration>', 'apply pending migrations up to and including this one (folder name or the name after the timestamp)')
    .option('--dry-run', 'print the plan this deploy would execute, step by step; change nothing')
    .option(
      '--run-backfills',
      'run the backfills a migration waits for inside the deploy, with the --backfill-* settings below, and go on. For ' +
        'development and throwaway CI databases only: on production, an operator runs each backfill (resumable, throttled) and deploys again',
    )
    .option('--json', 'print one JSON document on stdout (progress goes to stderr)')
  for (const spec of DEPLOY_OPTIONS) {
    command.addOption(
      new Option(`--${spec.flag} ${spec.value}`, `${spec.doc} (default ${spec.defaultValue})`).argParser((text: string) => {
        const parsed = parseOptionValue(spec.kind, text)
        if ('error' in parsed) throw new InvalidArgumentError(parsed.error)
        return parsed.value
      }),
    )
  }
  addRunOptions(command, 'deploy', BACKFILL_PREFIX)
  command
    .addHelpText(
      'after',
      examples([
        'migrate-kit deploy --dry-run',
        'migrate-kit deploy',
        'migrate-kit deploy --until 20261123113457_expand_total_puzzles',
        'migrate-kit deploy --run-backfills        # CI on a throwaway database',
      ]) +
        '\nHow it applies: the real `prisma migrate deploy`, on a temporary Prisma config whose migrations folder holds the\n' +
        'history up to the last migration allowed now, so Prisma never sees the later ones.\n' +
        '\nRefused before anything runs (exit 2): a migration failed in the database, an applied migration.sql edited since,\n' +
        'an --until that is unknown or already applied.\n' +
        '\nExit codes: 0 every step done; 1 a migration, a backfill or an integrity check failed; 2 refused (nothing changed);\n' +
        '3 stopped at a gate: a migration waits for a backfill (the message gives the commands to run next); 4 another\n' +
        'deploy, a `prisma migrate` command or a rollback is running on this database.\n',
    )
    .action(
      action(host, async (options: DeployCliOptions) => {
        const { context } = host
        const settings = givenRunFlags(options, 'deploy', BACKFILL_PREFIX)
        if (settings.length > 0 && !options.runBackfills) {
          throw new UsageError(
            `${settings.join(', ')} set${settings.length === 1 ? 's' : ''} how deploy runs backfills, but this deploy runs none: nothing was changed`,
            {
              hint: 'Add --run-backfills (development and throwaway CI databases), or give the settings to `migrate-kit backfill run <name>`.',
            },
          )
        }
        const database = await context.database('change')
        const planOptions = {
          databaseUrl: database.url,
          ...(options.until === undefined ? {} : { until: options.until }),
          runBackfills: options.runBackfills === true,
        }
        if (options.dryRun) {
          const plan = await planDeploy(context.project, planOptions)
          if (options.json) printJson(context.io, { dryRun: true, ...planJson(plan) })
          else {
            for (const line of planLines(plan)) context.io.out(line)
            context.io.out('')
            context.io.out('Dry run: nothing was changed. Without --dry-run, deploy executes exactly these steps.')
          }
          return ExitCode.ok
        }

        const controller = new AbortController()
        let signalled: NodeJS.Signals | undefined
        const giveBack = context.onInterrupt((signal) => {
          signalled = signal
          context.io.err(`${signal}: stopping after the step under way (a backfill stops after its batch in flight)…`)
          controller.abort()
          giveBack()
        })
        context.onDispose(() => Promise.resolve(giveBack()))
        // With --json, stdout carries the one document: step lines go to stderr.
        const say = options.json ? context.io.err : context.io.out
        let reporter: ProgressReporter | undefined
        const run = await deploy(context.project, {
          ...planOptions,
          backfillSettings: runTuningFrom(options, 'deploy', BACKFILL_PREFIX),
          ...(options.lockTimeout === undefined ? {} : { lockTimeoutMs: options.lockTimeout }),
          ...(options.lockRetries === undefined ? {} : { lockRetries: options.lockRetries }),
          onNotice: (message) => context.io.err(message),
          signal: controller.signal,
          ...(redisUrl() ? { redisUrl: redisUrl()! } : {}),
          onStepStart: (step, index) => {
            if (index === 0) say(`Deploy to ${database.target.host}:${database.target.port}/${database.target.database}.`)
            if (step.kind === 'backfill' && step.runBy === 'deploy') say(`   running backfill ${step.backfill} (--run-backfills)…`)
          },
          onBackfillEvent: (_name, event) => {
            reporter ??= context.io.interactive && !options.json ? barReporter() : lineReporter((line) => context.io.err(line))
            reporter.event(event)
          },
          onStepDone: (step, result, index) => {
            reporter?.stop()
            reporter = undefined
            for (const line of resultLines(step, result, index)) say(line)
          },
        })
        if (options.json) printJson(context.io, runJson(run))
        printOutcome(context.io, run, say)
        if (run.outcome === 'interrupted') return signalExitCode(signalled)
        return { done: ExitCode.ok, blocked: ExitCode.blocked, failed: ExitCode.failed }[run.outcome]
      }),
    )
}

/** What happened and what to run next: on stderr when the deploy stopped, as every refusal of the CLI says it. */
function printOutcome(io: CliIO, run: DeployRun, say: (line: string) => void): void {
  const skipped = notExecutedLine(run)
  if (run.outcome === 'done') {
    say('')
    say(`Done: ${run.message}.`)
    if (run.next.length > 0) say(`Next: ${run.next.join(' ; ')}`)
    return
  }
  if (skipped) say(skipped)
  const head = { blocked: 'deploy stopped at a gate', failed: 'deploy failed', interrupted: 'deploy interrupted' }[run.outcome]
  io.err(`${run.outcome === 'failed' ? 'error: ' : ''}${head}: ${run.message}.`)
  if (run.next.length > 0) {
    io.err('Next:')
    for (const command of run.next) io.err(`  ${command}`)
  }
}
