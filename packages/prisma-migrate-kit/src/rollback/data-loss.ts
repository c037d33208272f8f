import type { Node } from 'libpg-query'
import {
  alterTableCommands,
  droppedRefs,
  names,
  nodeAs,
  plainTable,
  quoteIdent,
  refOfNames,
  tableKey,
  tableOf,
  type TableRef,
} from '../lint/nodes'
import { loadSqlParser, parseSql } from '../lint/parser'
import type { SchemaHistory } from '../lint/schema'
import { SourceText } from '../sql/source'

/** A statement of a rollback that destroys data the rollback cannot bring back. */
export interface DataLossWarning {
  /** 1-based line of the statement in the script it was found in. */
  line: number
  kind:
    | 'drop_table'
    | 'drop_column'
    | 'drop_type'
    | 'remove_enum_values'
    | 'change_column_type'
    | 'delete_rows'
    /** Loses nothing, but cannot run on a table with rows as generated (a column re-added NOT NULL, no default). */
    | 'fails_with_rows'
  /** What is lost, and why the rollback cannot bring it back. */
  message: string
  /** What would keep it: a backup, a copy of the column, a backfill. */
  remedy: string
}

/**
 * Finds the data-destroying statements of a rollback script. `schemaAfter` is the lint's model of the schema once the
 * migration ran (what the rollback starts from): it knows enum values and primary keys, so the warnings can say which
 * enum values disappear and how to save a column's values.
 */
export async function dataLossWarnings(script: string, schemaAfter: SchemaHistory): Promise<DataLossWarning[]> {
  await loadSqlParser()
  const source = new SourceText(script)
  const statements = parseSql(source, false).statements.map((statement) => ({
    node: statement.node,
    line: source.lineAt(statement.start),
  }))
  const replacements = enumReplacements(statements.map((statement) => statement.node))
  const warnings: DataLossWarning[] = []
  for (const { node, line } of statements) {
    for (const warning of statementWarnings(node, schemaAfter, replacements)) warnings.push({ line, ...warning })
  }
  return warnings
}

/**
 * Prisma removes enum values by building a new type and swapping it in: CREATE TYPE x_new …; ALTER COLUMN … TYPE
 * x_new; ALTER TYPE x RENAME TO x_old; ALTER TYPE x_new RENAME TO x; DROP TYPE x_old. Reading the script as one
 * change lets the warning name the values that go and the columns holding them, instead of flagging a "dropped
 * type" that only changed name.
 */
interface EnumReplacement {
  /** The enum's key (public.x): the type the swap ends with. */
  target: string
  /** The new type's key (public.x_new) before its rename. */
  temporary: string
  /** The old type's key after its rename (public.x_old), dropped at the end. */
  retired?: string
  values: string[]
  columns: Array<{ table: TableRef; column: string }>
}

function enumReplacements(nodes: Node[]): EnumReplacement[] {
  const created = new Map<string, string[]>()
  const renamed = new Map<string, string>()
  const retyped = new Map<string, Array<{ table: TableRef; column: string }>>()
  for (const node of nodes) {
    const create = nodeAs(node, 'CreateEnumStmt')
    const createdRef = refOfNames(names(create?.typeName))
    if (create && createdRef)
      created.set(
        tableKey(createdRef),
        (create.vals ?? []).flatMap((value) => names([value])),
      )
    const rename = nodeAs(node, 'RenameStmt')
    const from = rename?.renameType === 'OBJECT_TYPE' ? refOfNames(names(nodeAs(rename.object, 'List')?.items)) : undefined
    if (from && rename?.newname) renamed.set(tableKey(from), tableKey({ schema: from.schema, name: rename.newname }))
    for (const { table, cmd } of alterTableCommands(node)) {
      const type = cmd.subtype === 'AT_AlterColumnType' ? columnTypeRef(cmd.def) : undefined
      if (type && cmd.name) retyped.set(tableKey(type), [...(retyped.get(tableKey(type)) ?? []), { table, column: cmd.name }])
    }
  }
  const replacements: EnumReplacement[] = []
  for (const [temporary, values] of created) {
    const target = renamed.get(temporary)
    if (!target) continue
    replacements.push({ target, temporary, retired: renamed.get(target), values, columns: retyped.get(temporary) ?? [] })
  }
  return replacements
}

function columnTypeRef(def: Node | undefined): TableRef | undefined {
  return refOfNames(names(nodeAs(def, 'ColumnDef')?.typeName?.names).filter((part) => part !== 'pg_catalog'))
}

function shown(key: string): string {
  return key.startsWith('public.') ? key.slice('public.'.length) : key
}

function quoted(values: string[]): string {
  return values.map((value) => `'${value.replace(/'/g, "''")}'`).join(', ')
}

const BACKUP = 'pg_dump --data-only'

/**
 * pg_dump's --table for exactly this table, quoted for the shell. The pattern's double quotes keep the name's case
 * (pg_dump folds an unquoted pattern to lower case, so `public.Customer` would match no table) and its dots and
 * wildcards literal.
 */
function dumpTable(ref: TableRef): string {
  const pattern = `${quoteIdent(ref.schema ?? 'public')}.${quoteIdent(ref.name)}`
  return `--table='${pattern.replace(/'/g, `'\\''`)}'`
}

function statementWarnings(node: Node, schema: SchemaHistory, replacements: EnumReplacement[]): Array<Omit<DataLossWarning, 'line'>> {
  const drop = nodeAs(node, 'DropStmt')
  if (drop?.removeType === 'OBJECT_TABLE') {
    return droppedRefs(drop.objects).map((ref) => ({
      kind: 'drop_table' as const,
      message: `drops table ${plainTable(ref)} with every row in it; the rollback cannot bring them back`,
      remedy:
        `back it up first: ${BACKUP} ${dumpTable(ref)} "$DATABASE_URL" > ${ref.name}.sql ` +
        `(after re-applying the migration: psql "$DATABASE_URL" -f ${ref.name}.sql)`,
    }))
  }
  if (drop?.removeType === 'OBJECT_TYPE') {
    return (drop.objects ?? []).flatMap((object) => {
      const ref = refOfNames(names(nodeAs(object, 'TypeName')?.names))
      if (!ref || replacements.some((replacement) => replacement.retired === tableKey(ref))) return []
      const values = schema.enumValues(ref)
      return [
        {
          kind: 'drop_type' as const,
          message:
            `drops type ${shown(tableKey(ref))}${values ? ` (enum ${quoted(values)})` : ''}; ` +
            'values stored with it go with the columns this rollback drops',
          remedy: 'save those columns or tables first (see their warnings), or keep a full backup: pg_dump -Fc "$DATABASE_URL"',
        },
      ]
    })
  }
  const warnings: Array<Omit<DataLossWarning, 'line'>> = []
  const createdEnum = refOfNames(names(nodeAs(node, 'CreateEnumStmt')?.typeName))
  const replacement = createdEnum && replacements.find((candidate) => candidate.temporary === tableKey(createdEnum))
  if (replacement) warnings.push(...enumWarnings(replacement, schema))
  for (const { table, cmd } of alterTableCommands(node)) {
    if (cmd.subtype === 'AT_DropColumn' && cmd.name) {
      const selected = [...(schema.table(table)?.primaryKey ?? []), cmd.name].map((column) => `"${column}"`).join(', ')
      warnings.push({
        kind: 'drop_column',
        message: `drops column ${plainTable(table)}.${cmd.name} and every value in it; the rollback cannot bring them back`,
        remedy:
          `save them first: psql "$DATABASE_URL" -c '\\copy (SELECT ${selected} FROM ${quotedTable(table)}) TO ` +
          `${table.name}.${cmd.name}.csv CSV HEADER'; after re-applying the migration, a backfill (backfills/*.ts) ` +
          'that computes them can refill the column, or load the saved values back',
      })
    }
    const added = cmd.subtype === 'AT_AddColumn' ? nodeAs(cmd.def, 'ColumnDef') : undefined
    if (added?.colname && requiredWithoutDefault(added)) {
      warnings.push({
        kind: 'fails_with_rows',
        message:
          `re-adds ${plainTable(table)}.${added.colname} as NOT NULL without a default, which fails on a table that has ` +
          "rows (Prisma's diff cannot know what the old values were)",
        remedy:
          `edit it: add the column without NOT NULL, fill it (UPDATE ${quotedTable(table)} SET "${added.colname}" = …, ` +
          `or from a backfill snapshot), then ALTER COLUMN "${added.colname}" SET NOT NULL`,
      })
    }
    if (cmd.subtype === 'AT_AlterColumnType' && cmd.name) {
      const typeRef = columnTypeRef(cmd.def)
      if (typeRef && replacements.some((candidate) => candidate.temporary === tableKey(typeRef))) continue
      const type = typeRef ? plainTable(typeRef) : 'another type'
      warnings.push({
        kind: 'change_column_type',
        message:
          `changes the type of ${plainTable(table)}.${cmd.name} to ${type}: values that ` +
          'do not convert make the rollback fail, and a narrower type loses precision for good',
        remedy: `save the column first: ${BACKUP} ${dumpTable(table)} "$DATABASE_URL" > ${table.name}.sql`,
      })
    }
  }
  const deleted = tableOf(nodeAs(node, 'DeleteStmt')?.relation)
  const truncated = (nodeAs(node, 'TruncateStmt')?.relations ?? []).flatMap((item) => tableOf(nodeAs(item, 'RangeVar')) ?? [])
  for (const table of [...(deleted ? [deleted] : []), ...truncated]) {
    warnings.push({
      kind: 'delete_rows',
      message: `deletes rows of ${plainTable(table)}; the rollback cannot bring them back`,
      remedy: `back the table up first: ${BACKUP} ${dumpTable(table)} "$DATABASE_URL" > ${table.name}.sql`,
    })
  }
  return warnings
}

/** A column definition with NOT NULL and neither a DEFAULT nor an identity/generated value. */
function requiredWithoutDefault(column: { constraints?: Node[] }): boolean {
  const kinds = (column.constraints ?? []).map((constraint) => nodeAs(constraint, 'Constraint')?.contype)
  return (
    kinds.includes('CONSTR_NOTNULL') &&
    !kinds.some((kind) => kind === 'CONSTR_DEFAULT' || kind === 'CONSTR_IDENTITY' || kind === 'CONSTR_GENERATED')
  )
}

function quotedTable(table: TableRef): string {
  return `"${table.schema ?? 'public'}"."${table.name}"`
}

function enumWarnings(replacement: EnumReplacement, schema: SchemaHistory): Array<Omit<DataLossWarning, 'line'>> {
  const dot = replacement.target.indexOf('.')
  const before = schema.enumValues({ schema: replacement.target.slice(0, dot), name: replacement.target.slice(dot + 1) })
  const removed = before?.filter((value) => !replacement.values.includes(value))
  if (removed && removed.length === 0) return []
  const gone = removed ? quoted(removed) : `every value other than ${quoted(replacement.values)}`
  const where = (column: string) => (removed ? `"${column}" IN (${quoted(removed)})` : `"${column}" NOT IN (${quoted(replacement.values)})`)
  const save = replacement.columns.map(({ table, column }) => `SELECT * FROM ${quotedTable(table)} WHERE ${where(column)}`)
  const move = replacement.columns.map(
    ({ table, column }) => `UPDATE ${quotedTable(table)} SET "${column}" = '<a value that stays>' WHERE ${where(column)}`,
  )
  return [
    {
      kind: 'remove_enum_values',
      message:
        `removes ${gone} from enum ${shown(replacement.target)}: rows holding ${removed?.length === 1 ? 'it' : 'them'} ` +
        'make this rollback fail (invalid input value for enum), and once they are changed, which rows had it is lost',
      remedy:
        save.length > 0
          ? `save those rows first (${save.join('; ')}), then move them: ${move.join('; ')}`
          : 'save the rows holding them, then set them to a value that stays',
    },
  ]
}
