import type { ClientBase } from 'pg'
import { quoteIdent } from '../db/quote'
import { computeChanges, keyTextsSelect } from './compute'
import { backfillKind, isComputeBackfill, isSqlUpdateBackfill, type BackfillKind, type Row } from './definition'
import { ledgerTotals, lowWaterCursor } from './ledger'
import type { LoadedBackfill } from './loader'
import { DEFAULT_BATCH_SIZE } from './pacing'
import { StatementBuilder } from './sql'
import { backfillStateExists, readBackfillRecord, type BackfillStatusValue } from './state'
import { displayKey, encodeKey, keyAsText, keyName, keyOrder } from './key'
import { selectForProcess, updateStatement } from './statements'
import { resolveBackfill, type ResolvedBackfill } from './validate'
import { runPrecheck, type VerifyResult } from './verify'

export interface DryRunSample {
  key: string
  /** Current values of the columns the update writes (all columns for process()). */
  before: Row
  /** What the update would write, when it can be computed without writing. */
  after?: Row
}

export interface DryRunResult {
  name: string
  table: string
  key: string
  mode: BackfillKind
  /** Rows in the table (the key space the ranges cover). */
  rows: number
  /** Rows matching `where` (all rows without one): what the batches would touch. */
  rowsMatching: number
  /** Rows whose values the update would change; null when it cannot be computed without running it (process()). */
  rowsChanging: number | null
  sample: DryRunSample[]
  batchSize: number
  estimatedBatches: number
  /** Where a run would pick up, from earlier runs. */
  status: BackfillStatusValue
  rowsAlreadyDone: number
  cursor: string | null
  /** The cursor as messages show it. */
  cursorShown: string | null
  /** The statement each batch runs, with its range parameters. */
  statement: string
  /** The rows the precheck query returns (a run refuses to start while there are any); null without a precheck. */
  precheck: VerifyResult | null
}

const SAMPLE_ROWS = 5

/**
 * What a run would do, touching nothing: the definition is checked, then counts and a sample are read in a READ ONLY
 * transaction. No lock is taken and the migrate_kit tables are not created. For an update whose SET list is plain
 * `column = expression`, the sample shows before → after and the count is of rows that would really change.
 */
export async function dryRunBackfill(
  client: ClientBase,
  loaded: LoadedBackfill,
  options: { batchSize?: number } = {},
): Promise<DryRunResult> {
  const resolved = await resolveBackfill(client, loaded)
  const state = (await backfillStateExists(client)) ? await readBackfillRecord(client, loaded.name) : undefined
  const done = state ? await ledgerTotals(client, loaded.name) : undefined
  const cursor = state ? await lowWaterCursor(client, loaded.name, state.key) : null
  const batchSize = options.batchSize ?? state?.batchSize ?? DEFAULT_BATCH_SIZE
  const precheck = (await runPrecheck(client, loaded.definition)) ?? null
  await client.query('BEGIN READ ONLY')
  try {
    const table = resolved.table.quoted
    const total = await client.query<{ count: string }>(`SELECT count(*) AS count FROM ${table}`)
    const rows = Number(total.rows[0]?.count ?? 0)
    const preview = previewQueries(resolved)
    const counted = await client.query<{ matching: string; changing: string | null }>(preview.count.text, preview.count.values)
    const sample = isComputeBackfill(resolved.definition)
      ? await computedSample(client, resolved)
      : (await client.query<Row>(preview.sample.text, preview.sample.values)).rows.map((row) =>
          toSample(row, preview.columns, preview.previewable, (text) => displayKey(resolved.key, text)),
        )
    const upTo = encodeKey(
      resolved.key,
      resolved.key.columns.map((column) => `<upper ${column.name} of the batch>`),
    )
    const range = { after: cursor, upTo }
    const statement = isSqlUpdateBackfill(resolved.definition) ? updateStatement(resolved, range, []) : selectForProcess(resolved, range)
    return {
      name: loaded.name,
      table: `${resolved.table.schema}.${resolved.table.name}`,
      key: keyName(resolved.key),
      mode: backfillKind(resolved.definition),
      rows,
      rowsMatching: Number(counted.rows[0]?.matching ?? 0),
      rowsChanging: counted.rows[0]?.changing == null ? null : Number(counted.rows[0].changing),
      sample,
      batchSize,
      estimatedBatches: Math.ceil(Math.max(0, rows - (done?.rowsDone ?? 0)) / batchSize),
      status: state?.status ?? 'pending',
      rowsAlreadyDone: done?.rowsDone ?? 0,
      cursor,
      cursorShown: cursor && displayKey(resolved.key, cursor),
      statement: statement.build().text,
      precheck,
    }
  } finally {
    await client.query('ROLLBACK').catch(() => undefined)
  }
}

interface Preview {
  count: { text: string; values: unknown[] }
  sample: { text: string; values: unknown[] }
  columns: string[]
  previewable: boolean
}

function previewQueries(resolved: ResolvedBackfill): Preview {
  const { definition, table, setList } = resolved
  const keyText = `${keyAsText(resolved.key)} AS mk_key`
  const order = keyOrder(resolved.key)
  const assignments = setList?.assignments
  const where = (builder: StatementBuilder, extra?: string) => {
    const conditions: Array<() => void> = []
    if (definition.where) conditions.push(() => builder.text('(').fragment(definition.where!, 'where').text(')'))
    if (extra) conditions.push(() => builder.text(extra))
    if (conditions.length > 0) builder.text(' WHERE ')
    conditions.forEach((condition, index) => {
      if (index > 0) builder.text(' AND ')
      condition()
    })
    return builder
  }
  if (isSqlUpdateBackfill(definition) && assignments && assignments.length > 0) {
    // The deparsed expressions use the update's own $1…$n: bind those first, then number the rest after them.
    const updateValues = new StatementBuilder().fragment(definition.update).build().values
    const columnInfo = assignments.map((assignment) => resolved.table.columns.get(assignment.column)!)
    const before = columnInfo.map((column) => quoteIdent(column.name))
    const after = assignments.map((assignment, index) => `CAST((${assignment.expression}) AS ${columnInfo[index].type})`)
    const differs = `ROW(${before.join(', ')}) IS DISTINCT FROM ROW(${after.join(', ')})`
    const count = where(
      new StatementBuilder()
        .reserve(updateValues)
        .text(`SELECT count(*) AS matching, count(*) FILTER (WHERE ${differs}) AS changing FROM ${table.quoted}`),
    )
    const selectList = [
      keyText,
      ...before.map((column, index) => `${column} AS ${quoteIdent(`before:${assignments[index].column}`)}`),
      ...after.map((expression, index) => `${expression} AS ${quoteIdent(`after:${assignments[index].column}`)}`),
    ]
    const sample = where(new StatementBuilder().reserve(updateValues).text(`SELECT ${selectList.join(', ')} FROM ${table.quoted}`), differs)
    sample.text(` ORDER BY ${order} LIMIT ${SAMPLE_ROWS}`)
    return { count: count.build(), sample: sample.build(), columns: assignments.map((a) => a.column), previewable: true }
  }
  const columns = isSqlUpdateBackfill(definition) ? (setList?.columns ?? [...table.columns.keys()]) : [...table.columns.keys()]
  const known = columns.filter((column) => table.columns.has(column))
  const count = where(new StatementBuilder().text(`SELECT count(*) AS matching, NULL AS changing FROM ${table.quoted}`))
  const selectList = [keyText, ...known.map((column) => `${quoteIdent(column)} AS ${quoteIdent(`before:${column}`)}`)]
  const sample = where(new StatementBuilder().text(`SELECT ${selectList.join(', ')} FROM ${table.quoted}`))
  sample.text(` ORDER BY ${order} LIMIT ${SAMPLE_ROWS}`)
  return { count: count.build(), sample: sample.build(), columns: known, previewable: false }
}

/**
 * compute()'s sample: the first rows matching where, given to compute() as a batch would give them, and what it
 * returns for them (rows it leaves alone are not shown). compute() runs here: it must not write anywhere itself.
 */
async function computedSample(client: ClientBase, resolved: ResolvedBackfill): Promise<DryRunSample[]> {
  const { definition, table, key } = resolved
  const builder = new StatementBuilder().text(`SELECT *, ${keyTextsSelect(resolved)} FROM ${table.quoted}`)
  if (definition.where) builder.text(' WHERE (').fragment(definition.where, 'where').text(')')
  const { text, values } = builder.text(` ORDER BY ${keyOrder(key)} LIMIT ${SAMPLE_ROWS * 4}`).build()
  const { rows } = await client.query<Row>(text, values)
  const changes = await computeChanges(resolved, rows)
  return changes.slice(0, SAMPLE_ROWS).map((change) => ({
    key: displayKey(key, encodeKey(key, change.keyTexts)),
    before: Object.fromEntries(Object.keys(change.returned).map((column) => [column, change.row[column]])),
    after: change.returned,
  }))
}

function toSample(row: Row, columns: string[], previewable: boolean, display: (keyText: string) => string): DryRunSample {
  const before: Row = {}
  const after: Row = {}
  for (const column of columns) {
    before[column] = row[`before:${column}`]
    if (previewable) after[column] = row[`after:${column}`]
  }
  return { key: display(String(row.mk_key)), before, ...(previewable ? { after } : {}) }
}
