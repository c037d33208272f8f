import type { Command } from 'commander'
import { forgetBackfill, purgeSnapshot } from '../../backfill/forget'
import { formatCount } from '../../backfill/progress'
import { action, examples, type CommandHost } from '../command'
import { printJson } from '../io'

export function registerBackfillForget(backfill: Command, host: CommandHost): void {
  backfill
    .command('forget')
    .description(
      'Remove everything the database keeps about a backfill (its status, range ledger, snapshot, invalidation outbox): `run` then starts it from nothing, and one whose file is gone stops being listed. Never while it runs (exit 4).',
    )
    .argument('<name>', 'the backfill')
    .option('--force', 'also when it keeps snapshot rows never restored, or cache invalidations not yet sent')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', examples(['migrate-kit backfill forget users_display_name', 'migrate-kit backfill forget old_prices --force']))
    .action(
      action(host, async (name: string, options: { force?: boolean; json?: boolean }) => {
        const { context } = host
        const database = await context.database('change')
        const result = await forgetBackfill(database.url, name, { force: options.force })
        if (options.json) {
          printJson(context.io, result)
          return
        }
        const parts = [`${formatCount(result.ranges)} ranges`, `${formatCount(result.snapshotRows)} snapshot rows`]
        if (result.invalidations > 0) parts.push(`${formatCount(result.invalidations)} pending cache invalidations`)
        context.io.out(`Forgot backfill ${name} (it was ${result.status}): ${parts.join(', ')} removed.`)
      }),
    )

  backfill
    .command('purge')
    .description(
      "Delete a backfill's snapshot (the old values `restore` puts back and `report` compares); its status stays. Rows never restored are kept unless --force. Never while it runs (exit 4).",
    )
    .argument('<name>', 'the backfill')
    .option('--force', 'also delete snapshot rows no restore has put back (restore is then impossible)')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText(
      'after',
      examples(['migrate-kit backfill status prices_recompute   # its snapshot size', 'migrate-kit backfill purge prices_recompute']),
    )
    .action(
      action(host, async (name: string, options: { force?: boolean; json?: boolean }) => {
        const { context } = host
        const database = await context.database('change')
        const result = await purgeSnapshot(database.url, name, { force: options.force })
        if (options.json) {
          printJson(context.io, result)
          return
        }
        context.io.out(
          result.snapshotRows === 0
            ? `Backfill ${name} has no snapshot rows: nothing to delete.`
            : `Deleted the snapshot of ${name}: ${formatCount(result.snapshotRows)} rows${result.unrestored > 0 ? ` (${formatCount(result.unrestored)} never restored: restore is no longer possible)` : ''}. ` +
                'PostgreSQL reuses the space after autovacuum (VACUUM migrate_kit.backfill_snapshots returns it sooner).',
        )
      }),
    )
}
