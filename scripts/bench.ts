/**
 * `npm run bench -- [--users N] [--json]`: proves, on this machine, that the backfill runner is fast and gentle.
 * For the same table in one run it measures
 *   (a) one plain `UPDATE users SET display_name = username` (the speed limit, which locks every row),
 *   (b) `migrate-kit backfill run` with default settings (the real binary), while a writer updates random users,
 *   (c) the Prisma Client loop guides show (findMany, then update per row), on a sample,
 *   (e) the same change as (b) computed in JavaScript (compute(row)), written in bulk by the runner, with no writer,
 *   (d) on a join table keyed by (user_id, puzzle_id) and on a table keyed by random uuids, one plain UPDATE and the
 *       runner with the same options,
 * plus the runner's peak RSS, its longest batch, and the writer's p50 / p99 against its idle p99.
 *
 * Everything happens in a scratch database (migrate_kit_bench_<random>) on the server of DATABASE_URL, or on the
 * embedded PostgreSQL when none is set; it is dropped at the end, on error, and on Ctrl-C.
 * Progress goes to stderr; stdout gets the table, or with --json the one JSON document of DESIGN.md.
 */
import { performance } from 'node:perf_hooks'
import { Command, InvalidArgumentError } from 'commander'
import type { Client } from 'pg'
import { connect, openDatabase, projectAt } from 'prisma-migrate-kit'
import { runBackfillChild } from './bench/backfill-child'
import { generateBenchClient } from './bench/bench-client'
import { REPO_ROOT, applyMigrations, createBenchProject, type BenchProject } from './bench/bench-project'
import { Cleanups, withCleanups } from './bench/cleanup'
import { describeMachine } from './bench/machine'
import { naiveLoop } from './bench/naive-loop'
import { summariseLatencies } from './bench/latency'
import { buildReport, formatReport, type KeyedFigures } from './bench/report'
import { createBenchDatabase } from './bench/scratch-database'
import { ROWWISE_BACKFILL, countRowwiseWrong } from './bench/rowwise'
import {
  COMPOSITE,
  KEYED_TABLES,
  UUID,
  countKeyedNotBackfilled,
  resetKeyed,
  singleKeyedUpdate,
  type KeyedTable,
} from './bench/keyed-tables'
import { singleUpdate } from './bench/single-update'
import { countNotBackfilled, resetDisplayName, settleTable } from './bench/table-state'
import { ConcurrentWriter, createSideTable } from './bench/writer'
import { seedDemo } from './lib/demo-data'
import { positiveInteger, positiveNumber, runScript } from './lib/script'

/** Rows of the side table the contention-only writer updates. */
const SIDE_ROWS = 100_000

interface BenchOptions {
  users: number
  keyedRows?: number
  json?: boolean
  sample: number
  writerRate: number
  writerConnections: number
  idleSeconds: number
  seed: number
  runnerOptions: string[]
}

/** "--pause-ms 20 --concurrency 2" → its words; --json is the bench's own (it reads the runner's JSON). */
function runnerOptions(value: string): string[] {
  const words = value.split(/\s+/).filter(Boolean)
  if (words.some((word) => word === '--json' || !/^[\w.=-]+$/.test(word))) {
    throw new InvalidArgumentError(`expected options of backfill run such as "--concurrency 2" (not --json), got: ${value}`)
  }
  return words
}

function parseOptions(argv: string[]): BenchOptions {
  return (
    new Command('bench')
      .description('Benchmark the backfill runner against one plain UPDATE and a Prisma Client loop, on a scratch database.')
      .option('--users <n>', 'users in the table', positiveInteger, 1_000_000)
      .option('--keyed-rows <n>', `rows of each of ${COMPOSITE.table} and ${UUID.table} (default: as many as users)`, positiveInteger)
      .option('--json', 'print one JSON document on stdout (fields of DESIGN.md, then details)')
      .option('--sample <n>', 'rows the Prisma Client loop (c) updates', positiveInteger, 2_000)
      .option('--writer-rate <n>', 'updates per second of the concurrent writer', positiveNumber, 200)
      .option('--writer-connections <n>', 'connections the writer spreads them over', positiveInteger, 4)
      // The idle p99 is a 1 % tail: over 10 s (2,000 updates) it moved from 2.2 to 3.9 ms between runs; 30 s steadies it.
      .option('--idle-seconds <s>', 'how long the writer runs alone to measure its idle latency', positiveNumber, 30)
      .option('--seed <s>', 'demo data seed', positiveInteger, 42)
      .option(
        '--runner-options <options>',
        'options for (b), as typed after `backfill run <name>`, e.g. "--concurrency 2" (default: none, the defaults are measured)',
        runnerOptions,
        [],
      )
      .exitOverride()
      .parse(argv, { from: 'user' })
      .opts<BenchOptions>()
  )
}

async function main(argv: string[]): Promise<void> {
  const options = parseOptions(argv)
  await withCleanups((cleanups, log, started) => measure(options, cleanups, log, started))
}

async function measure(options: BenchOptions, cleanups: Cleanups, log: (line: string) => void, started: number): Promise<void> {
  const database = await openDatabase(projectAt(REPO_ROOT), { announce: log })
  cleanups.add('stop the embedded PostgreSQL', () => database.close())
  const scratch = await createBenchDatabase(database.url)
  cleanups.add(`drop database ${scratch.name}`, () => scratch.drop())
  log(`Scratch database ${scratch.name} created.`)
  const bench = createBenchProject()
  cleanups.add('remove the bench project folder', () => bench.remove())

  log('Applying the example app migrations up to the expand migration (prisma migrate deploy)…')
  await applyMigrations(bench, scratch.url)
  await generateBenchClient(bench, scratch.url, log)

  const client: Client = await connect(scratch.url, { applicationName: 'migrate-kit bench' })
  cleanups.add('close the bench connection', () => client.end())
  const machine = await describeMachine(client)

  log(`Seeding ${options.users.toLocaleString('en-US')} users…`)
  const seeded = await seedDemo(client, { users: options.users, seed: options.seed, completions: false, chunkSize: 500_000, log })
  await createSideTable(client, SIDE_ROWS)
  await settleTable(client)

  // (c) first, on a sample: it leaves a few thousand rows filled, which the reset below undoes before (a) and (b).
  const sample = Math.min(options.sample, options.users)
  log(`(c) Prisma Client loop on a sample of ${sample.toLocaleString('en-US')} rows…`)
  const naive = await naiveLoop(scratch.url, sample)
  await resetDisplayName(client)
  await settleTable(client)

  // (a) and (b) each start from the same settled table (see settleTable): neither inherits the other's bloat,
  // dirty pages or statistics, and the order does not favour either.
  // The app's writer on users runs during (a) too: what one statement over every row does to it (its updates wait for
  // that statement's commit) is what batching buys.
  const writerOptions = { rate: options.writerRate, connections: options.writerConnections }
  const writer = new ConcurrentWriter(scratch.url, { ...writerOptions, maxId: options.users })
  cleanups.add('close the writer', () => writer.close())
  await writer.open()
  log('(a) One plain UPDATE of every row, with the writer running…')
  const { result: single, latencies: singleLatencies } = await writer.during(() => singleUpdate(client))
  const duringSingleUpdate = summariseLatencies(singleLatencies)
  log(`(a) ${single.rows.toLocaleString('en-US')} rows in ${(single.ms / 1000).toFixed(1)} s.`)

  // Not a target: the reset is itself one plain UPDATE of every row, like (a). A writer on a side table meanwhile
  // shows what a full-speed bulk write costs an app by its load alone, with no row lock in the way.
  const side = new ConcurrentWriter(scratch.url, { ...writerOptions, table: 'side', maxId: Math.min(options.users, SIDE_ROWS) })
  cleanups.add('close the side writer', () => side.close())
  await side.open()
  log(`Writer on a side table alone for ${options.idleSeconds} s, then during the reset UPDATE…`)
  const sideIdle = summariseLatencies(await side.alone(options.idleSeconds * 1000))
  const sideDuring = summariseLatencies((await side.during(() => resetDisplayName(client))).latencies)
  await settleTable(client)

  log(`Writer alone for ${options.idleSeconds} s (idle latency)…`)
  const idle = summariseLatencies(await writer.alone(options.idleSeconds * 1000))
  log(
    `(b) migrate-kit backfill run${options.runnerOptions.length ? ` ${options.runnerOptions.join(' ')}` : ''}, with the writer and the side-table writer running…`,
  )
  // The side-table writer in the same window is the CPU control: its rows are never locked, so what the users writer
  // sees beyond it is row-lock delay, not the two cores being busy.
  const {
    result: { result: backfill, latencies },
    latencies: sideLatencies,
  } = await side.during(() => writer.during(() => runBackfillChild(bench, scratch.url, client, cleanups, log, options.runnerOptions)))
  const during = summariseLatencies(latencies)
  const sideDuringBackfill = summariseLatencies(sideLatencies)
  await side.close()
  // Not a target: the same idle measurement after (b), to show how much the machine's own noise moves an idle p99.
  const idleAfter = summariseLatencies(await writer.alone(options.idleSeconds * 1000))
  const missing = await countNotBackfilled(client)
  if (missing !== 0) throw new Error(`after the backfill, ${missing} users still have display_name ≠ username`)
  await writer.close()

  log('(e) compute(row) in JavaScript, written in bulk: display_name reset, then migrate-kit backfill run…')
  await resetDisplayName(client)
  await settleTable(client)
  const rowwise = await runBackfillChild(bench, scratch.url, client, cleanups, log, options.runnerOptions, ROWWISE_BACKFILL)
  const rowwiseWrong = await countRowwiseWrong(client)
  if (rowwiseWrong !== 0)
    throw new Error(`after the compute() backfill, ${rowwiseWrong} users have a display_name compute() would not make`)

  const keyedRows = options.keyedRows ?? options.users
  const keyed: Record<string, KeyedFigures> = {}
  for (const table of KEYED_TABLES)
    keyed[table.label] = await measureKeyed(table, keyedRows, { bench, url: scratch.url, client, cleanups, log, options })

  const report = buildReport({
    rows: options.users,
    singleUpdate: single,
    backfill,
    backfillOptions: options.runnerOptions,
    naive,
    composite: keyed[COMPOSITE.label],
    uuid: keyed[UUID.label],
    rowwise,
    writer: {
      ...writerOptions,
      idle,
      during,
      idleAfter,
      sideIdle,
      sideDuringPlainUpdate: sideDuring,
      sideDuringBackfill,
      duringSingleUpdate,
    },
    machine,
    seedSeconds: seeded.seconds,
    wallSeconds: (performance.now() - started) / 1000,
  })
  await cleanups.runAll()
  log('Done: the scratch database is dropped.')
  if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
  else process.stdout.write(`${formatReport(report).join('\n')}\n`)
}

interface KeyedContext {
  bench: BenchProject
  url: string
  client: Client
  cleanups: Cleanups
  log: (line: string) => void
  options: BenchOptions
}

/** (d) on one keyed table: made, settled, one plain UPDATE, reset and settled again, then the runner. */
async function measureKeyed(keyed: KeyedTable, rows: number, context: KeyedContext): Promise<KeyedFigures> {
  const { client, log } = context
  log(`(d) ${rows.toLocaleString('en-US')} rows of ${keyed.table}, primary key ${keyed.key}…`)
  await keyed.create(client, rows)
  await settleTable(client, keyed.table)
  const singleUpdate = await singleKeyedUpdate(client, keyed)
  log(`(d) One plain UPDATE: ${singleUpdate.rows.toLocaleString('en-US')} rows in ${(singleUpdate.ms / 1000).toFixed(1)} s.`)
  await resetKeyed(client, keyed)
  await settleTable(client, keyed.table)
  log(`(d) migrate-kit backfill run over ${keyed.key}…`)
  const backfill = await runBackfillChild(
    context.bench,
    context.url,
    client,
    context.cleanups,
    log,
    context.options.runnerOptions,
    keyed.backfill,
  )
  const missing = await countKeyedNotBackfilled(client, keyed)
  if (missing !== 0) throw new Error(`after the backfill of ${keyed.table}, ${missing} rows still have best ≠ score`)
  await client.query(`DROP TABLE ${keyed.table}`)
  return { singleUpdate, backfill }
}

runScript('bench', main)
