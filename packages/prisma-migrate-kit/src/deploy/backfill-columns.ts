import type { Node, RangeVar } from 'libpg-query'
import { isSqlUpdateBackfill, type Backfill } from '../backfill/definition'
import { fragmentText } from '../backfill/sql'
import { parseSync } from 'pgsql-parser'
import { descendants, names, nodeAs, plainTable, tableOf } from '../lint/nodes'
import { loadSqlParser } from '../lint/parser'

/**
 * The columns a backfill touches, by table, as the deploy gate matches them against what a migration drops or
 * tightens. A contract migration that drops a column the backfill reads, or makes NOT NULL a column it writes, must
 * wait for it even when nobody wrote `before:`.
 */
export interface BackfillColumns {
  /** The backfill's table as lint effects name tables: `users`, or `app.users` outside public. */
  table: string
  /** Columns of `table` it writes: the SET list, and the snapshot columns (a process() backfill's declared writes). */
  writes: string[]
  /** Every (table, column) its update and where read; columns of subqueries are given their own table. */
  reads: Array<{ table: string; column: string }>
}

type SelectNode = NonNullable<Extract<Node, { SelectStmt: unknown }>['SelectStmt']>

/** Reads the backfill's SQL with PostgreSQL's grammar; what does not parse contributes nothing (EXPLAIN says why). */
export async function backfillColumns(definition: Backfill): Promise<BackfillColumns> {
  await loadSqlParser()
  const where = definition.where ? ` WHERE ${fragmentText(definition.where)}` : ''
  const text = isSqlUpdateBackfill(definition)
    ? `UPDATE ${definition.table} SET ${fragmentText(definition.update)}${where}`
    : `SELECT 1 FROM ${definition.table}${where}`
  const statement = parseOne(text)
  const update = statement ? nodeAs(statement, 'UpdateStmt') : undefined
  const select = statement ? nodeAs(statement, 'SelectStmt') : undefined
  const relation = update?.relation ?? firstRelation(select)
  const table = relation ? plainTable(tableOf(relation) ?? { name: definition.table }) : definition.table
  const writes = new Set(definition.snapshot ?? [])
  for (const target of update?.targetList ?? []) {
    const name = nodeAs(target, 'ResTarget')?.name
    if (name) writes.add(name)
  }
  return { table, writes: [...writes], reads: statement ? columnReads(statement, table, relation) : [] }
}

function parseOne(text: string): Node | undefined {
  try {
    const parsed = parseSync(text) as { stmts?: Array<{ stmt?: Node }> }
    return parsed.stmts?.length === 1 ? parsed.stmts[0]?.stmt : undefined
  } catch {
    return undefined
  }
}

function firstRelation(select: SelectNode | undefined): RangeVar | undefined {
  const from = select?.fromClause?.[0]
  return from ? nodeAs(from, 'RangeVar') : undefined
}

/**
 * Column references, each given a table: a qualifier is an alias or a table name; an unqualified column belongs to
 * the backfill's own table (the statement's target), which is what PostgreSQL picks when a subquery's tables have no
 * column of that name. Subquery columns named without a qualifier are also counted on every table of the statement:
 * for a gate, waiting on one column too many costs nothing once the backfill is done.
 */
function columnReads(statement: Node, table: string, relation: RangeVar | undefined): Array<{ table: string; column: string }> {
  const aliases = new Map<string, string>()
  const tables = new Set<string>([table])
  const remember = (range: RangeVar) => {
    const ref = tableOf(range)
    if (!ref) return
    const name = plainTable(ref)
    tables.add(name)
    aliases.set(range.alias?.aliasname ?? ref.name, name)
  }
  if (relation) remember(relation)
  for (const node of descendants(statement)) {
    const range = nodeAs(node, 'RangeVar')
    if (range) remember(range)
  }
  const reads = new Map<string, { table: string; column: string }>()
  const add = (owner: string, column: string) => reads.set(`${owner}\u0000${column}`, { table: owner, column })
  for (const node of descendants(statement)) {
    const fields = names(nodeAs(node, 'ColumnRef')?.fields)
    const column = fields.at(-1)
    if (column === undefined) continue
    if (fields.length >= 2) {
      const qualifier = fields.at(-2)!
      add(aliases.get(qualifier) ?? qualifier, column)
      continue
    }
    add(table, column)
    if (tables.size > 1) for (const other of tables) add(other, column)
  }
  return [...reads.values()]
}
