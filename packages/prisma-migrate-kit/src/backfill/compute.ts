import type { ClientBase } from 'pg'
import { quoteIdent } from '../db/quote'
import type { ColumnInfo } from './catalog'
import { isComputeBackfill, type ColumnValues, type Row } from './definition'
import { displayKey, encodeKey, keyTuple } from './key'
import { classifyFailure, describeFailure, sqlStateOf } from './retry'
import { StatementBuilder } from './sql'
import type { ResolvedBackfill } from './validate'

/**
 * compute(row) backfills: each row's new values come from JavaScript, and the runner writes a whole batch of them in
 * ONE statement, `UPDATE t SET c = v.c FROM unnest($1::key[], $2::c[]) v WHERE t.key = v.key`, each array typed
 * from the table's own columns. So a row-wise backfill costs one round trip per batch, not one per row.
 *
 * Keys travel as their columns' exact text (selected with the rows under KEY_TEXTS): a key read into JavaScript could
 * lose what JavaScript cannot hold (a timestamp's microseconds, a bigint's digits) and then match no row.
 */

/** The column the batch's select adds to each row with its key columns' texts; removed before compute() sees the row. */
export const KEY_TEXTS = 'migrate_kit:key'

/** What compute() returned that cannot be written whatever the row (a column that does not exist, the key): its code. */
export class ComputeResultError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ComputeResultError'
  }
}

/**
 * A value PostgreSQL refuses for its column, on one row: a data error (SQLSTATE kept, so the run records the row as
 * failed like any refused row) whose message names the row's key and the column.
 */
export class ComputedValueError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly column: string | undefined,
  ) {
    super(message)
    this.name = 'ComputedValueError'
  }
}

/** One row's new values, and its key as each key column's text. */
export interface ComputedChange {
  keyTexts: string[]
  /** As parameters of the write (JSON columns' values as JSON text). */
  values: ColumnValues
  /** As compute() returned them (undefined ones left out), for a dry run's before → after. */
  returned: ColumnValues
  /** The row compute() was given. */
  row: Row
}

/** `select *, ARRAY[k1::text, …] AS "migrate_kit:key"`: the extra select item that carries each row's exact key. */
export function keyTextsSelect(resolved: ResolvedBackfill): string {
  return `ARRAY[${resolved.key.columns.map((column) => `${quoteIdent(column.name)}::text`).join(', ')}] AS ${quoteIdent(KEY_TEXTS)}`
}

/**
 * Calls compute() on each row in key order (awaiting it when it is async) and checks what it returns: an object of
 * column values, or undefined / null to leave the row as it is. A value left undefined leaves that column alone.
 */
export async function computeChanges(resolved: ResolvedBackfill, rows: Row[]): Promise<ComputedChange[]> {
  const { definition, table, key } = resolved
  if (!isComputeBackfill(definition)) throw new Error('computeChanges: not a compute() backfill')
  const where = `${table.schema}.${table.name}`
  const keyNames = new Set(key.columns.map((column) => column.name))
  const changes: ComputedChange[] = []
  for (const row of rows) {
    const keyTexts = row[KEY_TEXTS] as string[]
    delete row[KEY_TEXTS]
    const shown = () => displayKey(key, encodeKey(key, keyTexts))
    const result: unknown = await definition.compute(row)
    if (result === undefined || result === null) continue
    if (typeof result !== 'object' || Array.isArray(result)) {
      throw new ComputeResultError(
        `compute() must return an object of column values (or undefined to leave the row as it is), but returned ${Array.isArray(result) ? 'an array' : typeof result} for row ${shown()}`,
      )
    }
    const values: ColumnValues = {}
    const returned: ColumnValues = {}
    for (const [column, value] of Object.entries(result as Record<string, unknown>)) {
      if (value === undefined) continue
      returned[column] = value
      const info = table.columns.get(column)
      if (!info) throw new ComputeResultError(`compute() returned column "${column}", which is not a column of ${where}`)
      if (keyNames.has(column)) {
        throw new ComputeResultError(`compute() returned the key column "${column}": key ranges would move under the backfill`)
      }
      if (info.category === 'A') {
        throw new ComputeResultError(
          `compute() returned column "${column}", an array (${info.type}), which compute() cannot write yet: write it with process(rows, tx)`,
        )
      }
      values[column] = toParameter(info, value)
    }
    if (Object.keys(values).length > 0) changes.push({ keyTexts, values, returned, row })
  }
  return changes
}

/** A JavaScript value as its column takes it: JSON columns take the value as JSON, as Prisma Client's Json fields do. */
function toParameter(column: ColumnInfo, value: unknown): unknown {
  if (value === null) return null
  if (column.baseType === 'json' || column.baseType === 'jsonb') return JSON.stringify(value)
  return value
}

/**
 * The one UPDATE of a batch: keys and values as arrays, one per column, typed by the columns' types without their
 * modifiers, so that the assignment applies them as a plain UPDATE would (a varchar(40) refuses 41 characters rather
 * than being cut to 40 by a cast). A column some rows leave alone gets a flag array: those rows keep their value.
 */
export function computeStatement(resolved: ResolvedBackfill, changes: ComputedChange[], returning: string[]): StatementBuilder {
  const { table, key } = resolved
  const written = new Set(changes.flatMap((change) => Object.keys(change.values)))
  const columns = [...table.columns.values()].filter((column) => written.has(column.name))
  const builder = new StatementBuilder().text(`UPDATE ${table.quoted} AS mk_t SET `)
  const arrays: Array<{ alias: string; type: string; values: unknown[] }> = key.columns.map((column, index) => ({
    alias: `mk_k${index + 1}`,
    type: table.columns.get(column.name)?.baseType ?? column.type,
    values: changes.map((change) => change.keyTexts[index]),
  }))
  const assignments = columns.map((column, index) => {
    const alias = `mk_c${index + 1}`
    arrays.push({ alias, type: column.baseType, values: changes.map((change) => change.values[column.name] ?? null) })
    const target = quoteIdent(column.name)
    if (changes.every((change) => column.name in change.values)) return `${target} = mk_v.${alias}`
    const flag = `mk_s${index + 1}`
    arrays.push({ alias: flag, type: 'boolean', values: changes.map((change) => column.name in change.values) })
    return `${target} = CASE WHEN mk_v.${flag} THEN mk_v.${alias} ELSE mk_t.${target} END`
  })
  builder.text(assignments.join(', ')).text(' FROM unnest(')
  arrays.forEach((array, index) => {
    if (index > 0) builder.text(', ')
    builder.param(array.values).text(`::${array.type}[]`)
  })
  const keyRefs = key.columns.map((column) => `mk_t.${quoteIdent(column.name)}`)
  const valueKeys = key.columns.map((_, index) => `mk_v.mk_k${index + 1}`)
  builder.text(`) AS mk_v (${arrays.map((array) => array.alias).join(', ')}) WHERE ${keyTuple(key, keyRefs)} = ${keyTuple(key, valueKeys)}`)
  if (returning.length > 0) builder.text(` RETURNING ${[...new Set(returning)].map((column) => `mk_t.${quoteIdent(column)}`).join(', ')}`)
  return builder
}

/**
 * Writes a batch's changes in one statement; every change must find its row (the rows are locked by the batch, so
 * a miss is a bug, never skipped in silence). A batch of one row that PostgreSQL refuses is looked into, under
 * savepoints, column by column, so the failure names the column as well as the row.
 */
export async function writeChanges(
  client: ClientBase,
  resolved: ResolvedBackfill,
  changes: ComputedChange[],
  returning: string[],
): Promise<Row[]> {
  if (changes.length === 0) return []
  const single = changes.length === 1
  if (single) await client.query('SAVEPOINT mk_write')
  try {
    const { text, values } = computeStatement(resolved, changes, returning).build()
    const result = await client.query<Row>(text, values)
    if ((result.rowCount ?? 0) !== changes.length) {
      throw new Error(`compute() backfill: the batch's write found ${result.rowCount ?? 0} of its ${changes.length} rows by their key`)
    }
    return result.rows
  } catch (error) {
    if (!single || classifyFailure(error) !== 'data') throw error
    await client.query('ROLLBACK TO SAVEPOINT mk_write')
    throw await refusedValue(client, resolved, changes[0], error)
  }
}

/** Which column of one row's values PostgreSQL refuses: each written alone under a savepoint, then rolled back. */
async function refusedValue(client: ClientBase, resolved: ResolvedBackfill, change: ComputedChange, error: unknown): Promise<Error> {
  const row = displayKey(resolved.key, encodeKey(resolved.key, change.keyTexts))
  for (const [column, value] of Object.entries(change.values)) {
    const probe = computeStatement(resolved, [{ ...change, values: { [column]: value } }], []).build()
    await client.query('SAVEPOINT mk_probe')
    try {
      await client.query(probe.text, probe.values)
      await client.query('ROLLBACK TO SAVEPOINT mk_probe')
    } catch (refused) {
      await client.query('ROLLBACK TO SAVEPOINT mk_probe')
      return new ComputedValueError(
        `compute() gave column "${column}" of row ${row} a value PostgreSQL refuses: ${describeFailure(refused, { detail: false })}`,
        sqlStateOf(refused),
        column,
      )
    }
  }
  return new ComputedValueError(
    `compute()'s values for row ${row} are refused together: ${describeFailure(error, { detail: false })}`,
    sqlStateOf(error),
    undefined,
  )
}
