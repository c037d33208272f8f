import type { Command } from 'commander'
import { withConnection } from '../../db/connect'
import { ExitCode } from '../../errors'
import { dryRunBackfill, type DryRunResult } from '../../backfill/dry-run'
import { describePrecheck } from '../../backfill/verify'
import { appliedBeforeMigration } from '../../backfill/after-migration'
import { findBackfill, loadAllBackfills } from '../../backfill/loader'
import { barReporter, formatCount, formatDuration, lineReporter } from '../../backfill/progress'
import { runBackfill, runnerApplicationName, type RunResult } from '../../backfill/runner'
import { action, examples, type CommandHost } from '../command'
import type { CliIO } from '../io'
import { printJson } from '../io'
import { redisUrl } from './backfill-common'
import { addRunOptions, runTuningFrom } from './backfill-options'

interface RunCliOptions {
  join?: boolean
  restart?: boolean
  dryRun?: boolean
  json?: boolean
}

export function registerBackfillRun(backfill: Command, host: CommandHost): void {
  const command = backfill
    .command('run')
    .description('Run a backfill, or resume it where its last run stopped. Exactly-once per key range, across crashes.')
    .argument('<name>', 'the backfill (its `name`, see `migrate-kit backfill list`)')
  addRunOptions(command, 'run')
  command
    .option('--join', 'add this process as another runner of a backfill that is already running (shares its ranges)')
    .option('--restart', 'forget the ranges done and start over (only for updates that may run twice)')
    .option('--dry-run', 'count and show a sample of the rows that would change; touch nothing')
    .option('--json', 'print one JSON document on stdout at the end')
    .addHelpText(
      'after',
      examples([
        'migrate-kit backfill run users_display_name',
        'migrate-kit backfill run users_display_name --dry-run',
        'migrate-kit backfill run users_display_name --concurrency 4 --max-rows-per-second 20000',
        'migrate-kit backfill run users_display_name --join        # a second runner, on another machine',
      ]) +
        '\nCtrl-C (or SIGTERM) lets the batch in flight commit, records the backfill as paused and exits 0; run the same\n' +
        'command again to resume. A second `run` of a running backfill exits 4 naming the holder; `--join` adds a runner.\n' +
        '\nOnce its `before` migration is applied, the backfill is no longer needed: run says so and exits 0.\n' +
        '\nExit codes: 0 done or paused (or no longer needed), 1 failed or cancelled, 2 bad definition (nothing touched), 3 its `after` migration\n' +
        'is not applied, 4 already running.\n',
    )
    .action(
      action(host, async (name: string, options: RunCliOptions) => {
        const { context } = host
        const loaded = findBackfill(await loadAllBackfills(context.project), name)
        const database = await context.database('change')
        const contract = await withConnection(database.url, (client) => appliedBeforeMigration(client, loaded))
        if (contract) {
          if (options.json) printJson(context.io, { name, status: 'not_needed', before: contract })
          else context.io.out(`${name} is no longer needed: ${contract}, the migration it prepared, is already applied. Nothing to run.`)
          return ExitCode.ok
        }
        if (options.dryRun) {
          const { batchSize } = runTuningFrom(options, 'run')
          const result = await withConnection(database.url, (client) => dryRunBackfill(client, loaded, { batchSize }), {
            applicationName: runnerApplicationName(name),
          })
          if (options.json) printJson(context.io, { dryRun: true, ...result })
          else printDryRun(context.io, result)
          return ExitCode.ok
        }
        const controller = new AbortController()
        // The first Ctrl-C / SIGTERM is ours: the batches in flight commit, the run is recorded as paused. A second
        // one goes back to the CLI, which exits at once (the batch in flight then rolls back in the database).
        const giveBack = context.onInterrupt((signal) => {
          context.io.err(`${signal}: stopping after the batch in flight commits… (again to stop at once: that batch then rolls back)`)
          controller.abort()
          giveBack()
        })
        context.onDispose(() => Promise.resolve(giveBack()))
        const reporter = context.io.interactive && !options.json ? barReporter() : lineReporter((line) => context.io.err(line))
        let result: RunResult
        try {
          result = await runBackfill(database.url, loaded, {
            ...runTuningFrom(options, 'run'),
            join: options.join,
            restart: options.restart,
            redisUrl: redisUrl(),
            debug: Boolean(process.env.MIGRATE_KIT_DEBUG),
            signal: controller.signal,
            onEvent: (event) => reporter.event(event),
          })
        } finally {
          reporter.stop()
        }
        if (options.json) printJson(context.io, result)
        else printRunResult(context.io, result)
        printNextStep(context.io, result)
        return result.status === 'failed' || result.status === 'cancelled' ? ExitCode.failed : ExitCode.ok
      }),
    )
}

function progressText(result: RunResult): string {
  const total = result.rowsTotal === null ? '?' : formatCount(result.rowsTotal)
  return `${formatCount(result.rowsDone)} of ${total} rows`
}

function printRunResult(io: CliIO, result: RunResult): void {
  const seconds = result.durationMs / 1000
  const activeSeconds = Math.max(0, result.durationMs - result.heldMs) / 1000
  if (result.alreadyDone) {
    io.out(`${result.name} is already done (${formatCount(result.rowsDone)} rows): nothing to run.`)
    return
  }
  const thisRun = `${formatCount(result.rowsThisRun)} rows in ${result.batchesThisRun} batches in ${formatDuration(seconds)} (${formatCount(activeSeconds > 0 ? result.rowsThisRun / activeSeconds : 0)} rows/s, last batch size ${formatCount(result.batchSize)})`
  const extras = [
    result.retries > 0 ? `${result.retries} retried` : '',
    result.splits > 0 ? `${result.splits} split` : '',
    result.heldMs >= 1000 ? `paused for ${formatDuration(result.heldMs / 1000)} (not counted in the rate)` : '',
    result.invalidation.enabled ? `${formatCount(result.invalidation.keysRemoved)} cache keys removed` : '',
  ]
    .filter(Boolean)
    .join(', ')
  const tail = extras ? `; ${extras}` : ''
  switch (result.status) {
    case 'done':
      io.out(
        `${result.name} done: ${formatCount(result.rowsDone)} rows, ${formatCount(result.rowsChanged)} changed${result.verify ? ', verified' : ''}. This run: ${thisRun}${tail}.`,
      )
      break
    case 'paused':
      io.out(
        `${result.name} paused at ${result.cursorShown ?? 'its first range'}: ${progressText(result)} done. This run: ${thisRun}${tail}.`,
      )
      break
    case 'running':
      io.out(`This runner stopped; other runners carry on with ${result.name} (${progressText(result)} done). This run: ${thisRun}${tail}.`)
      break
    case 'cancelled':
      io.out(`${result.name} cancelled: ${progressText(result)} done. This run: ${thisRun}${tail}.`)
      break
    case 'failed':
      io.out(`${result.name} failed: ${progressText(result)} done. This run: ${thisRun}${tail}.`)
      break
  }
}

/** What happened, and the command to run next, on stderr (also with --json). */
function printNextStep(io: CliIO, result: RunResult): void {
  const name = result.name
  if (result.status === 'paused') io.err(`Paused. Resume with: migrate-kit backfill run ${name}`)
  if (result.status === 'cancelled') io.err(`Cancelled. Its done ranges stay done; resume with: migrate-kit backfill run ${name}`)
  if (result.status === 'failed') {
    const where = result.failedKeys ? ` at keys ${result.failedKeys}` : ''
    io.err(`error: backfill ${name} failed${where}: ${result.lastError ?? 'unknown error'}`)
    if (result.verify && result.verify.failures > 0) {
      // Every range is done: running again would change nothing. The definition missed these rows.
      io.err(
        `Every range is done, but its verify query still returns rows: fix the update or where, then run it over from the first key: migrate-kit backfill run ${name} --restart (safe only if the update may run twice on a row, e.g. its where skips rows already done).`,
      )
    } else io.err(`Fix the data or the definition, then resume where it stopped: migrate-kit backfill run ${name}`)
  }
}

function printDryRun(io: CliIO, result: DryRunResult): void {
  io.out(
    `Dry run of ${result.name} (nothing was changed): ${{ update: 'UPDATE', compute: 'compute()', process: 'process()' }[result.mode]} on ${result.table} by ${result.key}.`,
  )
  io.out(
    `  ${formatCount(result.rows)} rows in the table; ${formatCount(result.rowsMatching)} match its where${result.rowsChanging === null ? '' : `; ${formatCount(result.rowsChanging)} would change`}.`,
  )
  if (result.rowsAlreadyDone > 0 || result.status !== 'pending') {
    io.out(
      `  Status ${result.status}: ${formatCount(result.rowsAlreadyDone)} rows already done; a run resumes after key ${result.cursorShown ?? '(none yet)'}.`,
    )
  }
  io.out(
    `  About ${formatCount(result.estimatedBatches)} batches of ${formatCount(result.batchSize)} rows (the size then adapts toward the target batch time).`,
  )
  io.out(`  Each batch runs: ${result.statement}`)
  if (result.precheck) {
    io.out(
      result.precheck.failures > 0
        ? `  ${describePrecheck(result.precheck)}: a run refuses to start until they are fixed.`
        : '  precheck returned no row: every row can be handled.',
    )
  }
  if (result.sample.length === 0) {
    io.out('  No row would change.')
    return
  }
  io.out(`  Sample (${result.sample.length} rows${result.sample[0]?.after ? ', before → after' : ''}):`)
  for (const row of result.sample) {
    const columns = Object.keys(row.before)
      .map((column) =>
        row.after
          ? `${column}: ${JSON.stringify(row.before[column])} → ${JSON.stringify(row.after[column])}`
          : `${column}: ${JSON.stringify(row.before[column])}`,
      )
      .join(', ')
    io.out(`    ${result.key} ${row.key}: ${columns}`)
  }
}
