import type { BackfillFigures } from './backfill-child'
import type { LatencySummary } from './latency'
import type { Machine } from './machine'

export interface WriterLatencies {
  rate: number
  connections: number
  /** Updates of random users with nothing else running, right before (b). */
  idle: LatencySummary
  /** The same, during (b). */
  during: LatencySummary
  /** The same again after (b): how much the idle figure moves by itself on this machine. */
  idleAfter: LatencySummary
  /** Updates of a side table no bulk write touches, alone, then during one plain UPDATE of every user. */
  sideIdle: LatencySummary
  sideDuringPlainUpdate: LatencySummary
  /** The side-table writer during (b), beside the users writer: the CPU control of the same window. */
  sideDuringBackfill: LatencySummary
  /** The users writer during (a): its updates wait for the one statement's commit. */
  duringSingleUpdate: LatencySummary
}

/** One plain UPDATE of a keyed table's every row, and the runner over its key. */
export interface KeyedFigures {
  singleUpdate: { rows: number; ms: number }
  backfill: BackfillFigures
}

/** What was measured, before any arithmetic. */
export interface Measurements {
  rows: number
  singleUpdate: { rows: number; ms: number }
  backfill: BackfillFigures
  /** What (b) was run with after `backfill run <name>`: [] for the defaults. */
  backfillOptions: string[]
  naive: { rows: number; ms: number }
  /** (e): the same change computed in JavaScript, compute(row), written in bulk. */
  rowwise: BackfillFigures
  /** (d): the composite-key table and the uuid-key table, each one plain UPDATE and the runner. */
  composite: KeyedFigures
  uuid: KeyedFigures
  writer: WriterLatencies
  machine: Machine
  seedSeconds: number
  wallSeconds: number
}

/** The issue's targets, each checked against the figures of this run. */
export const TARGETS = {
  ratioVsSingleUpdate: { text: '≥ 0.8', met: (r: BenchReport) => r.ratioVsSingleUpdate >= 0.8 },
  ratioVsNaive: { text: '≥ 100', met: (r: BenchReport) => r.ratioVsNaive >= 100 },
  peakRssMb: { text: '< 200 MB (at 10M rows)', met: (r: BenchReport) => r.peakRssMb !== null && r.peakRssMb < 200 },
  maxBatchMs: { text: '≤ 500 ms', met: (r: BenchReport) => r.maxBatchMs <= 500 },
  writerP99Ms: { text: '≤ 2 × idle p99', met: (r: BenchReport) => r.writerP99Ms <= 2 * r.writerIdleP99Ms },
  writerP99VsSide: { text: '≤ 1.5 × side-table p99, same window', met: (r: BenchReport) => r.writerP99Ms <= 1.5 * r.writerSideP99Ms },
  compositeRatioVsSingleUpdate: { text: '≥ 0.8', met: (r: BenchReport) => r.compositeRatioVsSingleUpdate >= 0.8 },
  uuidRatioVsSingleUpdate: { text: '≥ 0.8', met: (r: BenchReport) => r.uuidRatioVsSingleUpdate >= 0.8 },
  ratioRowwiseVsNaive: { text: '≥ 25', met: (r: BenchReport) => r.ratioRowwiseVsNaive >= 25 },
  ratioRowwiseVsBackfill: { text: '≥ 0.5', met: (r: BenchReport) => r.ratioRowwiseVsBackfill >= 0.5 },
} as const

export type TargetName = keyof typeof TARGETS

/** `npm run bench -- --json`: DESIGN.md's fields first, then what helps read them. */
export interface BenchReport {
  rows: number
  singleUpdateRowsPerSec: number
  backfillRowsPerSec: number
  naiveRowsPerSec: number
  ratioVsSingleUpdate: number
  ratioVsNaive: number
  peakRssMb: number | null
  maxBatchMs: number
  writerIdleP99Ms: number
  writerP50Ms: number
  writerP99Ms: number
  /** The side-table writer's p99 during (b): what the load alone does, no row lock. */
  writerSideP99Ms: number
  /** The users writer's p99 during (a), the one UPDATE of every row. */
  writerDuringSingleUpdateP99Ms: number
  rowwiseRowsPerSec: number
  ratioRowwiseVsNaive: number
  /** (e) against (b): the JavaScript-computed backfill against the set-based one, on the same table in the same run. */
  ratioRowwiseVsBackfill: number
  compositeRows: number
  compositeSingleUpdateRowsPerSec: number
  compositeRowsPerSec: number
  compositeRatioVsSingleUpdate: number
  uuidRows: number
  uuidSingleUpdateRowsPerSec: number
  uuidRowsPerSec: number
  uuidRatioVsSingleUpdate: number
  targets: Record<TargetName, { target: string; met: boolean }>
  details: {
    singleUpdateMs: number
    backfillRunMs: number
    backfillWallMs: number
    backfillBatches: number
    backfillP50BatchMs: number
    backfillLastBatchSize: number
    /** Options (b) ran with: [] means the defaults, which is what the targets are about. */
    backfillOptions: string[]
    naiveSampleRows: number
    naiveMs: number
    rowwiseRunMs: number
    rowwiseBatches: number
    rowwiseMaxBatchMs: number
    rowwisePeakRssMb: number | null
    compositeSingleUpdateMs: number
    compositeRunMs: number
    compositeBatches: number
    compositeMaxBatchMs: number
    compositePeakRssMb: number | null
    uuidSingleUpdateMs: number
    uuidRunMs: number
    uuidBatches: number
    uuidMaxBatchMs: number
    writer: WriterLatencies
    seedSeconds: number
    wallSeconds: number
  }
  machine: Machine
}

const round = (value: number, digits = 0) => Math.round(value * 10 ** digits) / 10 ** digits

const perSecond = (rows: number, ms: number) => round((rows * 1000) / ms)

/** A keyed table's rows per second both ways, and their ratio from the rounded figures (checkable from the document). */
function keyedRates(figures: KeyedFigures): { rows: number; singleUpdateRowsPerSec: number; rowsPerSec: number; ratio: number } {
  const singleUpdateRowsPerSec = perSecond(figures.singleUpdate.rows, figures.singleUpdate.ms)
  const rowsPerSec = perSecond(figures.backfill.rows, figures.backfill.runMs)
  return { rows: figures.singleUpdate.rows, singleUpdateRowsPerSec, rowsPerSec, ratio: round(rowsPerSec / singleUpdateRowsPerSec, 3) }
}

export function buildReport(m: Measurements): BenchReport {
  const singleUpdateRowsPerSec = perSecond(m.singleUpdate.rows, m.singleUpdate.ms)
  const backfillRowsPerSec = perSecond(m.backfill.rows, m.backfill.runMs)
  const naiveRowsPerSec = perSecond(m.naive.rows, m.naive.ms)
  const rowwiseRowsPerSec = perSecond(m.rowwise.rows, m.rowwise.runMs)
  const composite = keyedRates(m.composite)
  const uuid = keyedRates(m.uuid)
  const latency = (summary: LatencySummary): LatencySummary => ({
    samples: summary.samples,
    p50Ms: round(summary.p50Ms, 2),
    p99Ms: round(summary.p99Ms, 2),
    maxMs: round(summary.maxMs, 2),
  })
  const figures = {
    rows: m.rows,
    singleUpdateRowsPerSec,
    backfillRowsPerSec,
    naiveRowsPerSec,
    // From the rounded figures above, so a reader can check the quotient from the document itself.
    ratioVsSingleUpdate: round(backfillRowsPerSec / singleUpdateRowsPerSec, 3),
    ratioVsNaive: round(backfillRowsPerSec / naiveRowsPerSec, 1),
    peakRssMb: m.backfill.peakRssMb === null ? null : round(m.backfill.peakRssMb, 1),
    maxBatchMs: round(m.backfill.maxBatchMs),
    writerIdleP99Ms: round(m.writer.idle.p99Ms, 2),
    writerP50Ms: round(m.writer.during.p50Ms, 2),
    writerP99Ms: round(m.writer.during.p99Ms, 2),
    writerSideP99Ms: round(m.writer.sideDuringBackfill.p99Ms, 2),
    writerDuringSingleUpdateP99Ms: round(m.writer.duringSingleUpdate.p99Ms, 2),
    rowwiseRowsPerSec,
    ratioRowwiseVsNaive: round(rowwiseRowsPerSec / naiveRowsPerSec, 1),
    ratioRowwiseVsBackfill: round(rowwiseRowsPerSec / backfillRowsPerSec, 3),
    compositeRows: composite.rows,
    compositeSingleUpdateRowsPerSec: composite.singleUpdateRowsPerSec,
    compositeRowsPerSec: composite.rowsPerSec,
    compositeRatioVsSingleUpdate: composite.ratio,
    uuidRows: uuid.rows,
    uuidSingleUpdateRowsPerSec: uuid.singleUpdateRowsPerSec,
    uuidRowsPerSec: uuid.rowsPerSec,
    uuidRatioVsSingleUpdate: uuid.ratio,
  }
  const partial = { ...figures, targets: {} as BenchReport['targets'] } as BenchReport
  for (const name of Object.keys(TARGETS) as TargetName[]) {
    partial.targets[name] = { target: TARGETS[name].text, met: TARGETS[name].met(partial) }
  }
  return {
    ...partial,
    details: {
      singleUpdateMs: round(m.singleUpdate.ms),
      backfillRunMs: round(m.backfill.runMs),
      backfillWallMs: round(m.backfill.wallMs),
      backfillBatches: m.backfill.batches,
      backfillP50BatchMs: round(m.backfill.p50BatchMs),
      backfillLastBatchSize: m.backfill.lastBatchSize,
      backfillOptions: m.backfillOptions,
      naiveSampleRows: m.naive.rows,
      naiveMs: round(m.naive.ms),
      rowwiseRunMs: round(m.rowwise.runMs),
      rowwiseBatches: m.rowwise.batches,
      rowwiseMaxBatchMs: round(m.rowwise.maxBatchMs),
      rowwisePeakRssMb: m.rowwise.peakRssMb === null ? null : round(m.rowwise.peakRssMb, 1),
      compositeSingleUpdateMs: round(m.composite.singleUpdate.ms),
      compositeRunMs: round(m.composite.backfill.runMs),
      compositeBatches: m.composite.backfill.batches,
      compositeMaxBatchMs: round(m.composite.backfill.maxBatchMs),
      compositePeakRssMb: m.composite.backfill.peakRssMb === null ? null : round(m.composite.backfill.peakRssMb, 1),
      uuidSingleUpdateMs: round(m.uuid.singleUpdate.ms),
      uuidRunMs: round(m.uuid.backfill.runMs),
      uuidBatches: m.uuid.backfill.batches,
      uuidMaxBatchMs: round(m.uuid.backfill.maxBatchMs),
      writer: {
        rate: m.writer.rate,
        connections: m.writer.connections,
        idle: latency(m.writer.idle),
        during: latency(m.writer.during),
        idleAfter: latency(m.writer.idleAfter),
        sideIdle: latency(m.writer.sideIdle),
        sideDuringPlainUpdate: latency(m.writer.sideDuringPlainUpdate),
        sideDuringBackfill: latency(m.writer.sideDuringBackfill),
        duringSingleUpdate: latency(m.writer.duringSingleUpdate),
      },
      seedSeconds: round(m.seedSeconds, 1),
      wallSeconds: round(m.wallSeconds, 1),
    },
    machine: m.machine,
  }
}

const count = (value: number) => Math.round(value).toLocaleString('en-US')
/** Two decimals below 100 ms (latencies), whole milliseconds above (durations). */
const ms = (value: number) => `${value < 100 ? value.toFixed(2) : Math.round(value).toLocaleString('en-US')} ms`
const verdict = (name: TargetName, report: BenchReport) => `${report.targets[name].met ? 'met' : 'MISSED'} (${report.targets[name].target})`

/** The human-readable table: figures, what they are compared with, and whether each target is met. */
export function formatReport(report: BenchReport): string[] {
  const d = report.details
  const rows: Array<[string, string, string]> = [
    [
      '(a) single UPDATE (locks every row)',
      `${count(report.singleUpdateRowsPerSec)} rows/s`,
      `${count(report.rows)} rows in ${ms(d.singleUpdateMs)}`,
    ],
    [
      `(b) migrate-kit backfill run (${d.backfillOptions.length ? d.backfillOptions.join(' ') : 'defaults'})`,
      `${count(report.backfillRowsPerSec)} rows/s`,
      `${count(report.rows)} rows, ${count(d.backfillBatches)} batches in ${ms(d.backfillRunMs)} (command: ${ms(d.backfillWallMs)})`,
    ],
    [
      '(c) Prisma findMany + update per row',
      `${count(report.naiveRowsPerSec)} rows/s`,
      `sample of ${count(d.naiveSampleRows)} rows in ${ms(d.naiveMs)}`,
    ],
    [
      '(e) compute(row) in JavaScript, written in bulk',
      `${count(report.rowwiseRowsPerSec)} rows/s`,
      `${count(d.rowwiseBatches)} batches in ${ms(d.rowwiseRunMs)}, longest ${ms(d.rowwiseMaxBatchMs)}, no writer`,
    ],
    [
      '(d) composite key (user_id, puzzle_id): single UPDATE',
      `${count(report.compositeSingleUpdateRowsPerSec)} rows/s`,
      `${count(report.compositeRows)} rows in ${ms(d.compositeSingleUpdateMs)}`,
    ],
    [
      '(d) composite key: migrate-kit backfill run',
      `${count(report.compositeRowsPerSec)} rows/s`,
      `${count(d.compositeBatches)} batches in ${ms(d.compositeRunMs)}, longest ${ms(d.compositeMaxBatchMs)}, no writer`,
    ],
    [
      '(d) uuid key (random): single UPDATE',
      `${count(report.uuidSingleUpdateRowsPerSec)} rows/s`,
      `${count(report.uuidRows)} rows in ${ms(d.uuidSingleUpdateMs)}`,
    ],
    [
      '(d) uuid key: migrate-kit backfill run',
      `${count(report.uuidRowsPerSec)} rows/s`,
      `${count(d.uuidBatches)} batches in ${ms(d.uuidRunMs)}, longest ${ms(d.uuidMaxBatchMs)}, no writer`,
    ],
    ['b / a', report.ratioVsSingleUpdate.toFixed(3), verdict('ratioVsSingleUpdate', report)],
    [
      '(d) composite: backfill / single UPDATE',
      report.compositeRatioVsSingleUpdate.toFixed(3),
      verdict('compositeRatioVsSingleUpdate', report),
    ],
    ['(d) uuid: backfill / single UPDATE', report.uuidRatioVsSingleUpdate.toFixed(3), verdict('uuidRatioVsSingleUpdate', report)],
    ['b / c', report.ratioVsNaive.toFixed(1), verdict('ratioVsNaive', report)],
    ['e / c', report.ratioRowwiseVsNaive.toFixed(1), verdict('ratioRowwiseVsNaive', report)],
    ['e / b', report.ratioRowwiseVsBackfill.toFixed(3), verdict('ratioRowwiseVsBackfill', report)],
    ['peak RSS of the runner', report.peakRssMb === null ? 'n/a' : `${report.peakRssMb} MB`, verdict('peakRssMb', report)],
    [
      'longest batch',
      ms(report.maxBatchMs),
      `${verdict('maxBatchMs', report)}; BEGIN to COMMIT; median ${ms(d.backfillP50BatchMs)} (ledger), last size ${count(d.backfillLastBatchSize)} rows`,
    ],
    [
      'writer p50 / p99, idle',
      `${ms(d.writer.idle.p50Ms)} / ${ms(report.writerIdleP99Ms)}`,
      `${count(d.writer.idle.samples)} updates, max ${ms(d.writer.idle.maxMs)}`,
    ],
    [
      'writer p50 / p99, during (b)',
      `${ms(report.writerP50Ms)} / ${ms(report.writerP99Ms)}`,
      `${verdict('writerP99Ms', report)}; ${count(d.writer.during.samples)} updates, max ${ms(d.writer.during.maxMs)}`,
    ],
    [
      'side-table writer p50 / p99, during (b)',
      `${ms(d.writer.sideDuringBackfill.p50Ms)} / ${ms(report.writerSideP99Ms)}`,
      `users writer p99 ${verdict('writerP99VsSide', report)}: the same window's CPU load, no row lock`,
    ],
    [
      'writer p50 / p99, during (a)',
      `${ms(d.writer.duringSingleUpdate.p50Ms)} / ${ms(report.writerDuringSingleUpdateP99Ms)}`,
      `not a target: its updates wait for the one UPDATE's commit (${count(d.writer.duringSingleUpdate.samples)} updates, max ${ms(d.writer.duringSingleUpdate.maxMs)})`,
    ],
    [
      'writer p50 / p99, idle again after (b)',
      `${ms(d.writer.idleAfter.p50Ms)} / ${ms(d.writer.idleAfter.p99Ms)}`,
      'not a target: how much the idle figure moves by itself',
    ],
    [
      'side-table writer p50 / p99, idle',
      `${ms(d.writer.sideIdle.p50Ms)} / ${ms(d.writer.sideIdle.p99Ms)}`,
      'not a target: a table no bulk write touches',
    ],
    [
      '… during one plain UPDATE of all users',
      `${ms(d.writer.sideDuringPlainUpdate.p50Ms)} / ${ms(d.writer.sideDuringPlainUpdate.p99Ms)}`,
      `what the load of a full-speed bulk write alone does (${(d.writer.sideDuringPlainUpdate.p99Ms / d.writer.sideIdle.p99Ms).toFixed(1)} × idle p99), no row lock involved`,
    ],
  ]
  const widths = [0, 1].map((column) => Math.max(...rows.map((row) => row[column].length)))
  const m = report.machine
  return [
    `Benchmark: ${count(report.rows)} users (writer: ${d.writer.rate} updates/s of random users on ${d.writer.connections} connections)`,
    '',
    ...rows.map(([label, value, note]) => `${label.padEnd(widths[0])}  ${value.padStart(widths[1])}  ${note}`),
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM, ${m.os}; PostgreSQL ${m.postgres} (${Object.entries(m.postgresSettings)
      .map(([name, value]) => `${name}=${value}`)
      .join(', ')}); Node ${m.node}; load average ${m.loadAverage} at the start`,
    `Seeded in ${d.seedSeconds} s; whole benchmark ${d.wallSeconds} s.`,
  ]
}
