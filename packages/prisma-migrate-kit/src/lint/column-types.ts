import type { ColumnDef, TypeName } from 'libpg-query'
import { columnConstraint, nodeAs, names } from './nodes'

/** A column's type as written, normalised: `VARCHAR(255)` and `character varying(255)` are both varchar [255]. */
export interface ColumnType {
  /** Lower-level name without the pg_catalog schema: varchar, numeric, int4, timestamptz, a user type… */
  name: string
  schema?: string
  modifiers: number[]
  array: boolean
}

export function columnTypeOf(typeName: TypeName | undefined): ColumnType | undefined {
  const parts = names(typeName?.names)
  const name = parts[parts.length - 1]
  if (name === undefined) return undefined
  const schema = parts.length > 1 && parts[0] !== 'pg_catalog' ? parts[0] : undefined
  const modifiers = (typeName?.typmods ?? []).map((modifier) => nodeAs(modifier, 'A_Const')?.ival?.ival ?? 0)
  const type: ColumnType = { name, modifiers, array: (typeName?.arrayBounds ?? []).length > 0 }
  if (schema) type.schema = schema
  return type
}

export function showType(type: ColumnType): string {
  const modifiers = type.modifiers.length > 0 ? `(${type.modifiers.join(',')})` : ''
  return `${type.schema ? `${type.schema}.` : ''}${type.name}${modifiers}${type.array ? '[]' : ''}`
}

const SERIAL_TYPES = new Set(['serial', 'serial4', 'bigserial', 'serial8', 'smallserial', 'serial2'])

/** serial columns are an integer with a `nextval()` default, which fills every existing row. */
export function isSerial(type: ColumnType | undefined): boolean {
  return type !== undefined && !type.array && type.schema === undefined && SERIAL_TYPES.has(type.name)
}

/** Types whose only modifier is a maximum length or precision, which PostgreSQL can raise without a rewrite. */
const WIDENABLE = new Set(['varchar', 'varbit', 'timestamp', 'timestamptz', 'time', 'timetz'])

/**
 * Whether `ALTER COLUMN … TYPE` from one type to the other keeps the stored bytes, so PostgreSQL (9.2+) skips the
 * table rewrite: the binary-coercible changes PostgreSQL documents (varchar ↔ text, a longer varchar, more numeric
 * precision at the same scale, cidr → inet). Everything else, including timestamp → timestamptz (which only skips
 * the rewrite when the session time zone is UTC), is treated as a rewrite.
 */
export function changeKeepsStorage(from: ColumnType, to: ColumnType): boolean {
  if (from.array !== to.array || from.schema !== to.schema) return false
  if (from.name === to.name && sameModifiers(from, to)) return true
  if (from.array) return false
  const unbounded = to.modifiers.length === 0
  if (from.name === 'varchar' && to.name === 'text') return true
  if (changesOnlyComparison(from, to)) return true
  if (from.name === 'text' && to.name === 'varchar') return unbounded
  if (from.name !== to.name) return from.name === 'cidr' && to.name === 'inet'
  if (WIDENABLE.has(from.name)) return unbounded || (from.modifiers.length > 0 && to.modifiers[0] >= from.modifiers[0])
  if (from.name === 'numeric') {
    if (unbounded) return true
    if (from.modifiers.length === 0) return false
    // numeric(p) means numeric(p,0): more precision at the same scale keeps every stored value.
    const [fromPrecision = 0, fromScale = 0] = from.modifiers
    const [toPrecision = 0, toScale = 0] = to.modifiers
    return toPrecision >= fromPrecision && toScale === fromScale
  }
  return false
}

/** Casts the citext extension declares WITHOUT FUNCTION: the stored bytes stay (measured: same relfilenode). */
const CITEXT_PARTNERS = new Set(['text', 'varchar'])

/**
 * text or varchar ↔ citext: the table keeps its bytes, but the type compares differently (case-insensitively or
 * not), so PostgreSQL rebuilds every index on the column, under the ACCESS EXCLUSIVE lock of the ALTER.
 */
export function changesOnlyComparison(from: ColumnType, to: ColumnType): boolean {
  if (from.array || to.array || to.modifiers.length > 0) return false
  return (from.name === 'citext' && CITEXT_PARTNERS.has(to.name)) || (to.name === 'citext' && CITEXT_PARTNERS.has(from.name))
}

function sameModifiers(a: ColumnType, b: ColumnType): boolean {
  return a.modifiers.length === b.modifiers.length && a.modifiers.every((value, index) => b.modifiers[index] === value)
}

/**
 * A new column that must hold a value but gets none for the rows already there: NOT NULL (or PRIMARY KEY) without a
 * DEFAULT, identity, generated expression or serial type.
 */
export function requiredWithoutValue(column: ColumnDef): boolean {
  const required = columnConstraint(column, 'CONSTR_NOTNULL') ?? columnConstraint(column, 'CONSTR_PRIMARY')
  const filled =
    columnConstraint(column, 'CONSTR_DEFAULT') ??
    columnConstraint(column, 'CONSTR_IDENTITY') ??
    columnConstraint(column, 'CONSTR_GENERATED')
  return required !== undefined && filled === undefined && !isSerial(columnTypeOf(column.typeName))
}

export interface TypeChange {
  from?: ColumnType
  to?: ColumnType
  /** Whether PostgreSQL rewrites the table (and its indexes): unless the history proves a binary-coercible change. */
  rewrite: boolean
  /** No rewrite, but the column's indexes are rebuilt because the type compares differently (text ↔ citext). */
  rebuildsIndexes: boolean
}

/** An `ALTER COLUMN … TYPE`: `definition` is the command's ColumnDef, `from` the type the history gave the column. */
export function typeChange(definition: ColumnDef | undefined, from: ColumnType | undefined): TypeChange {
  const to = columnTypeOf(definition?.typeName)
  // A USING expression computes every value anew, whatever the types.
  const rewrite = !(to && from && !definition?.raw_default && changeKeepsStorage(from, to))
  const rebuildsIndexes = !rewrite && from !== undefined && to !== undefined && changesOnlyComparison(from, to)
  return { ...(from ? { from } : {}), ...(to ? { to } : {}), rewrite, rebuildsIndexes }
}
