import { RUN_OPTIONS, defaultOf, optionHelp, parseOptionValue, setting } from '../packages/prisma-migrate-kit/src/backfill/options'
import { DEFAULT_BATCH_SIZE, DEFAULT_TARGET_BATCH_MS, batchSizing } from '../packages/prisma-migrate-kit/src/backfill/pacing'
import { DEPLOY_OPTIONS, deploySetting, lockRetryDelayMs } from '../packages/prisma-migrate-kit/src/deploy/options'
import { runCli } from './helpers/cli'
import { createTempProject, type TempProject } from './helpers/project'

/** The one table of backfill settings: what each command offers, reads, and says in --help, defaults included. */

describe('the settings table (pure)', () => {
  test('every setting reads its value by its kind and says what it expected otherwise', () => {
    expect(parseOptionValue('positive-integer', '250')).toEqual({ value: 250 })
    expect(parseOptionValue('positive-integer', '0')).toEqual({ error: 'expected a whole number ≥ 1' })
    expect(parseOptionValue('positive-integer', '2.5')).toEqual({ error: 'expected a whole number ≥ 1' })
    expect(parseOptionValue('non-negative-integer', '0')).toEqual({ value: 0 })
    expect(parseOptionValue('non-negative-integer', '')).toEqual({ error: 'expected a whole number ≥ 0' })
    expect(parseOptionValue('positive-number', '0.5')).toEqual({ value: 0.5 })
    expect(parseOptionValue('positive-number', 'fast')).toEqual({ error: 'expected a number > 0' })
  })

  test('the defaults the runner and the pacing use are the table’s, and a given value wins', () => {
    expect(DEFAULT_BATCH_SIZE).toBe(defaultOf('batchSize'))
    expect(DEFAULT_TARGET_BATCH_MS).toBe(defaultOf('targetBatchMs'))
    expect(batchSizing({}).targetBatchMs).toBe(defaultOf('targetBatchMs'))
    expect(setting({}, 'lockTimeoutMs')).toBe(1_000)
    expect(setting({ lockTimeoutMs: 50 }, 'lockTimeoutMs')).toBe(50)
    expect(setting({}, 'maxRowsPerSecond')).toBeUndefined()
    const keys = RUN_OPTIONS.map((spec) => spec.key)
    expect(new Set(keys).size).toBe(keys.length)
  })

  test('help says each default from the table, or what a command uses instead', () => {
    const batch = RUN_OPTIONS.find((spec) => spec.key === 'batchSize')!
    expect(optionHelp(batch, 'run')).toBe(
      'rows in the first batch, then adapted toward the target batch time (default the size the last run ended with, else 1000)',
    )
    expect(optionHelp(batch, 'restore')).toBe('rows restored per transaction (default 1000)')
    expect(
      optionHelp(
        RUN_OPTIONS.find((spec) => spec.key === 'maxRowsPerSecond')!,
        'deploy',
      ),
    ).toBe('rate ceiling over all workers of this runner (default: none)')
  })
})

describe('the settings on the command line (the real binary)', () => {
  let app: TempProject
  beforeAll(() => {
    app = createTempProject()
  })
  afterAll(() => app.remove())
  const cli = (args: string[]) => runCli(args, { cwd: app.root, env: { DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none' } })

  test('backfill run, backfill restore and deploy offer the settings the table gives them, with its defaults', async () => {
    const run = await cli(['backfill', 'run', '--help'])
    const restore = await cli(['backfill', 'restore', '--help'])
    const deploy = await cli(['deploy', '--help'])
    const flat = (text: string) => text.replace(/\s+/g, ' ')
    const line = (flag: string, value: string, help: string) => [flag, value, help].filter(Boolean).join(' ')
    for (const spec of RUN_OPTIONS) {
      expect(flat(run.stdout)).toContain(line(`--${spec.flag}`, spec.value, optionHelp(spec, 'run')))
      expect(flat(deploy.stdout)).toContain(line(`--backfill-${spec.flag}`, spec.value, optionHelp(spec, 'deploy')))
      expect(flat(restore.stdout).includes(`--${spec.flag} ${spec.value}`)).toBe(spec.commands.includes('restore'))
    }
  })

  test("deploy's own settings come from its table: help shows each with its default; a bad value is refused (exit 2)", async () => {
    const deploy = await cli(['deploy', '--help'])
    const flat = deploy.stdout.replace(/\s+/g, ' ')
    for (const spec of DEPLOY_OPTIONS) expect(flat).toContain(`--${spec.flag} ${spec.value} ${spec.doc} (default ${spec.defaultValue})`)
    const bad = await cli(['deploy', '--lock-timeout', '0'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("option '--lock-timeout <ms>' argument '0' is invalid. expected a whole number ≥ 1")
    expect(deploySetting({}, 'lockTimeoutMs')).toBe(5_000)
    expect(deploySetting({ lockRetries: 0 }, 'lockRetries')).toBe(0)
    expect(parseOptionValue('duration', '500ms')).toEqual({ value: 500 })
    expect(parseOptionValue('duration', '1.5s')).toEqual({ value: 1_500 })
    expect(parseOptionValue('duration', '2m')).toEqual({ value: 120_000 })
    expect(parseOptionValue('duration', '10')).toEqual({ error: 'expected a duration such as 500ms, 10s or 2m' })
    expect([1, 2, 3, 4, 5, 6, 7].map(lockRetryDelayMs)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000])
  })

  test('a bad value is refused before anything is opened (exit 2), naming what was expected', async () => {
    const result = await cli(['backfill', 'run', 'users_display_name', '--concurrency', '0'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("option '--concurrency <n>' argument '0' is invalid. expected a whole number ≥ 1")
  })

  test('deploy refuses backfill settings when it runs no backfill, rather than ignore them (exit 2)', async () => {
    const result = await cli(['deploy', '--backfill-max-rows-per-second', '100', '--backfill-lock-timeout-ms', '200'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(
      '--backfill-max-rows-per-second, --backfill-lock-timeout-ms set how deploy runs backfills, but this deploy runs none: nothing was changed',
    )
    expect(result.stderr).toContain('Add --run-backfills')
  })
})
