import type { Command } from 'commander'
import { controlBackfill, type ControlAction, type ControlResult } from '../../backfill/control'
import { action, examples, type CommandHost } from '../command'
import { printJson } from '../io'
import { withDatabase } from './backfill-common'

const DESCRIPTIONS: Record<ControlAction, string> = {
  pause: 'Hold every runner of a backfill after its batches in flight (from any machine); `resume` continues.',
  resume: 'Let the runners of a paused backfill continue.',
  cancel: 'Stop every runner of a backfill after its batches in flight and record it cancelled (its done ranges stay done).',
}

function message(action: ControlAction, result: ControlResult): string {
  const { name, runners } = result
  const them = `${runners} runner${runners === 1 ? '' : 's'}`
  switch (action) {
    case 'pause':
      return runners > 0
        ? `Pause requested: ${them} hold after the batches in flight. Continue with: migrate-kit backfill resume ${name}`
        : `${name} is paused (no runner was attached). Continue with: migrate-kit backfill run ${name}`
    case 'resume':
      return runners > 0
        ? `Resumed: ${them} carry on.`
        : `${name} is no longer held, but no runner is attached: start one with: migrate-kit backfill run ${name}`
    case 'cancel':
      return runners > 0
        ? `Cancel requested: ${them} stop after the batches in flight. \`migrate-kit backfill run ${name}\` would resume it later.`
        : `${name} is cancelled; its done ranges stay done. \`migrate-kit backfill run ${name}\` would resume it.`
  }
}

export function registerBackfillControl(backfill: Command, host: CommandHost): void {
  for (const verb of ['pause', 'resume', 'cancel'] as const) {
    backfill
      .command(verb)
      .description(DESCRIPTIONS[verb])
      .argument('<name>', 'the backfill')
      .option('--json', 'print one JSON document on stdout')
      .addHelpText('after', examples([`migrate-kit backfill ${verb} users_display_name`]))
      .action(
        action(host, async (name: string, options: { json?: boolean }) => {
          const { context } = host
          const result = await withDatabase(context, 'change', (client) => controlBackfill(client, name, verb))
          if (options.json) printJson(context.io, result)
          else context.io.out(message(verb, result))
        }),
      )
  }
}
