import type { AlterTableCmd, AlterTableStmt, ColumnDef, Constraint, ConstrType, Node, RangeVar } from 'libpg-query'

/** The tag of a parse-tree node: `{ AlterTableStmt: {...} }` has the tag `AlterTableStmt`. */
export type NodeTag = Node extends infer Member ? (Member extends unknown ? keyof Member : never) : never
export type NodeOf<Tag extends NodeTag> = Extract<Node, Record<Tag, unknown>>[Tag]

/** The node's body when it has that tag: `nodeAs(stmt, 'IndexStmt')?.concurrent`. */
export function nodeAs<Tag extends NodeTag>(node: Node | undefined, tag: Tag): NodeOf<Tag> | undefined {
  if (node === undefined || !(tag in node)) return undefined
  // `tag in node` picked the union member; TypeScript cannot narrow a union by a generic key itself.
  return (node as unknown as Record<Tag, NodeOf<Tag>>)[tag]
}

export function nodeTag(node: Node): NodeTag {
  return Object.keys(node)[0] as NodeTag
}

/** Every node below a value, depth first (the value itself included when it is a node). */
export function* descendants(value: unknown): Generator<Node> {
  if (Array.isArray(value)) {
    for (const item of value) yield* descendants(item)
    return
  }
  if (value === null || typeof value !== 'object') return
  const keys = Object.keys(value)
  // Nodes are `{ Tag: body }` with a capitalised tag; plain structs (a RangeVar in `relation`) have lowercase fields.
  const first = keys[0]
  if (keys.length === 1 && first !== undefined && first[0] !== undefined && first[0] !== first[0].toLowerCase()) {
    yield value as Node
  }
  for (const key of keys) yield* descendants((value as Record<string, unknown>)[key])
}

/** `sval`s of a list of String nodes: qualified names, column lists. */
export function names(list: Node[] | undefined): string[] {
  return (list ?? []).flatMap((item) => {
    const text = nodeAs(item, 'String')?.sval
    return text === undefined ? [] : [text]
  })
}

/** A table as a statement names it. The parser has already folded unquoted names to lower case. */
export interface TableRef {
  schema?: string
  name: string
}

export function tableOf(relation: RangeVar | undefined): TableRef | undefined {
  if (!relation?.relname) return undefined
  return relation.schemaname ? { schema: relation.schemaname, name: relation.relname } : { name: relation.relname }
}

/** `a.b` or `b` as a TableRef (DROP TABLE and DROP INDEX name objects as String lists). */
export function refOfNames(parts: string[]): TableRef | undefined {
  const name = parts[parts.length - 1]
  if (name === undefined) return undefined
  const schema = parts.length > 1 ? parts[parts.length - 2] : undefined
  return schema ? { schema, name } : { name }
}

/** The objects a DROP TABLE / DROP INDEX names (`DROP TABLE a, app.b`). */
export function droppedRefs(objects: Node[] | undefined): TableRef[] {
  return (objects ?? []).flatMap((object) => {
    const ref = refOfNames(names(nodeAs(object, 'List')?.items))
    return ref ? [ref] : []
  })
}

/** Another object in the same schema: the table after a rename, an index of the table. */
export function withName(ref: TableRef, name: string): TableRef {
  return ref.schema ? { schema: ref.schema, name } : { name }
}

/** Identity of a table across statements: an unqualified name means the default `public` schema. */
export function tableKey(ref: TableRef): string {
  return `${ref.schema ?? 'public'}.${ref.name}`
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

/** How messages name a table: `"users"`, or `"app"."users"` outside public. */
export function showTable(ref: TableRef): string {
  return ref.schema && ref.schema !== 'public' ? `${quoteIdent(ref.schema)}.${quoteIdent(ref.name)}` : quoteIdent(ref.name)
}

export function showColumn(ref: TableRef, column: string): string {
  return `${showTable(ref)}.${quoteIdent(column)}`
}

/** How effects name a table for programs: `users`, or `app.users` outside public. */
export function plainTable(ref: TableRef): string {
  return ref.schema && ref.schema !== 'public' ? `${ref.schema}.${ref.name}` : ref.name
}

/** One sub-command of an ALTER TABLE, with the table it applies to. */
export interface AlterCommand {
  table: TableRef
  cmd: AlterTableCmd
  stmt: AlterTableStmt
}

/** The sub-commands of an `ALTER TABLE` statement (not ALTER INDEX / VIEW / SEQUENCE, which share the node). */
export function alterTableCommands(node: Node): AlterCommand[] {
  const stmt = nodeAs(node, 'AlterTableStmt')
  if (!stmt || stmt.objtype !== 'OBJECT_TABLE') return []
  const table = tableOf(stmt.relation)
  if (!table) return []
  return (stmt.cmds ?? []).flatMap((item) => {
    const cmd = nodeAs(item, 'AlterTableCmd')
    return cmd ? [{ table, cmd, stmt }] : []
  })
}

/** The column an `ADD COLUMN` sub-command adds. */
export function addedColumn(cmd: AlterTableCmd): ColumnDef | undefined {
  return cmd.subtype === 'AT_AddColumn' ? nodeAs(cmd.def, 'ColumnDef') : undefined
}

/** The constraint an `ADD CONSTRAINT` sub-command adds. */
export function addedConstraint(cmd: AlterTableCmd): Constraint | undefined {
  return cmd.subtype === 'AT_AddConstraint' ? nodeAs(cmd.def, 'Constraint') : undefined
}

/** Constraints written inline on a column definition (NOT NULL, DEFAULT, REFERENCES, UNIQUE…). */
export function columnConstraints(column: ColumnDef): Constraint[] {
  return (column.constraints ?? []).flatMap((item) => {
    const constraint = nodeAs(item, 'Constraint')
    return constraint ? [constraint] : []
  })
}

export function columnConstraint(column: ColumnDef, type: ConstrType): Constraint | undefined {
  return columnConstraints(column).find((constraint) => constraint.contype === type)
}

/** Columns a table constraint names: its keys, or the referencing columns of a foreign key. */
/** The columns a CHECK's expression names, each once, in order. */
export function checkColumns(constraint: Constraint): string[] {
  const found = [...descendants(constraint.raw_expr)].flatMap((node) => names(nodeAs(node, 'ColumnRef')?.fields).slice(-1))
  return [...new Set(found)]
}

export function constraintColumns(constraint: Constraint): string[] {
  return constraint.contype === 'CONSTR_FOREIGN' ? names(constraint.fk_attrs) : names(constraint.keys)
}

/** The AND-ed terms of a condition: `a AND (b AND c)` → a, b, c. */
export function conjuncts(node: Node | undefined): Node[] {
  const bool = nodeAs(node, 'BoolExpr')
  if (bool?.boolop === 'AND_EXPR') return (bool.args ?? []).flatMap(conjuncts)
  return node ? [node] : []
}

/** The column of a CHECK that proves `column IS NOT NULL` (alone or as one AND-ed term), as PostgreSQL 12+ uses it. */
export function notNullCheckColumn(constraint: Constraint): string | undefined {
  if (constraint.contype !== 'CONSTR_CHECK') return undefined
  for (const term of conjuncts(constraint.raw_expr)) {
    const test = nodeAs(term, 'NullTest')
    if (test?.nulltesttype !== 'IS_NOT_NULL') continue
    const fields = names(nodeAs(test.arg, 'ColumnRef')?.fields)
    const column = fields[fields.length - 1]
    if (column !== undefined) return column
  }
  return undefined
}

/**
 * Whether a statement's option list turns an option on: `(FULL)`, `(FULL TRUE)`, `(FULL 1)` yes; `(FULL FALSE)`,
 * `(FULL off)`, `(FULL 0)` no (PostgreSQL's defGetBoolean). Absent: no.
 */
export function optionIsOn(options: Node[] | undefined, name: string): boolean {
  const option = (options ?? []).map((item) => nodeAs(item, 'DefElem')).find((element) => element?.defname === name)
  if (!option) return false
  if (option.arg === undefined) return true
  const text = nodeAs(option.arg, 'String')?.sval ?? nodeAs(option.arg, 'Boolean')?.boolval
  if (typeof text === 'boolean') return text
  if (text !== undefined) return !['false', 'off', 'no', 'f', 'n', '0'].includes(text.toLowerCase())
  const integer = nodeAs(option.arg, 'Integer')
  return integer === undefined || (integer.ival ?? 0) !== 0
}

/** A string constant's value (`'x'`, `'x'::type`), used to spot uses of a new enum value. */
export function stringConstant(node: Node): string | undefined {
  return nodeAs(node, 'A_Const')?.sval?.sval
}
