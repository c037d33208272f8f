import { createWriteStream, mkdirSync } from 'node:fs'
import path from 'node:path'
import { once } from 'node:events'
import type { Command } from 'commander'
import { DEFAULT_REPORT_THRESHOLD, writeBackfillReport } from '../../backfill/report'
import { formatCount } from '../../backfill/progress'
import { restoreBackfill } from '../../backfill/restore'
import { action, examples, type CommandHost } from '../command'
import { printJson } from '../io'
import { loadForReading, positiveNumber, redisUrl, withDatabase } from './backfill-common'
import { addRunOptions, runTuningFrom } from './backfill-options'

export function registerBackfillRestore(backfill: Command, host: CommandHost): void {
  const command = backfill
    .command('restore')
    .description('Put back the old values a backfill kept in its snapshot, in batches, exactly once; the backfill is then pending again.')
    .argument('<name>', 'the backfill')
  addRunOptions(command, 'restore')
  command
    .option('--json', 'print one JSON document on stdout')
    .addHelpText(
      'after',
      examples(['migrate-kit backfill report prices_recompute   # look first', 'migrate-kit backfill restore prices_recompute']),
    )
    .action(
      action(host, async (name: string, options: { json?: boolean }) => {
        const { context } = host
        const { backfills } = await loadForReading(context)
        const database = await context.database('change')
        const result = await restoreBackfill(
          database.url,
          name,
          backfills.find((loaded) => loaded.name === name),
          {
            ...runTuningFrom(options, 'restore'),
            redisUrl: redisUrl(),
            onNotice: (line) => context.io.err(line),
          },
        )
        if (options.json) {
          printJson(context.io, result)
          return
        }
        const missing = result.rowsMissing > 0 ? ` (${formatCount(result.rowsMissing)} snapshot rows no longer exist)` : ''
        context.io.out(`Restored ${formatCount(result.rowsRestored)} rows of ${result.table} from the snapshot${missing}.`)
        context.io.err(`${name} is pending again: fix its definition, then run it with: migrate-kit backfill run ${name}`)
      }),
    )
}

export function registerBackfillReport(backfill: Command, host: CommandHost): void {
  backfill
    .command('report')
    .description('Write a before/after JSON report of a backfill that kept a snapshot: per-row deltas, large changes flagged.')
    .argument('<name>', 'the backfill')
    .option('--out <file>', 'where to write it; `-` for stdout (default .migrate-kit/reports/<name>-<time>.json)')
    .option(
      '--threshold <ratio>',
      `flag numeric changes above this relative change (default ${DEFAULT_REPORT_THRESHOLD} = ${DEFAULT_REPORT_THRESHOLD * 100} %)`,
      positiveNumber,
    )
    .option('--json', 'print the summary as one JSON document on stdout')
    .addHelpText(
      'after',
      examples([
        'migrate-kit backfill report prices_recompute',
        'migrate-kit backfill report prices_recompute --threshold 0.5 --out report.json',
      ]),
    )
    .action(
      action(host, async (name: string, options: { out?: string; threshold?: number; json?: boolean }) => {
        const { context } = host
        const toStdout = options.out === '-'
        const file = toStdout
          ? undefined
          : path.resolve(
              options.out ??
                path.join(context.project.stateDir, 'reports', `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`),
            )
        if (file) mkdirSync(path.dirname(file), { recursive: true })
        const stream = file ? createWriteStream(file) : undefined
        const write = async (chunk: string) => {
          if (!stream) process.stdout.write(chunk)
          else if (!stream.write(chunk)) await once(stream, 'drain')
        }
        try {
          const report = await withDatabase(context, 'read', (client) =>
            writeBackfillReport(client, name, { threshold: options.threshold, write }),
          )
          const { summary } = report
          if (toStdout) return
          if (options.json) printJson(context.io, { file, ...report })
          else {
            context.io.out(
              `Report of ${name} written to ${file}: ${formatCount(summary.rows)} rows compared, ${formatCount(summary.changed)} changed, ${formatCount(summary.flagged)} flagged (numeric change above ${report.threshold * 100} %, or any other change)${summary.missing > 0 ? `, ${formatCount(summary.missing)} deleted since` : ''}.`,
            )
            if (summary.flagged > 0) context.io.err(`If the new values are wrong: migrate-kit backfill restore ${name}`)
          }
        } finally {
          if (stream) {
            stream.end()
            await once(stream, 'close')
          }
        }
      }),
    )
}
