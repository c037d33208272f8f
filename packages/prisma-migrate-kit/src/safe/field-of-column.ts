import type { ColumnType } from '../lint/column-types'

/**
 * The Prisma field type of a PostgreSQL column type, as `prisma db pull` writes it for the PostgreSQL connector: the
 * scalar and the native type attribute when the column is not the scalar's default. Undefined for what this table
 * does not know (arrays, domains, extensions' types): `new --safe` then refuses rather than guess.
 */
export function prismaTypeOf(type: ColumnType, enums: ReadonlyMap<string, string>): { type: string; native?: string } | undefined {
  if (type.array) return undefined
  const [first, second] = type.modifiers
  const enumName = enums.get(type.schema ? `${type.schema}.${type.name}` : type.name)
  if (enumName) return { type: enumName }
  if (type.schema !== undefined) return undefined
  switch (type.name) {
    case 'text':
      return { type: 'String' }
    case 'varchar':
      return { type: 'String', native: first === undefined ? '@db.VarChar' : `@db.VarChar(${first})` }
    case 'bpchar':
    case 'char':
      return { type: 'String', native: `@db.Char(${first ?? 1})` }
    case 'uuid':
      return { type: 'String', native: '@db.Uuid' }
    case 'int4':
      return { type: 'Int' }
    case 'int2':
      return { type: 'Int', native: '@db.SmallInt' }
    case 'int8':
      return { type: 'BigInt' }
    case 'bool':
      return { type: 'Boolean' }
    case 'float8':
      return { type: 'Float' }
    case 'float4':
      return { type: 'Float', native: '@db.Real' }
    case 'numeric':
      return first === 65 && second === 30
        ? { type: 'Decimal' }
        : { type: 'Decimal', native: `@db.Decimal(${first ?? 65}, ${second ?? 0})` }
    case 'timestamp':
      return first === 3 ? { type: 'DateTime' } : { type: 'DateTime', native: `@db.Timestamp(${first ?? 6})` }
    case 'timestamptz':
      return { type: 'DateTime', native: `@db.Timestamptz(${first ?? 6})` }
    case 'date':
      return { type: 'DateTime', native: '@db.Date' }
    case 'jsonb':
      return { type: 'Json' }
    case 'json':
      return { type: 'Json', native: '@db.Json' }
    case 'bytea':
      return { type: 'Bytes' }
    default:
      return undefined
  }
}
