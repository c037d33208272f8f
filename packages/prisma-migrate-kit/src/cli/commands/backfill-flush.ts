import type { Command } from 'commander'
import { flushOutbox, undeliveredError } from '../../backfill/flush'
import { formatCount } from '../../backfill/progress'
import { plural } from '../../text'
import { action, examples, type CommandHost } from '../command'
import { printJson } from '../io'
import { redisUrl } from './backfill-common'

export function registerBackfillFlush(backfill: Command, host: CommandHost): void {
  backfill
    .command('flush')
    .description(
      'Deliver the cache invalidations a run or restore left waiting (Redis was down or hung) to Redis now, without running the backfill. Safe beside a run. Exit 1 while Redis still refuses them.',
    )
    .argument('[name]', 'the backfill (default: every backfill with invalidations waiting)')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText(
      'after',
      examples([
        'migrate-kit backfill status users_display_name   # pending invalidations',
        'migrate-kit backfill flush users_display_name',
      ]),
    )
    .action(
      action(host, async (name: string | undefined, options: { json?: boolean }) => {
        const { context } = host
        const database = await context.database('change')
        const url = redisUrl()
        const results = await flushOutbox(database.url, url, { name })
        const failure = undeliveredError(results, url ?? '')
        if (options.json) printJson(context.io, { ok: failure === undefined, backfills: results })
        else if (results.length === 0) context.io.out('No cache invalidations are waiting: nothing to flush.')
        else {
          for (const result of results) {
            context.io.out(
              `${result.name}: ${plural(result.delivered, 'invalidation')} delivered (${formatCount(result.keysRemoved)} keys removed), ${formatCount(result.pending)} waiting.`,
            )
          }
        }
        if (failure) throw failure
      }),
    )
}
