import type { Client } from 'pg'
import type { TableSizeLookup } from '../lint/measure'
import type { TableSize } from '../lint/table-size'

/** A table as the lint names it (schema as written, or none), to look up. */
export interface TableName {
  schema?: string
  name: string
}

/** `schema.name` with the default schema filled in: the key sizes are returned under. */
export function sizeKey(table: TableName, defaultSchema: string): string {
  return `${table.schema ?? defaultSchema}.${table.name}`
}

/**
 * The planner's estimate and the size on disk of each table (plain, partitioned, materialized view), one query for
 * all of them. A table the database does not have is left out: the migration creates it, or the database is not
 * the one it will run against.
 */
export async function readTableSizes(client: Client, tables: TableName[], defaultSchema: string): Promise<Map<string, TableSize>> {
  // Each table once, kept as its parts (a schema name may itself hold a dot).
  const wanted = [
    ...new Map(
      tables.map((table) => [sizeKey(table, defaultSchema), { schema: table.schema ?? defaultSchema, name: table.name }]),
    ).values(),
  ]
  const sizes = new Map<string, TableSize>()
  if (wanted.length === 0) return sizes
  const schemas = wanted.map((table) => table.schema)
  const names = wanted.map((table) => table.name)
  const result = await client.query<{ schema: string; name: string; rows: number; bytes: string }>(
    `SELECT n.nspname AS schema, c.relname AS name,
            CASE WHEN c.relkind = 'p'
              THEN (SELECT coalesce(sum(greatest(leaf.reltuples, 0)), 0) FROM pg_partition_tree(c.oid) i
                      JOIN pg_class leaf ON leaf.oid = i.relid WHERE i.isleaf)
              ELSE c.reltuples END::float8 AS rows,
            CASE WHEN c.relkind = 'p'
              THEN (SELECT coalesce(sum(pg_total_relation_size(i.relid)), 0) FROM pg_partition_tree(c.oid) i)
              ELSE pg_total_relation_size(c.oid) END::text AS bytes
       FROM unnest($1::text[], $2::text[]) AS wanted(schema, name)
       JOIN pg_namespace n ON n.nspname = wanted.schema
       JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = wanted.name
      WHERE c.relkind IN ('r', 'p', 'm')`,
    [schemas, names],
  )
  for (const row of result.rows) {
    const bytes = Number(row.bytes)
    // -1: never vacuumed or analyzed (PostgreSQL 14+; 0 before, which cannot be told from empty, so it counts as 0).
    // A partitioned table's rows are its leaf partitions' (the parent holds none).
    const rows = row.rows < 0 ? undefined : row.rows
    sizes.set(`${row.schema}.${row.name}`, rows === undefined ? { bytes } : { rows, bytes })
  }
  return sizes
}

/** The server's major version (`SHOW server_version_num` 150004 → 15). */
export async function serverMajorVersion(client: Client): Promise<number> {
  const result = await client.query<{ server_version_num: string }>('SHOW server_version_num')
  return Math.floor(Number(result.rows[0]?.server_version_num ?? 0) / 10_000)
}

/** A lookup over one query's sizes, for measureFindings: unqualified names are in `defaultSchema`. */
export async function tableSizeLookup(client: Client, tables: TableName[], defaultSchema: string): Promise<TableSizeLookup> {
  const sizes = await readTableSizes(client, tables, defaultSchema)
  return (table) => sizes.get(sizeKey(table, defaultSchema))
}
