import type { Node } from 'libpg-query'
import { deparseSync } from 'pgsql-parser'
import { names, nodeAs, refOfNames, tableKey, tableOf, droppedRefs, type TableRef } from '../lint/nodes'
import { loadSqlParser, parseSql, type ParsedStatement } from '../lint/parser'
import { SourceText } from '../sql/source'

/**
 * Prisma's `migrate diff --script` is written for a database its engine models, and some of what it prints for a
 * rollback does not run on PostgreSQL. What we know how to mend is mended here, each mend named so the rollback's
 * header can say what was changed and why; the trial run (trial.ts) then proves the result runs.
 */
export interface ScriptRepair {
  /** What was changed, for a person: `CREATE INDEX "T_h_idx" … USING hash: ASC/DESC removed …`. */
  description: string
}

export interface RepairedScript {
  script: string
  repairs: ScriptRepair[]
}

interface Edit {
  start: number
  end: number
  replacement: string
  /** Removing the statement: its `;` and the rest of its line go too. */
  wholeLine: boolean
}

/** Access methods whose indexes keep an order: only they take ASC/DESC and NULLS FIRST/LAST on their columns. */
const ORDERED_ACCESS_METHODS = new Set(['btree'])

export async function repairDiffScript(script: string): Promise<RepairedScript> {
  await loadSqlParser()
  const source = new SourceText(script)
  const { statements } = parseSql(source, false)
  const edits: Edit[] = []
  const moved: string[] = []
  const repairs: ScriptRepair[] = []
  const text = (statement: ParsedStatement) => source.slice(statement.start, statement.end).trim()
  const firstLine = (statement: ParsedStatement) => text(statement).split('\n')[0].trim()
  const remove = (statement: ParsedStatement) =>
    edits.push({ start: statement.start, end: statement.end, replacement: '', wholeLine: true })

  const renamedTypes = new Set<string>()
  for (const [index, statement] of statements.entries()) {
    const node = statement.node
    // Prisma wraps an enum swap in BEGIN … COMMIT; `rollback` runs the file in one transaction of its own, which a
    // COMMIT in the middle would end early.
    if (nodeAs(node, 'TransactionStmt')) {
      remove(statement)
      continue
    }
    const unordered = unorderedIndex(node)
    if (unordered) {
      edits.push({ start: statement.start, end: statement.end, replacement: unordered.sql, wholeLine: false })
      repairs.push({
        description:
          `${firstLine(statement)}: ASC/DESC removed from its columns; Prisma's diff writes them, but only btree indexes ` +
          `keep an order (PostgreSQL: access method "${unordered.method}" does not support ASC/DESC options)`,
      })
      continue
    }
    const renamed = nodeAs(node, 'RenameStmt')
    if (renamed?.renameType === 'OBJECT_TYPE' && renamed.newname) {
      const parts = names(nodeAs(renamed.object, 'List')?.items)
      renamedTypes.add(typeKey([...parts.slice(0, -1), renamed.newname]))
      continue
    }
    const dropped = nodeAs(node, 'DropStmt')
    if (dropped?.removeType === 'OBJECT_TYPE' && index < statements.length - 1) {
      const types = (dropped.objects ?? []).map((object) => typeKey(names(nodeAs(object, 'TypeName')?.names)))
      if (types.length > 0 && types.every((type) => renamedTypes.has(type))) {
        remove(statement)
        moved.push(`${text(statement)};`)
        repairs.push({
          description:
            `${firstLine(statement)}: moved to the end; Prisma's diff drops the enum it swapped out before the statements ` +
            'that remove the columns still using it (PostgreSQL: cannot drop type … because other objects depend on it)',
        })
      }
      continue
    }
    const altered = swapOfMissingTable(node, statements.slice(index + 1))
    if (altered) {
      remove(statement)
      repairs.push({
        description:
          `${firstLine(statement)}: removed; table ${altered} does not exist yet at that point (a CREATE TABLE further ` +
          'down makes it, with the new type already)',
      })
    }
  }
  if (edits.length === 0) return { script, repairs }
  let repaired = applyEdits(source, edits)
  if (moved.length > 0) repaired = `${repaired.replace(/\s*$/, '\n')}\n${moved.join('\n')}\n`
  return { script: repaired, repairs }
}

function typeKey(parts: string[]): string {
  const ref = refOfNames(parts)
  return ref ? tableKey(ref) : parts.join('.')
}

/** A CREATE INDEX with a non-btree access method and ordered columns, as it should read. */
function unorderedIndex(node: Node): { sql: string; method: string } | undefined {
  const index = nodeAs(node, 'IndexStmt')
  const method = index?.accessMethod ?? 'btree'
  if (!index || ORDERED_ACCESS_METHODS.has(method)) return undefined
  const ordered = (index.indexParams ?? []).some((param) => {
    const element = nodeAs(param, 'IndexElem')
    return (
      (element?.ordering ?? 'SORTBY_DEFAULT') !== 'SORTBY_DEFAULT' ||
      (element?.nulls_ordering ?? 'SORTBY_NULLS_DEFAULT') !== 'SORTBY_NULLS_DEFAULT'
    )
  })
  if (!ordered) return undefined
  const fixed = structuredClone(index)
  for (const param of fixed.indexParams ?? []) {
    const element = nodeAs(param, 'IndexElem')
    if (!element) continue
    delete element.ordering
    delete element.nulls_ordering
  }
  return { sql: deparseSync({ version: 0, stmts: [{ stmt: { IndexStmt: fixed } }] }), method }
}

/**
 * An enum swap's `ALTER TABLE t ALTER COLUMN c TYPE …` (or its DROP/SET DEFAULT) where t does not exist yet: a
 * later statement creates t, and nothing drops it in between (else that CREATE TABLE would fail). Returns t.
 */
function swapOfMissingTable(node: Node, following: ParsedStatement[]): string | undefined {
  const stmt = nodeAs(node, 'AlterTableStmt')
  const table = tableOf(stmt?.relation)
  if (!stmt || stmt.objtype !== 'OBJECT_TABLE' || !table) return undefined
  const swapOnly = (stmt.cmds ?? []).every((cmd) => {
    const subtype = nodeAs(cmd, 'AlterTableCmd')?.subtype
    return subtype === 'AT_AlterColumnType' || subtype === 'AT_ColumnDefault'
  })
  if (!swapOnly) return undefined
  const same = (ref: TableRef) => tableKey(ref) === tableKey(table)
  for (const later of following) {
    if (
      droppedRefs(nodeAs(later.node, 'DropStmt')?.removeType === 'OBJECT_TABLE' ? nodeAs(later.node, 'DropStmt')?.objects : []).some(same)
    )
      return undefined
    const created = tableOf(nodeAs(later.node, 'CreateStmt')?.relation)
    if (created && same(created)) return tableKey(table)
  }
  return undefined
}

function applyEdits(source: SourceText, edits: Edit[]): string {
  const bytes = Buffer.from(source.text, 'utf8')
  const kept: Buffer[] = []
  let from = 0
  for (const edit of [...edits].sort((a, b) => a.start - b.start)) {
    kept.push(bytes.subarray(from, edit.start), Buffer.from(edit.replacement, 'utf8'))
    let next = edit.end
    if (edit.wholeLine) {
      // The statement's `;` and the blanks and newline after it go too; anything else on that line stays.
      const skip = (accept: (byte: number) => boolean) => {
        while (next < bytes.length && accept(bytes[next])) next++
      }
      skip((byte) => byte === 0x20 || byte === 0x09)
      if (bytes[next] === 0x3b) next++
      skip((byte) => byte === 0x20 || byte === 0x09 || byte === 0x0d)
      if (bytes[next] === 0x0a) next++
    }
    from = next
  }
  kept.push(bytes.subarray(from))
  return Buffer.concat(kept).toString('utf8')
}
