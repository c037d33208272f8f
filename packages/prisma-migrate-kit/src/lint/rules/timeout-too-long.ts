import { defineRule } from '../rule'
import { timeoutSettings } from '../timeout-settings'

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`
}

/**
 * A lock_timeout or statement_timeout set to 0 (off) or beyond the limit: the migration may then wait in the lock
 * queue (or run) long enough to stall every query behind it, which is what setting a timeout was meant to prevent.
 */
export const timeoutTooLong = defineRule({
  name: 'timeout-too-long',
  level: 'warning',
  summary: 'SET lock_timeout / statement_timeout to 0 (off) or longer than the limit (--max-lock-timeout, default 10s).',
  examples: {
    fail: [
      `SET lock_timeout = 0;`,
      `SET lock_timeout = '1min';`,
      `SELECT set_config('lock_timeout', '30s', false);`,
      `SET statement_timeout = 0;`,
      `RESET lock_timeout;`,
    ],
    pass: [`SET lock_timeout = '5s';`, `SET lock_timeout = 10000;`, `SET statement_timeout = '30min';`],
  },
  check(context) {
    const { maxLockTimeoutMs, maxStatementTimeoutMs } = context.settings
    return timeoutSettings(context.node).flatMap((setting) => {
      if (setting.ms === undefined) return []
      const limit = setting.name === 'lock_timeout' ? maxLockTimeoutMs : maxStatementTimeoutMs
      const off = setting.ms === 0
      if (!off && (limit === undefined || setting.ms <= limit)) return []
      const what = off
        ? `turns ${setting.name} off (${setting.text})`
        : `sets ${setting.name} to ${setting.text}, longer than the limit of ${seconds(limit ?? 0)}`
      const consequence =
        setting.name === 'lock_timeout'
          ? 'a statement that waits for a lock behind a long transaction keeps waiting, and every query on that table queues behind it'
          : 'a statement that runs long (a scan, a rewrite) is never stopped, holding its locks as long as it runs'
      return [
        {
          message: `This ${what}: ${consequence}.`,
          help:
            setting.name === 'lock_timeout'
              ? `Keep it short (SET lock_timeout = '5s';) and retry a migration that times out (\`migrate-kit deploy\` retries ` +
                `with --lock-retries); the limit is --max-lock-timeout.`
              : `Bound it (SET statement_timeout = '15min';) so a statement that runs far longer than measured stops; ` +
                `the limit is --max-statement-timeout.`,
          ...(setting.location === undefined ? {} : { location: setting.location }),
        },
      ]
    })
  },
})
