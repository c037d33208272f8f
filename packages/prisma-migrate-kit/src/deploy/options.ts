import type { NumberKind } from '../backfill/options'

/**
 * deploy's own settings, in ONE table: flag, how its value is read, default and doc. The CLI adds its flags from it,
 * deploy takes its defaults from it, `--help` prints them. (The settings of the backfills deploy runs are
 * backfill/options.ts's, prefixed --backfill-.)
 */
export interface DeployTuning {
  lockTimeoutMs?: number
  lockRetries?: number
}

export type DeployTuningKey = keyof DeployTuning

export interface DeployOptionSpec {
  key: DeployTuningKey
  /** The flag without its dashes. */
  flag: string
  value: string
  kind: NumberKind
  defaultValue: number
  doc: string
}

export const DEPLOY_OPTIONS: readonly DeployOptionSpec[] = [
  {
    key: 'lockTimeoutMs',
    flag: 'lock-timeout',
    value: '<ms>',
    kind: 'positive-integer',
    defaultValue: 5_000,
    doc: "how long a migration's statement may wait for a lock (lock_timeout of Prisma's session) before it gives up, rather than queue every query of the table behind it",
  },
  {
    key: 'lockRetries',
    flag: 'lock-retries',
    value: '<n>',
    kind: 'non-negative-integer',
    defaultValue: 3,
    doc: 'how many times a migration that gave up waiting for a lock is tried again (it is rolled back first: nothing of it was applied), after 1 s, 2 s, 4 s, …',
  },
]

/** The setting given, else its default from the table. */
export function deploySetting<K extends DeployTuningKey>(tuning: DeployTuning, key: K): number {
  return tuning[key] ?? DEPLOY_OPTIONS.find((spec) => spec.key === key)!.defaultValue
}

/** The wait before lock attempt `attempt + 1` (attempt counts from 1): doubling from 1 s, at most 30 s. */
export function lockRetryDelayMs(attempt: number): number {
  return Math.min(30_000, 1_000 * 2 ** (attempt - 1))
}
