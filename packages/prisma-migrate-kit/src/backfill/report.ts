import type { ClientBase } from 'pg'
import { quoteIdent, quoteLiteral } from '../db/quote'
import { UsageError } from '../errors'
import { findTable } from './catalog'
import { keyForJson, keyFromText, keyName, keyTuple } from './key'
import { T, backfillStateExists, readBackfillRecord } from './state'

/**
 * The before/after report of a backfill that kept a snapshot: for each row it changed, the old value (snapshot) and
 * the current one, the delta, and a flag on changes worth a look: a numeric value that moved by more than the
 * threshold (relative), any other value that changed. Step three of the data-correction flow: snapshot, recompute,
 * report, restore if wrong.
 */

export type ColumnKind = 'numeric' | 'text' | 'other'

export interface ColumnChange {
  before: unknown
  after: unknown
  /** after − before, numeric columns only. */
  delta?: number
  /** |after − before| / |before|; null when before is 0 (any change from 0 is flagged). */
  relative?: number | null
  flagged: boolean
}

export interface ReportRow {
  /** The row's key: its text, or each column's text for a composite key. */
  key: string | string[]
  /** The row was deleted since its snapshot. */
  missing?: true
  flagged: boolean
  changes: Record<string, ColumnChange>
}

export interface ReportSummary {
  /** Snapshot rows compared. */
  rows: number
  changed: number
  unchanged: number
  flagged: number
  missing: number
  byColumn: Record<string, { kind: ColumnKind; changed: number; flagged: number }>
}

export interface ReportHeader {
  name: string
  table: string
  /** `id`, or `(order_id, line_no)`. */
  key: string
  generatedAt: string
  /** Relative change above which a numeric change is flagged (0.1 = 10 %). */
  threshold: number
  columns: Array<{ name: string; kind: ColumnKind }>
}

export const DEFAULT_REPORT_THRESHOLD = 0.1
const PAGE = 2_000

/** Compares one column's snapshot value with its current value. Pure: the rules of the report in one place. */
export function compareValue(kind: ColumnKind, before: unknown, after: unknown, threshold: number): ColumnChange | undefined {
  if (JSON.stringify(before) === JSON.stringify(after)) return undefined
  if (kind !== 'numeric' || before === null || after === null || before === undefined || after === undefined) {
    return { before, after, flagged: true }
  }
  const b = Number(before)
  const a = Number(after)
  const delta = a - b
  const relative = b === 0 ? null : Math.abs(delta) / Math.abs(b)
  return { before, after, delta, relative, flagged: relative === null || relative > threshold }
}

export function columnKind(category: string): ColumnKind {
  if (category === 'N') return 'numeric'
  if (category === 'S') return 'text'
  return 'other'
}

/**
 * Streams the report as one JSON document through write() (a file or stdout): header, every changed row, then the
 * summary. Read in one REPEATABLE READ snapshot so the report is consistent even while the app writes.
 */
export async function writeBackfillReport(
  client: ClientBase,
  name: string,
  options: { threshold?: number; write: (chunk: string) => Promise<void> | void },
): Promise<ReportHeader & { summary: ReportSummary }> {
  const threshold = options.threshold ?? DEFAULT_REPORT_THRESHOLD
  const record = (await backfillStateExists(client)) ? await readBackfillRecord(client, name) : undefined
  if (!record) throw new UsageError(`no report for backfill "${name}": it has never run on this database`)
  const table = await findTable(client, record.tableName)
  if (!table) throw new UsageError(`no report for backfill "${name}": its table ${record.tableName} no longer exists`)
  const { rows: columnRows } = await client.query<{ column: string }>(
    `SELECT DISTINCT jsonb_object_keys(old) AS column FROM ${T.snapshots} WHERE backfill = $1 ORDER BY 1`,
    [name],
  )
  const columnNames = columnRows.map((row) => row.column)
  if (columnNames.length === 0) {
    throw new UsageError(`no report for backfill "${name}": it kept no snapshot`, {
      hint: `Add snapshot: ['<column>', …] to its definition; the report compares those old values with the new ones.`,
    })
  }
  const columns = columnNames.map((column) => ({ name: column, kind: columnKind(table.columns.get(column)?.category ?? '') }))
  const header: ReportHeader = {
    name,
    table: `${table.schema}.${table.name}`,
    key: keyName(record.key),
    generatedAt: new Date().toISOString(),
    threshold,
    columns,
  }
  const summary: ReportSummary = {
    rows: 0,
    changed: 0,
    unchanged: 0,
    flagged: 0,
    missing: 0,
    byColumn: Object.fromEntries(columns.map((column) => [column.name, { kind: column.kind, changed: 0, flagged: 0 }])),
  }
  const present = columns.filter((column) => table.columns.has(column.name))
  const current = `jsonb_build_object(${present.map((column) => `${quoteLiteral(column.name)}, t.${quoteIdent(column.name)}`).join(', ')})`
  await options.write(`${JSON.stringify(header, null, 2).replace(/\n}$/, '')},\n  "rows": [`)
  let first = true
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
  try {
    await client.query(
      `DECLARE mk_report NO SCROLL CURSOR FOR
         SELECT s.key, s.old, CASE WHEN t.${quoteIdent(record.key.columns[0].name)} IS NULL THEN NULL ELSE ${current} END AS new
           FROM ${T.snapshots} s LEFT JOIN ${table.quoted} t
             ON ${keyTuple(
               record.key,
               record.key.columns.map((column) => `t.${quoteIdent(column.name)}`),
             )} = ${keyFromText(record.key, 's.key')}
          WHERE s.backfill = $1
          ORDER BY ${keyFromText(record.key, 's.key')}`,
      [name],
    )
    for (;;) {
      const { rows } = await client.query<{ key: string; old: Record<string, unknown>; new: Record<string, unknown> | null }>(
        `FETCH ${PAGE} FROM mk_report`,
      )
      if (rows.length === 0) break
      for (const row of rows) {
        summary.rows++
        const reportRow = compareRow({ ...row, key: keyForJson(record.key, row.key) }, columns, threshold, summary)
        if (!reportRow) continue
        await options.write(`${first ? '' : ','}\n    ${JSON.stringify(reportRow)}`)
        first = false
      }
    }
  } finally {
    await client.query('ROLLBACK').catch(() => undefined)
  }
  await options.write(`\n  ],\n  "summary": ${JSON.stringify(summary, null, 2).replace(/\n/g, '\n  ')}\n}\n`)
  return { ...header, summary }
}

function compareRow(
  row: { key: string | string[]; old: Record<string, unknown>; new: Record<string, unknown> | null },
  columns: Array<{ name: string; kind: ColumnKind }>,
  threshold: number,
  summary: ReportSummary,
): ReportRow | undefined {
  if (row.new === null) {
    summary.missing++
    summary.flagged++
    const changes = Object.fromEntries(
      columns.map((column) => [column.name, { before: row.old[column.name] ?? null, after: null, flagged: true }]),
    )
    return { key: row.key, missing: true, flagged: true, changes }
  }
  const changes: Record<string, ColumnChange> = {}
  for (const column of columns) {
    const change = compareValue(column.kind, row.old[column.name] ?? null, row.new[column.name] ?? null, threshold)
    if (!change) continue
    changes[column.name] = change
    const tally = summary.byColumn[column.name]
    tally.changed++
    if (change.flagged) tally.flagged++
  }
  if (Object.keys(changes).length === 0) {
    summary.unchanged++
    return undefined
  }
  const flagged = Object.values(changes).some((change) => change.flagged)
  summary.changed++
  if (flagged) summary.flagged++
  return { key: row.key, flagged, changes }
}
