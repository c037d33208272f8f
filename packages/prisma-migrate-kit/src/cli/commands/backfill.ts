import type { Command } from 'commander'
import { examples, type CommandHost } from '../command'
import { registerBackfillControl } from './backfill-control'
import { registerBackfillFlush } from './backfill-flush'
import { registerBackfillForget } from './backfill-forget'
import { registerBackfillReport, registerBackfillRestore } from './backfill-restore'
import { registerBackfillRun } from './backfill-run'
import { registerBackfillList, registerBackfillStatus } from './backfill-status'

/** `migrate-kit backfill …`: one file per group of subcommands, each a thin layer over src/backfill. */
export function registerBackfill(program: Command, host: CommandHost): void {
  const backfill = program
    .command('backfill')
    .description('Resumable, throttled, exactly-once data backfills defined in backfills/<name>.ts.')
    .addHelpText(
      'after',
      examples([
        'migrate-kit backfill list',
        'migrate-kit backfill run users_display_name --dry-run',
        'migrate-kit backfill run users_display_name',
        'migrate-kit backfill status users_display_name --json',
        'migrate-kit backfill pause users_display_name',
        'migrate-kit backfill forget users_display_name',
      ]),
    )
  registerBackfillList(backfill, host)
  registerBackfillRun(backfill, host)
  registerBackfillStatus(backfill, host)
  registerBackfillControl(backfill, host)
  registerBackfillRestore(backfill, host)
  registerBackfillReport(backfill, host)
  registerBackfillFlush(backfill, host)
  registerBackfillForget(backfill, host)
}
