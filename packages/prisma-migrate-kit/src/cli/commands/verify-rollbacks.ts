import type { Command } from 'commander'
import { ExitCode } from '../../errors'
import { verifyRollbacks, type VerifyRollbacksReport, type RoundTripResult } from '../../rollback/verify'
import { action, examples, type CommandHost } from '../command'
import { printJson, type CliIO } from '../io'

const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 }

export function registerVerifyRollbacks(program: Command, host: CommandHost): void {
  program
    .command('verify-rollbacks')
    .description(
      'Prove every rollback: on a scratch database, per migration, Prisma applies it, its rollback.sql runs, the schema ' +
        'must equal the schema before it, and Prisma applies it again.',
    )
    .option('--json', 'print one JSON document on stdout')
    .addHelpText(
      'after',
      examples(['migrate-kit verify-rollbacks', 'migrate-kit verify-rollbacks --json | jq \'.migrations[] | select(.status != "ok")\'']) +
        '\nThe scratch database (migrate_kit_verify_<random>) is made on the server of DATABASE_URL and dropped at the end,\n' +
        'also on failure and on Ctrl-C. Exit codes: 0 every rollback restores its schema, 1 one does not (the differences\n' +
        'are listed) or fails, 2 a migration has no rollback.sql.\n',
    )
    .action(
      action(host, async (options: { json?: boolean }) => {
        const { context } = host
        const database = await context.database('change')
        const controller = new AbortController()
        let signalled: NodeJS.Signals | undefined
        // The first Ctrl-C stops after the step under way and drops the scratch database; a second one goes back to
        // the CLI, whose cleanup (onDispose below) drops it too.
        const giveBack = context.onInterrupt((signal) => {
          signalled = signal
          context.io.err(`${signal}: stopping after the step under way, then dropping the scratch database…`)
          controller.abort()
          giveBack()
        })
        let drop: (() => Promise<void>) | undefined
        context.onDispose(async () => {
          giveBack()
          await drop?.().catch(() => undefined)
        })
        const report = await verifyRollbacks(context.project, {
          databaseUrl: database.url,
          signal: controller.signal,
          onStart: (scratch, count) => {
            drop = scratch.drop
            if (!options.json) context.io.err(`Verifying ${count} rollbacks on scratch database ${scratch.name}…`)
          },
          onResult: (result) => {
            if (!options.json) printResult(context.io, result)
          },
        })
        drop = undefined
        if (options.json) printJson(context.io, verifyJson(report))
        else printSummary(context.io, report)
        if (report.interrupted) return SIGNAL_EXIT[signalled ?? 'SIGINT'] ?? ExitCode.failed
        return report.ok ? ExitCode.ok : ExitCode.failed
      }),
    )
}

function printResult(io: CliIO, result: RoundTripResult): void {
  const seconds = result.seconds === undefined ? '' : `  (${result.seconds.toFixed(1)} s)`
  if (result.status === 'ok') {
    io.out(`ok       ${result.migration}${seconds}`)
    return
  }
  const what =
    result.status === 'differs'
      ? result.stage === 'reapply'
        ? 'applying it again after the rollback gives another schema than the first time:'
        : `${result.rollbackFile} does not restore the schema from before the migration:`
      : `${result.stage === 'rollback' ? 'the rollback' : result.stage === 'reapply' ? 'applying it again' : 'applying it'} failed:`
  io.out(`FAILED   ${result.migration}${seconds}: ${what}`)
  for (const difference of result.differences) io.out(`  - ${difference.message}`)
  if (result.error) for (const line of result.error.message.split('\n')) io.out(`  ${line}`)
}

function printSummary(io: CliIO, report: VerifyRollbacksReport): void {
  const skipped = report.results.filter((result) => result.status === 'not_executed')
  for (const result of skipped) io.out(`skipped  ${result.migration} (not executed: an earlier one failed or the run stopped)`)
  const passed = report.results.filter((result) => result.status === 'ok').length
  io.out('')
  if (report.interrupted) io.out(`Interrupted after ${passed} of ${report.results.length}; scratch database ${report.database} dropped.`)
  else if (report.ok) io.out(`All ${report.results.length} rollbacks restore the schema from before their migration (scratch database ${report.database}, dropped).`)
  else {
    const failed = report.results.find((result) => result.status === 'differs' || result.status === 'error')
    io.out(`${passed} of ${report.results.length} rollbacks verified; ${failed?.migration ?? 'one'} failed. Fix ${failed?.rollbackFile ?? 'it'}, then run: npx migrate-kit verify-rollbacks`)
  }
}

function verifyJson(report: VerifyRollbacksReport): object {
  return {
    ok: report.ok,
    interrupted: report.interrupted,
    database: report.database,
    migrations: report.results.map((result) => ({
      name: result.migration,
      status: result.status,
      rollbackFile: result.rollbackFile,
      ...(result.stage ? { stage: result.stage } : {}),
      differences: result.differences,
      ...(result.error ? { error: result.error } : {}),
      ...(result.seconds === undefined ? {} : { seconds: Number(result.seconds.toFixed(2)) }),
    })),
  }
}
