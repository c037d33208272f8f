import { quoteIdent } from '../db/quote'
import type { StatementBuilder } from './sql'

/**
 * The key a backfill walks: one column, or the columns of a composite primary key or unique index (Prisma's
 * `@@id([orderId, lineNo])`, every join table), in the index's own column order so that PostgreSQL walks the index.
 *
 * Ranges compare keys as rows, `(a, b) > ($1::integer, $2::text)`, which a btree index on (a, b) answers directly.
 * The ledger keeps a key as text: a single column as its own text form (what earlier versions wrote, so their ledgers
 * go on), a composite key as a JSON array of each column's text form (`["1", "abc"]`). Either is cast back to the
 * columns' own types in every statement, so keys order as the index orders them, never as strings.
 */
export interface KeyColumn {
  name: string
  /** format_type(): safe to splice as a cast target. */
  type: string
}

export interface BackfillKey {
  readonly columns: readonly KeyColumn[]
}

export const isCompositeKey = (key: BackfillKey): boolean => key.columns.length > 1

/** `id`, or `(order_id, line_no)`: a key's columns as messages name them. */
export const keyNameOf = (names: readonly string[]): string => (names.length === 1 ? names[0] : `(${names.join(', ')})`)

/** The key as messages name it. */
export const keyName = (key: BackfillKey): string => keyNameOf(key.columns.map((column) => column.name))

/** Whether two keys are the same columns in the same order (their ranges mean the same rows). */
export const sameKey = (a: BackfillKey, b: BackfillKey): boolean =>
  a.columns.length === b.columns.length && a.columns.every((column, index) => column.name === b.columns[index].name)

/** The column references the statements use: the quoted column names, or aliases (`mk_k1`, …) of a subquery. */
const columnRefs = (key: BackfillKey, qualifier = ''): string[] => key.columns.map((column) => `${qualifier}${quoteIdent(column.name)}`)

/** Aliases of the key columns selected by a subquery (`"a" AS mk_k1`), for statements that carry keys through a CTE. */
export const keyAliases = (key: BackfillKey): string[] => key.columns.map((_, index) => `mk_k${index + 1}`)

/** `"a"` or `("a", "b")`: the key as one value, for comparisons and IN lists. */
export function keyTuple(key: BackfillKey, refs: readonly string[] = columnRefs(key)): string {
  return refs.length === 1 ? refs[0] : `(${refs.join(', ')})`
}

/** `"a", "b"` (or `"a" DESC, "b" DESC`): the ORDER BY that follows the index. */
export function keyOrder(key: BackfillKey, direction: '' | ' DESC' = '', refs: readonly string[] = columnRefs(key)): string {
  return refs.map((ref) => `${ref}${direction}`).join(', ')
}

/** `"a" AS mk_k1, "b" AS mk_k2`: the key columns selected under their aliases, for a subquery or CTE that carries keys. */
export const keySelectAs = (key: BackfillKey): string =>
  columnRefs(key)
    .map((ref, index) => `${ref} AS mk_k${index + 1}`)
    .join(', ')

/** SQL giving the key's ledger text from the key columns (or their aliases). */
export function keyAsText(key: BackfillKey, refs: readonly string[] = columnRefs(key)): string {
  if (refs.length === 1) return `${refs[0]}::text`
  return `jsonb_build_array(${refs.map((ref) => `${ref}::text`).join(', ')})::text`
}

/** SQL giving the key, in its columns' own types, back from a ledger text held by `expression` (a column or a cast). */
export function keyFromText(key: BackfillKey, expression: string): string {
  if (!isCompositeKey(key)) return `(${expression})::${key.columns[0].type}`
  const parts = key.columns.map((column, index) => `((${expression})::jsonb->>${index})::${column.type}`)
  return `ROW(${parts.join(', ')})`
}

/** The ledger text of a key as each column's text form. */
export function encodeKey(key: BackfillKey, values: readonly string[]): string {
  if (values.length !== key.columns.length) throw new Error(`a key of ${key.columns.length} column(s) got ${values.length} value(s)`)
  return isCompositeKey(key) ? JSON.stringify(values) : values[0]
}

/** Each column's text form from a ledger text. */
export function decodeKey(key: BackfillKey, text: string): string[] {
  if (!isCompositeKey(key)) return [text]
  const parsed: unknown = JSON.parse(text)
  if (!Array.isArray(parsed) || parsed.length !== key.columns.length || !parsed.every((value) => typeof value === 'string')) {
    throw new Error(`the ledger key ${text} is not a key of ${keyName(key)}: was the backfill's key changed without --restart?`)
  }
  return parsed
}

/** A ledger text as JSON output gives it: the text, or each column's text for a composite key. */
export const keyForJson = (key: BackfillKey, text: string): string | string[] => (isCompositeKey(key) ? decodeKey(key, text) : text)

/** A ledger text as messages show it: `42`, or `(42, 'abc')` for a composite key. */
export function displayKey(key: BackfillKey, text: string): string {
  if (!isCompositeKey(key)) return text
  try {
    return `(${decodeKey(key, text)
      .map((value) => (/^-?\d+(\.\d+)?$/.test(value) ? value : `'${value.replace(/'/g, "''")}'`))
      .join(', ')})`
  } catch {
    return text
  }
}

/**
 * Appends `key <op> bound` with the bound's parts as parameters cast to the columns' types: `"id" > $1::integer`, or
 * `("a", "b") > ROW($1::integer, $2::text)`. A null text binds NULLs (a statement only planned, never run).
 */
export function compareKey(builder: StatementBuilder, key: BackfillKey, op: '>' | '<=' | '=', text: string | null): StatementBuilder {
  const values = text === null ? key.columns.map(() => null) : decodeKey(key, text)
  builder.text(`${keyTuple(key)} ${op} `)
  if (!isCompositeKey(key)) return builder.param(values[0]).text(`::${key.columns[0].type}`)
  builder.text('ROW(')
  key.columns.forEach((column, index) => {
    if (index > 0) builder.text(', ')
    builder.param(values[index]).text(`::${column.type}`)
  })
  return builder.text(')')
}
