import type { Command } from 'commander'
import { parseDatabaseUrl } from '../../db/url'
import { ExitCode, UsageError, signalExitCode } from '../../errors'
import { findMigration, listMigrations } from '../../prisma/migrations'
import { ACCEPTED_FAILURES_FILE, readAcceptedFailures, type AcceptedFailures } from '../../rollback/accepted'
import { verifyRollbacks, type VerifyRollbacksReport, type RoundTripResult } from '../../rollback/verify'
import { action, examples, type CommandHost } from '../command'
import { stopAfterStep } from '../graceful-stop'
import { historyProgress, type HistoryProgress } from '../history-progress'
import { formatTable, printJson, type CliIO } from '../io'

interface VerifyCliOptions {
  json?: boolean
  from?: string
  only?: string[]
  scratchUrl?: string
}

export function registerVerifyRollbacks(program: Command, host: CommandHost): void {
  program
    .command('verify-rollbacks')
    .description(
      'Prove every rollback: on a scratch database, per migration, Prisma applies it, its rollback.sql runs, the schema ' +
        'must equal the schema before it, and Prisma applies it again. Reports every migration.',
    )
    .option('--from <migration>', 'verify this migration and the later ones (the earlier ones are only applied)')
    .option('--only <migration...>', 'verify only these migrations (the ones before them are only applied)')
    .option('--scratch-url <url>', "make the scratch databases on this server (a role with CREATEDB) instead of DATABASE_URL's")
    .option('--json', 'print one JSON document on stdout')
    .addHelpText(
      'after',
      examples([
        'migrate-kit verify-rollbacks',
        'migrate-kit verify-rollbacks --from 20260301120000_add_display_name',
        'migrate-kit verify-rollbacks --only add_display_name contract_display_name',
        'migrate-kit verify-rollbacks --scratch-url postgresql://ci@scratch-db:5432/postgres',
        'migrate-kit verify-rollbacks --json | jq \'.migrations[] | select(.status != "ok")\'',
      ]) +
        '\nThe scratch database (migrate_kit_verify_<random>) is made on the server of --scratch-url or DATABASE_URL and\n' +
        'dropped at the end, also on failure and on Ctrl-C. After a failing migration the run goes on in a fresh scratch\n' +
        `database built up to it. Known failures are accepted from rollbacks/${ACCEPTED_FAILURES_FILE}, each with a reason:\n` +
        '  { "accepted": [{ "migration": "20240101000000_seed_plans", "reason": "inserts reference rows we keep" }] }\n' +
        'Exit codes: 0 every verified rollback restores its schema (or fails as accepted), 1 one does not, or an\n' +
        'accepted failure now passes (remove it from the file), 2 a migration has no rollback.sql or the file is wrong.\n',
    )
    .action(
      action(host, async (options: VerifyCliOptions) => {
        const { context } = host
        const history = listMigrations(context.project)
        // Refused before any database is made: a wrong file, an unknown migration.
        const accepted = readAcceptedFailures(context.project, history)
        if (options.from !== undefined) findMigration(history, options.from)
        for (const reference of options.only ?? []) findMigration(history, reference)
        const serverUrl = options.scratchUrl === undefined ? (await context.database('change')).url : scratchServer(options.scratchUrl)
        // A second Ctrl-C goes back to the CLI, whose cleanup (onDispose below) drops the scratch database too.
        const stop = stopAfterStep(
          context,
          (line) => (progress?.io ?? context.io).err(line),
          'the step under way, then dropping the scratch database',
        )
        let drop: (() => Promise<void>) | undefined
        let progress: HistoryProgress | undefined
        context.onDispose(async () => {
          stop.release()
          progress?.stop()
          await drop?.().catch(() => undefined)
        })
        const report = await verifyRollbacks(context.project, {
          databaseUrl: serverUrl,
          accepted,
          ...(options.from !== undefined ? { from: options.from } : {}),
          ...(options.only !== undefined ? { only: options.only } : {}),
          signal: stop.signal,
          onStart: (scratch, count) => {
            drop = scratch.drop
            if (!options.json) context.io.err(`Verifying ${count} rollbacks on scratch database ${scratch.name}…`)
            progress = historyProgress(context.io, { label: 'verify-rollbacks', total: count, json: options.json })
          },
          onStarting: (migration) => progress?.starting(migration),
          onResult: (result) => {
            if (!options.json) printResult(progress?.io ?? context.io, result)
            progress?.done()
          },
        })
        progress?.stop()
        progress = undefined
        drop = undefined
        if (options.json) printJson(context.io, verifyJson(report, accepted))
        else printSummary(context.io, report, accepted)
        if (report.interrupted) return signalExitCode(stop.signalled)
        return report.ok ? ExitCode.ok : ExitCode.failed
      }),
    )
}

/** --scratch-url: a PostgreSQL server URL, checked before anything is made. */
function scratchServer(url: string): string {
  try {
    parseDatabaseUrl(url)
  } catch (error) {
    throw new UsageError(`--scratch-url is not a PostgreSQL URL: ${(error as Error).message.replace(/^DATABASE_URL /, '')}`, {
      hint: 'Give the server the scratch databases are made on: --scratch-url postgresql://user:password@host:5432/postgres',
    })
  }
  return url
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

/** One word per migration for the closing table. */
function verdict(result: RoundTripResult): string {
  if (result.accepted) return 'accepted'
  switch (result.status) {
    case 'ok':
      return 'ok'
    case 'differs':
      return result.stage === 'reapply' ? 'FAILED (re-apply differs)' : 'FAILED (schema differs)'
    case 'error':
      return `FAILED (${result.stage ?? 'error'})`
    case 'skipped':
      return 'skipped'
    case 'not_executed':
      return 'not run'
  }
}

function printSummary(io: CliIO, report: VerifyRollbacksReport, accepted: AcceptedFailures): void {
  const verified = report.results.filter((result) => result.status !== 'skipped')
  const rows = report.results.map((result) => [
    result.migration,
    verdict(result),
    result.seconds === undefined ? '' : `${result.seconds.toFixed(1)} s`,
    result.accepted?.reason ?? result.note ?? (result.status === 'skipped' ? 'applied only (outside --from/--only)' : ''),
  ])
  io.out('')
  for (const line of formatTable(['migration', 'result', 'time', 'note'], rows)) io.out(line)
  io.out('')
  const passed = verified.filter((result) => result.status === 'ok').length
  const failed = verified.filter((result) => (result.status === 'differs' || result.status === 'error') && !result.accepted)
  const acceptedCount = verified.filter((result) => result.accepted).length
  const notRun = verified.filter((result) => result.status === 'not_executed').length
  const counts = [
    `${passed} ok`,
    `${failed.length} failed`,
    ...(acceptedCount ? [`${acceptedCount} accepted`] : []),
    ...(notRun ? [`${notRun} not run`] : []),
  ]
  if (report.interrupted) {
    io.out(`Interrupted after ${passed} of ${verified.length}; scratch database ${report.database} dropped.`)
    return
  }
  io.out(`${verified.length} rollbacks verified: ${counts.join(', ')} (scratch databases dropped).`)
  for (const name of report.acceptedNowPassing) {
    io.out(`${name} is listed in ${accepted.file} but now passes: remove it from the file, so that the file stays true.`)
  }
  // A migration that does not apply is fixed in its migration.sql; the others in their rollback.sql.
  const notApplying = failed.filter((result) => result.stage === 'apply')
  const rollbacksToFix = failed.filter((result) => result.stage !== 'apply')
  if (notApplying.length > 0) {
    io.out(
      `${notApplying.map((result) => result.migration).join(', ')} does not apply to a database built from the migrations before it: ` +
        "fix its migration.sql (every migration must apply in order to an empty database, as Prisma's shadow database needs), then run: npx migrate-kit verify-rollbacks",
    )
  }
  if (rollbacksToFix.length > 0) {
    io.out(`Fix ${rollbacksToFix.map((result) => result.rollbackFile).join(', ')}, then run: npx migrate-kit verify-rollbacks`)
  }
  if (failed.length > 0) {
    io.out(`A failure that cannot be fixed (history nobody may change) can be accepted in ${accepted.file}, with the reason.`)
  } else if (report.ok) {
    io.out(
      `All ${verified.length} rollbacks restore the schema from before their migration${acceptedCount ? `, but for ${acceptedCount} accepted in ${accepted.file}` : ''}.`,
    )
  }
}

function verifyJson(report: VerifyRollbacksReport, accepted: AcceptedFailures): object {
  return {
    ok: report.ok,
    interrupted: report.interrupted,
    database: report.database,
    databases: report.databases,
    acceptedFile: accepted.file,
    acceptedNowPassing: report.acceptedNowPassing,
    migrations: report.results.map((result) => ({
      name: result.migration,
      status: result.status,
      rollbackFile: result.rollbackFile,
      ...(result.stage ? { stage: result.stage } : {}),
      differences: result.differences,
      ...(result.error ? { error: result.error } : {}),
      ...(result.accepted ? { accepted: result.accepted } : {}),
      ...(result.note ? { note: result.note } : {}),
      ...(result.seconds === undefined ? {} : { seconds: Number(result.seconds.toFixed(2)) }),
    })),
  }
}
