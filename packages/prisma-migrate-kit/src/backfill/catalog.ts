import type { ClientBase } from 'pg'
import { quoteQualified } from '../db/quote'
import { UsageError } from '../errors'
import { STATE_SCHEMA } from '../state/schema'

export interface ColumnInfo {
  name: string
  /** format_type(): `integer`, `character varying(40)`, `"MyEnum"`: safe to splice as a cast target. */
  type: string
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
  /** Columns with a single-column, non-partial primary key or unique index (the ones a key can be). */
  uniqueColumns: Array<{ column: string; primary: boolean }>
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
  const columns = await client.query<{ name: string; type: string; not_null: boolean; category: string }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
            t.typcategory::text AS category
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [table.oid],
  )
  const unique = await client.query<{ column: string; primary: boolean }>(
    `SELECT a.attname AS column, i.indisprimary AS primary
       FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
      WHERE i.indrelid = $1 AND (i.indisprimary OR i.indisunique) AND i.indnkeyatts = 1
        AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indisvalid
      ORDER BY i.indisprimary DESC, a.attname`,
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
        { name: column.name, type: column.type, notNull: column.not_null, category: column.category },
      ]),
    ),
    uniqueColumns: unique.rows,
  }
}

function splitQualified(reference: string): string[] {
  const match = /^("(?:[^"]|"")+"|[^".]+)\.("(?:[^"]|"")+"|[^".]+)$/.exec(reference.trim())
  const unquote = (part: string) => (part.startsWith('"') ? part.slice(1, -1).replace(/""/g, '"') : part)
  if (match) return [unquote(match[1]), unquote(match[2])]
  return [unquote(reference.trim())]
}

/** Why a column cannot be the key, or undefined when it can. */
export function keyProblem(table: TableInfo, column: string): string | undefined {
  const info = table.columns.get(column)
  if (!info) return `column "${column}" does not exist in ${table.schema}.${table.name}`
  if (!table.uniqueColumns.some((unique) => unique.column === column)) {
    return `"${column}" cannot be the key: it is not a single-column primary key or unique index of ${table.schema}.${table.name}, so key ranges could not be walked by an index, nor a row be named by it`
  }
  if (!info.notNull) return `"${column}" cannot be the key: it allows NULL, and rows with a NULL key would never be in a range`
  return undefined
}

/** The key to use: the given one, or the table's single-column primary key. */
export function defaultKey(table: TableInfo): string | undefined {
  return table.uniqueColumns.find((unique) => unique.primary)?.column
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
