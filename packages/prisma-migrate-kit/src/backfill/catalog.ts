import type { ClientBase } from 'pg'
import { quoteQualified } from '../db/quote'
import { keyNameOf } from './key'
import { UsageError } from '../errors'
import { STATE_SCHEMA } from '../state/schema'

export interface ColumnInfo {
  name: string
  /** format_type(): `integer`, `character varying(40)`, `"MyEnum"`: safe to splice as a cast target. */
  type: string
  /** The type without its modifiers (`character varying`, `numeric`): what a parameter is cast to before assignment. */
  baseType: string
  notNull: boolean
  /** pg_type.typcategory: N numeric, S string, B boolean, D date/time, … */
  category: string
}

export interface TableInfo {
  oid: number
  schema: string
  name: string
  /** "schema"."name", quoted for statements. */
  quoted: string
  columns: Map<string, ColumnInfo>
  /** The columns of each valid, non-partial primary key or unique index on plain columns, in index order: the keys a backfill can walk. */
  uniqueKeys: UniqueKey[]
}

/** A table named without its schema that more than one of the app's schemas holds: which one is meant is not ours to guess. */
export class AmbiguousTableError extends UsageError {
  constructor(
    readonly reference: string,
    readonly schemas: string[],
  ) {
    const name = splitQualified(reference)[0]
    super(`table "${name}" is in more than one schema (${schemas.join(', ')}): name the one meant`, {
      hint: `Write the schema with it: ${schemas.map((schema) => `table: '${schema}.${name}'`).join(' or ')}`,
    })
  }
}

export interface UniqueKey {
  columns: string[]
  primary: boolean
  index: string
}

interface TableRow {
  oid: number
  schema: string
  name: string
  relkind: string
}

/**
 * Finds a table as written in a definition: `users`, `public.users`, `"User"`, or a Prisma model table named in mixed
 * case without quotes (`User`), which PostgreSQL would otherwise fold to `user`. A name without its schema is looked
 * for in every schema of the app, not only on the search path (Prisma's `schemas = [...]` puts models outside it): in
 * one it is that table, in several it is refused (AmbiguousTableError), in none PostgreSQL's own lookup decides.
 */
export async function findTable(client: ClientBase, reference: string): Promise<TableInfo | undefined> {
  const parts = splitQualified(reference)
  let table: TableRow | undefined
  if (parts.length === 1) {
    const { rows } = await client.query<TableRow>(
      `SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relname = $1 AND c.relkind IN ('r', 'p')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema', $2) AND n.nspname NOT LIKE 'pg\\_%'
        ORDER BY n.nspname`,
      [parts[0], STATE_SCHEMA],
    )
    if (rows.length > 1)
      throw new AmbiguousTableError(
        reference,
        rows.map((row) => row.schema),
      )
    table = rows[0]
  }
  if (!table) {
    const exact = parts.length === 2 ? `format('%I.%I', $1::text, $2::text)` : `format('%I', $1::text)`
    const { rows } = await client.query<TableRow>(
      `SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.oid = coalesce(to_regclass(${exact}), to_regclass($${parts.length + 1}::text))`,
      [...parts, reference],
    )
    table = rows[0]
  }
  if (!table || !['r', 'p'].includes(table.relkind)) return undefined
  const columns = await client.query<{ name: string; type: string; base_type: string; not_null: boolean; category: string }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, format_type(a.atttypid, NULL) AS base_type,
            a.attnotnull AS not_null,
            t.typcategory::text AS category
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [table.oid],
  )
  // Key columns only (an index's INCLUDE columns come after indnkeyatts); indexes on expressions never qualify.
  const unique = await client.query<UniqueKey>(
    `SELECT ic.relname AS index, i.indisprimary AS primary,
            array_agg(a.attname::text ORDER BY k.position) AS columns
       FROM pg_index i
       JOIN pg_class ic ON ic.oid = i.indexrelid
       CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k (attnum, position)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1 AND (i.indisprimary OR i.indisunique) AND k.position <= i.indnkeyatts
        AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indisvalid
      GROUP BY ic.relname, i.indisprimary
      ORDER BY i.indisprimary DESC, count(*), ic.relname`,
    [table.oid],
  )
  return {
    oid: table.oid,
    schema: table.schema,
    name: table.name,
    quoted: quoteQualified(table.schema, table.name),
    columns: new Map(
      columns.rows.map((column) => [
        column.name,
        { name: column.name, type: column.type, baseType: column.base_type, notNull: column.not_null, category: column.category },
      ]),
    ),
    uniqueKeys: unique.rows,
  }
}

function splitQualified(reference: string): string[] {
  const match = /^("(?:[^"]|"")+"|[^".]+)\.("(?:[^"]|"")+"|[^".]+)$/.exec(reference.trim())
  const unquote = (part: string) => (part.startsWith('"') ? part.slice(1, -1).replace(/""/g, '"') : part)
  if (match) return [unquote(match[1]), unquote(match[2])]
  return [unquote(reference.trim())]
}

/** `id` or `['order_id', 'line_no']`: a key as a definition writes it, for hints. */
export const keyAsWritten = (columns: readonly string[]): string =>
  columns.length === 1 ? `'${columns[0]}'` : `[${columns.map((column) => `'${column}'`).join(', ')}]`

/**
 * Why these columns cannot be the key, or undefined when they can: they must be, in order, the columns of a primary
 * key or unique index (so ranges are walked by that index and each key names one row), and none may allow NULL (a
 * unique index takes any number of rows with a NULL, and a NULL compares neither greater nor smaller: such rows would
 * never be in a range).
 */
export function keyProblem(table: TableInfo, columns: readonly string[]): string | undefined {
  const where = `${table.schema}.${table.name}`
  const missing = columns.filter((column) => !table.columns.has(column))
  if (missing.length > 0) return missing.map((column) => `column "${column}" does not exist in ${where}`).join('; ')
  if (new Set(columns).size !== columns.length) return `the key names a column twice: ${keyAsWritten(columns)}`
  const shown = columns.length === 1 ? `"${columns[0]}"` : keyNameOf(columns)
  const same = (unique: UniqueKey) => unique.columns.length === columns.length && unique.columns.every((column, i) => column === columns[i])
  if (!table.uniqueKeys.some(same)) {
    const reordered = table.uniqueKeys.find(
      (unique) => unique.columns.length === columns.length && columns.every((column) => unique.columns.includes(column)),
    )
    if (reordered) {
      return `${shown} is unique, but only in the order of index ${reordered.index}: write key: ${keyAsWritten(reordered.columns)} so that key ranges are walked by that index`
    }
    const candidates = table.uniqueKeys.map((unique) => keyAsWritten(unique.columns))
    return `${shown} cannot be the key: it is not the column list of a primary key or unique index of ${where}, so a key might name several rows and ranges could not be walked by an index${candidates.length > 0 ? ` (candidates: ${candidates.join(', ')})` : ''}`
  }
  const nullable = columns.filter((column) => !table.columns.get(column)?.notNull)
  if (nullable.length > 0) {
    return `${shown} cannot be the key: ${nullable.map((column) => `"${column}"`).join(', ')} allow${nullable.length === 1 ? 's' : ''} NULL, and a unique index takes any number of rows with a NULL in it, which compare neither greater nor smaller than a key: those rows would never be in a range (make the column NOT NULL, or name another key)`
  }
  return undefined
}

/** The key to use when a definition names none: the table's primary key, of one column or several. */
export function defaultKey(table: TableInfo): string[] | undefined {
  return table.uniqueKeys.find((unique) => unique.primary)?.columns
}

/** Rows in a table: exact below a million rows, else the planner's estimate (a count would take minutes). */
export async function estimateRowCount(client: ClientBase, table: TableInfo): Promise<number> {
  const { rows } = await client.query<{ estimate: number }>(`SELECT reltuples::float8 AS estimate FROM pg_class WHERE oid = $1`, [
    table.oid,
  ])
  const estimate = rows[0]?.estimate ?? -1
  if (estimate >= 1_000_000) return Math.round(estimate)
  const counted = await client.query<{ count: string }>(`SELECT count(*) AS count FROM ${table.quoted}`)
  return Number(counted.rows[0]?.count ?? 0)
}
