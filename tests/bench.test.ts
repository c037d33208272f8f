import { spawn } from 'node:child_process'
import path from 'node:path'
import { collect, childEnv } from './helpers/cli'
import { TEST_SERVER_URL, databasesLike } from './helpers/database'
import { REPO_ROOT } from './helpers/project'

/**
 * `npm run bench` end to end at a tiny size: the real runner, the real Prisma CLI and Prisma Client, a scratch
 * database that is gone afterwards. The figures at this size say nothing about speed; their shape and arithmetic do.
 */
const JITI = path.join(REPO_ROOT, 'node_modules', 'jiti', 'lib', 'jiti-cli.mjs')
const PREFIX = 'migrate_kit_bench_'

function startBench(args: string[]) {
  return spawn(process.execPath, [JITI, path.join(REPO_ROOT, 'scripts', 'bench.ts'), ...args], {
    cwd: REPO_ROOT,
    env: childEnv({ DATABASE_URL: TEST_SERVER_URL }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

const DESIGN_FIELDS = [
  'rows',
  'singleUpdateRowsPerSec',
  'backfillRowsPerSec',
  'naiveRowsPerSec',
  'ratioVsSingleUpdate',
  'ratioVsNaive',
  'peakRssMb',
  'maxBatchMs',
  'writerIdleP99Ms',
  'writerP50Ms',
  'writerP99Ms',
] as const

type Report = Record<(typeof DESIGN_FIELDS)[number], number> & {
  writerSideP99Ms: number
  writerDuringSingleUpdateP99Ms: number
  rowwiseRowsPerSec: number
  ratioRowwiseVsNaive: number
  ratioRowwiseVsBackfill: number
  compositeRows: number
  compositeSingleUpdateRowsPerSec: number
  compositeRowsPerSec: number
  compositeRatioVsSingleUpdate: number
  uuidRows: number
  uuidSingleUpdateRowsPerSec: number
  uuidRowsPerSec: number
  uuidRatioVsSingleUpdate: number
  targets: Record<string, { target: string; met: boolean }>
  details: { backfillOptions: string[]; backfillRunMs: number; backfillBatches: number }
  machine: { cpu: string; cores: number; postgres: string; node: string }
}

test('measures (a), (b) and (c) on one table and prints the DESIGN.md document, leaving no database behind', async () => {
  const before = await databasesLike(PREFIX)
  // --runner-options reaches the runner: 300 ms between batches makes a run of a few batches take ≥ 300 ms per gap.
  const args = ['--users', '5000', '--json', '--sample', '200', '--idle-seconds', '1', '--runner-options', '--pause-ms 300']
  const result = await collect(startBench(args), 60_000)
  expect(result.stderr).toContain('(b) migrate-kit backfill run --pause-ms 300, with the writer and the side-table writer running')
  expect(result.code).toBe(0)

  const report = JSON.parse(result.stdout) as Report // stdout is the JSON document and nothing else
  for (const field of DESIGN_FIELDS) {
    expect(typeof report[field]).toBe('number')
    expect(report[field]).toBeGreaterThan(0)
  }
  expect(report.rows).toBe(5000)
  // The ratios are the quotients of the figures beside them (rounded to 3 and 1 decimals).
  expect(report.ratioVsSingleUpdate).toBeCloseTo(report.backfillRowsPerSec / report.singleUpdateRowsPerSec, 3)
  // Rounding to 1 decimal is off by at most 0.05, plus the float error of the quotient (0.05000000000000071 was seen).
  expect(Math.abs(report.ratioVsNaive - report.backfillRowsPerSec / report.naiveRowsPerSec)).toBeLessThanOrEqual(0.05 + 1e-9)
  expect(report.writerP99Ms).toBeGreaterThanOrEqual(report.writerP50Ms)
  // The CPU control and what batching buys: the side writer during (b), the users writer during (a).
  expect(report.writerSideP99Ms).toBeGreaterThan(0)
  expect(report.writerDuringSingleUpdateP99Ms).toBeGreaterThan(0)
  expect(report.targets.writerP99VsSide.met).toBe(report.writerP99Ms <= 1.5 * report.writerSideP99Ms)
  // (e): compute(row), side by side with (b) and (c).
  expect(report.rowwiseRowsPerSec).toBeGreaterThan(0)
  expect(Math.abs(report.ratioRowwiseVsNaive - report.rowwiseRowsPerSec / report.naiveRowsPerSec)).toBeLessThanOrEqual(0.05)
  expect(report.ratioRowwiseVsBackfill).toBeCloseTo(report.rowwiseRowsPerSec / report.backfillRowsPerSec, 3)
  expect(report.targets.ratioRowwiseVsNaive.met).toBe(report.ratioRowwiseVsNaive >= 25)
  expect(report.targets.ratioRowwiseVsBackfill.met).toBe(report.ratioRowwiseVsBackfill >= 0.5)
  // (d): the composite-key and uuid-key tables, as many rows as users unless --keyed-rows says otherwise.
  expect(report.compositeRows).toBe(5000)
  expect(report.compositeRowsPerSec).toBeGreaterThan(0)
  expect(report.compositeRatioVsSingleUpdate).toBeCloseTo(report.compositeRowsPerSec / report.compositeSingleUpdateRowsPerSec, 3)
  expect(report.uuidRows).toBe(5000)
  expect(report.uuidRatioVsSingleUpdate).toBeCloseTo(report.uuidRowsPerSec / report.uuidSingleUpdateRowsPerSec, 3)
  expect(report.targets.uuidRatioVsSingleUpdate.met).toBe(report.uuidRatioVsSingleUpdate >= 0.8)
  expect(report.targets.compositeRatioVsSingleUpdate.met).toBe(report.compositeRatioVsSingleUpdate >= 0.8)
  // Each target is judged from the figures themselves.
  expect(report.targets.ratioVsSingleUpdate.met).toBe(report.ratioVsSingleUpdate >= 0.8)
  expect(report.targets.ratioVsNaive.met).toBe(report.ratioVsNaive >= 100)
  expect(report.targets.peakRssMb.met).toBe(report.peakRssMb < 200)
  expect(report.targets.maxBatchMs.met).toBe(report.maxBatchMs <= 500)
  expect(report.targets.writerP99Ms.met).toBe(report.writerP99Ms <= 2 * report.writerIdleP99Ms)
  expect(report.machine).toMatchObject({ cores: expect.any(Number), postgres: expect.any(String), node: process.version })
  expect(report.details.backfillOptions).toEqual(['--pause-ms', '300'])
  expect(report.details.backfillBatches).toBeGreaterThan(1)
  expect(report.details.backfillRunMs).toBeGreaterThanOrEqual(300 * (report.details.backfillBatches - 1))

  expect((await databasesLike(PREFIX)).filter((name) => !before.includes(name))).toEqual([])
})

test("--runner-options refuses --json (the bench reads the runner's JSON itself) with exit 2", async () => {
  const result = await collect(startBench(['--runner-options', '--concurrency 2 --json']), 30_000)
  expect(result.code).toBe(2)
  expect(result.stderr).toMatch(/--runner-options .*expected options of backfill run such as "--concurrency 2" \(not --json\)/)
})

test('Ctrl-C drops the scratch database and exits 130', async () => {
  const before = await databasesLike(PREFIX)
  const bench = startBench(['--users', '300000', '--json'])
  const done = collect(bench, 60_000)
  let stderr = ''
  await new Promise<void>((resolve, reject) => {
    bench.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      if (stderr.includes('Seeding')) resolve()
    })
    bench.on('close', () => reject(new Error(`the bench ended before seeding:\n${stderr}`)))
  })
  bench.kill('SIGINT')
  const result = await done
  expect(result.code).toBe(130)
  expect(result.stdout).toBe('')
  expect((await databasesLike(PREFIX)).filter((name) => !before.includes(name))).toEqual([])
})
