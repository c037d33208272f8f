/**
 * The settings of a backfill run, in ONE table: each with its flag, how its value is read, its default and its doc.
 * `backfill run`, `backfill restore` and `deploy --run-backfills` (as --backfill-<flag>) take their flags from it;
 * the runner and the restore take their defaults from it; `--help` prints the defaults it holds. A new setting is one
 * row here and its use where it acts.
 */

/** duration: `500ms`, `10s`, `2m`, read as milliseconds. */
export type NumberKind = 'positive-integer' | 'non-negative-integer' | 'positive-number' | 'duration'
/** A number read from the flag's value, a switch (a flag with no value, on when given), or text taken as given. */
export type OptionValueKind = NumberKind | 'switch' | 'text'

/** The commands that take backfill settings. */
export type SettingsCommand = 'run' | 'restore' | 'deploy'

export interface RunTuning {
  batchSize?: number
  targetBatchMs?: number
  pauseMs?: number
  maxRowsPerSecond?: number
  concurrency?: number
  lockTimeoutMs?: number
  statementTimeoutMs?: number
  keepErrorDetail?: boolean
  maxReplicaLagMs?: number
  maxAppLatencyMs?: number
  appLatencyQuery?: string
}

export type TuningKey = keyof RunTuning

export interface RunOptionSpec {
  key: TuningKey
  /** The flag without its dashes: `batch-size`. */
  flag: string
  /** What the value is, as help shows it: `<rows>`; empty for a switch. */
  value: string
  kind: OptionValueKind
  /** Undefined: none (the setting is off unless given). */
  defaultValue: number | boolean | string | undefined
  /** How the default reads in help when it is more than the number. */
  defaultText?: string
  doc: string
  commands: readonly SettingsCommand[]
  /** Where a command uses the setting otherwise: its own doc and default text. */
  otherwise?: Partial<Record<SettingsCommand, { doc: string; defaultText?: string }>>
}

export const RUN_OPTIONS: readonly RunOptionSpec[] = [
  {
    key: 'batchSize',
    flag: 'batch-size',
    value: '<rows>',
    kind: 'positive-integer',
    defaultValue: 1_000,
    defaultText: 'the size the last run ended with, else 1000',
    doc: 'rows in the first batch, then adapted toward the target batch time',
    commands: ['run', 'restore', 'deploy'],
    otherwise: { restore: { doc: 'rows restored per transaction', defaultText: '1000' } },
  },
  {
    key: 'targetBatchMs',
    flag: 'target-batch-ms',
    value: '<ms>',
    kind: 'positive-integer',
    defaultValue: 200,
    doc: 'the batch duration the batch size adapts toward',
    commands: ['run', 'deploy'],
  },
  {
    key: 'pauseMs',
    flag: 'pause-ms',
    value: '<ms>',
    kind: 'non-negative-integer',
    defaultValue: 0,
    doc: 'pause after each batch of each worker, to leave the database room',
    commands: ['run', 'deploy'],
  },
  {
    key: 'maxRowsPerSecond',
    flag: 'max-rows-per-second',
    value: '<rows>',
    kind: 'positive-number',
    defaultValue: undefined,
    doc: 'rate ceiling over all workers of this runner',
    commands: ['run', 'deploy'],
  },
  {
    key: 'concurrency',
    flag: 'concurrency',
    value: '<n>',
    kind: 'positive-integer',
    defaultValue: 1,
    doc: 'workers in this process, each on its own connection, on disjoint key ranges',
    commands: ['run', 'deploy'],
  },
  {
    key: 'lockTimeoutMs',
    flag: 'lock-timeout-ms',
    value: '<ms>',
    kind: 'positive-integer',
    defaultValue: 1_000,
    doc: 'how long a batch waits for a row the app has locked before it is rolled back and retried',
    commands: ['run', 'restore', 'deploy'],
  },
  {
    key: 'statementTimeoutMs',
    flag: 'statement-timeout-ms',
    value: '<ms>',
    kind: 'positive-integer',
    defaultValue: 30_000,
    doc: 'the longest one statement of a batch may run',
    commands: ['run', 'deploy'],
  },
  {
    key: 'maxReplicaLagMs',
    flag: 'max-replica-lag',
    value: '<duration>',
    kind: 'duration',
    defaultValue: undefined,
    doc: 'hold the batches while a streaming replica is further behind than this (500ms, 10s, 2m), read from pg_stat_replication on the primary; resume by itself once it is back under half of it',
    commands: ['run', 'deploy'],
  },
  {
    key: 'maxAppLatencyMs',
    flag: 'max-app-latency',
    value: '<duration>',
    kind: 'duration',
    defaultValue: undefined,
    doc: 'hold the batches while the app latency probe (--app-latency-query, once a second; the median of its last 5 runs) takes longer than this; go on under half of it',
    commands: ['run', 'deploy'],
  },
  {
    key: 'appLatencyQuery',
    flag: 'app-latency-query',
    value: '<sql>',
    kind: 'text',
    defaultValue: 'SELECT 1',
    defaultText: "SELECT 1: the database's own responsiveness; name a query of your app's hottest path",
    doc: 'the query --max-app-latency times',
    commands: ['run', 'deploy'],
  },
  {
    key: 'keepErrorDetail',
    flag: 'keep-error-detail',
    value: '',
    kind: 'switch',
    defaultValue: false,
    defaultText: 'off: only the key range of a failing row is kept',
    doc: "keep PostgreSQL's DETAIL of a failing batch (often the row's values: personal data) in the ledger, status and output",
    commands: ['run', 'deploy'],
  },
]

/** The default a setting has when it is not given (undefined: none). */
export function defaultOf<K extends TuningKey>(key: K): RunTuning[K] {
  return RUN_OPTIONS.find((spec) => spec.key === key)!.defaultValue as RunTuning[K]
}

/** The setting given, else its default from the table. */
export function setting<K extends TuningKey>(tuning: RunTuning, key: K): RunTuning[K] {
  return tuning[key] ?? defaultOf(key)
}

/** Reads a flag's value; a message saying what was expected when it does not fit. */
export function parseOptionValue(kind: NumberKind, text: string): { value: number } | { error: string } {
  const parsed = text.trim() === '' ? NaN : Number(text)
  switch (kind) {
    case 'positive-integer':
      return Number.isInteger(parsed) && parsed >= 1 ? { value: parsed } : { error: 'expected a whole number ≥ 1' }
    case 'non-negative-integer':
      return Number.isInteger(parsed) && parsed >= 0 ? { value: parsed } : { error: 'expected a whole number ≥ 0' }
    case 'positive-number':
      return Number.isFinite(parsed) && parsed > 0 ? { value: parsed } : { error: 'expected a number > 0' }
    case 'duration': {
      const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text.trim())
      const ms = match ? Number(match[1]) * { ms: 1, s: 1_000, m: 60_000 }[match[2] as 'ms' | 's' | 'm'] : NaN
      return ms > 0 ? { value: Math.round(ms) } : { error: 'expected a duration such as 500ms, 10s or 2m' }
    }
  }
}

/** The help line of a setting for a command: its doc and its default. */
export function optionHelp(spec: RunOptionSpec, command: SettingsCommand): string {
  const own = spec.otherwise?.[command]
  const doc = own?.doc ?? spec.doc
  const fallback = own?.defaultText ?? spec.defaultText ?? (spec.defaultValue === undefined ? undefined : String(spec.defaultValue))
  return fallback === undefined ? `${doc} (default: none)` : `${doc} (default ${fallback})`
}
