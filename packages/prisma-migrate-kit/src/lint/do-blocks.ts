import { parsePlPgSQLSync, type Node } from 'libpg-query'
import { parseSync } from 'pgsql-parser'
import { descendants, nodeAs } from './nodes'
import type { ParsedStatement } from './parser'
import type { SourceText } from '../sql/source'

/**
 * The SQL a `DO` block runs, found by PostgreSQL's own PL/pgSQL parser: its plain statements (`ALTER TABLE …;` in the
 * body) and `EXECUTE 'constant string'`. SQL built at run time (`EXECUTE format(…)`), another language, or a body
 * that does not parse cannot be linted: each such place is returned with the reason, so the file says so.
 */
export interface DoBlockContents {
  statements: ParsedStatement[]
  unlinted: UnlintedCode[]
}

export interface UnlintedCode {
  /** Byte offset in the file. */
  offset: number
  /** What cannot be seen, in words: `EXECUTE of a string built at run time (format('DROP TABLE %I', name))`. */
  what: string
}

/** Statements inside bodies inside bodies (`EXECUTE 'DO $x$ … $x$'`) stop here: nobody writes deeper by accident. */
const MAX_DEPTH = 3

/** The contents of a DO statement, or undefined when the statement is not one. */
export function doBlockContents(statement: ParsedStatement, source: SourceText, depth = 0): DoBlockContents | undefined {
  const block = nodeAs(statement.node, 'DoStmt')
  if (!block) return undefined
  const options = new Map(
    (block.args ?? []).flatMap((arg) => {
      const element = nodeAs(arg, 'DefElem')
      return element?.defname ? [[element.defname, element] as const] : []
    }),
  )
  const body = options.get('as')
  const bodyText = nodeAs(body?.arg, 'String')?.sval ?? ''
  // The body's first line is the line of its opening quote; PL/pgSQL counts lines from there.
  const bodyOffset = statement.base + (body?.location ?? statement.start - statement.base)
  const language = nodeAs(options.get('language')?.arg, 'String')?.sval?.toLowerCase() ?? 'plpgsql'
  if (language !== 'plpgsql') {
    return { statements: [], unlinted: [{ offset: statement.start, what: `a DO block in LANGUAGE ${language}` }] }
  }
  if (depth >= MAX_DEPTH) return { statements: [], unlinted: [{ offset: statement.start, what: 'a DO block nested this deep' }] }
  let tree: unknown
  try {
    tree = parsePlPgSQLSync(asFunction(bodyText))
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    return { statements: [], unlinted: [{ offset: statement.start, what: `a DO block PL/pgSQL cannot parse (${reason})` }] }
  }
  const contents: DoBlockContents = { statements: [], unlinted: [] }
  const firstLine = source.lineAt(bodyOffset)
  for (const found of plpgsqlStatements(tree)) {
    const lineStart = source.lineStart(firstLine + found.lineno - 1)
    const located = source.bytes.indexOf(Buffer.from(found.text, 'utf8'), lineStart)
    // Text not found verbatim (a body in '…' with doubled quotes): the line itself is still right.
    const offset = located === -1 ? lineStart : located
    const sql = found.kind === 'sql' ? found.text : constantString(found.text)
    if (sql === undefined) {
      contents.unlinted.push({ offset, what: `EXECUTE of a string built at run time (${shorten(found.text)})` })
      continue
    }
    // A constant's statement starts one byte in, after its quote (exact unless it holds doubled quotes).
    const base = found.kind === 'sql' ? offset : offset + 1
    let stmts
    try {
      stmts = parseSync(sql).stmts ?? []
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      contents.unlinted.push({ offset, what: `a statement the SQL parser cannot read (${reason})` })
      continue
    }
    for (const raw of stmts) {
      if (!raw.stmt) continue
      const start = base + (raw.stmt_location ?? 0)
      const inner: ParsedStatement = {
        node: raw.stmt,
        start,
        end: raw.stmt_len ? start + raw.stmt_len : base + Buffer.byteLength(sql),
        base,
      }
      contents.statements.push(inner)
      const nested = doBlockContents(inner, source, depth + 1)
      if (nested) {
        contents.statements.push(...nested.statements)
        contents.unlinted.push(...nested.unlinted)
      }
    }
  }
  return contents
}

/** A DO body is parsed as the body of a function (PL/pgSQL has no entry point for DO), under a quote it cannot hold. */
function asFunction(body: string): string {
  let tag = 'mk'
  while (body.includes(`$${tag}$`)) tag += 'x'
  return `CREATE FUNCTION migrate_kit_do_block() RETURNS void LANGUAGE plpgsql AS $${tag}$${body}$${tag}$`
}

interface FoundStatement {
  kind: 'sql' | 'execute'
  /** 1-based line in the body. */
  lineno: number
  /** The statement's text, or EXECUTE's expression. */
  text: string
}

/** Plain SQL statements and EXECUTE expressions anywhere in the PL/pgSQL tree (IF, loops, nested blocks, handlers). */
function plpgsqlStatements(tree: unknown): FoundStatement[] {
  const found: FoundStatement[] = []
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(visit)
      return
    }
    if (value === null || typeof value !== 'object') return
    const record = value as Record<string, unknown>
    const execsql = record.PLpgSQL_stmt_execsql as { lineno?: number; sqlstmt?: { PLpgSQL_expr?: { query?: string } } } | undefined
    const query = execsql?.sqlstmt?.PLpgSQL_expr?.query
    if (execsql && query !== undefined) found.push({ kind: 'sql', lineno: execsql.lineno ?? 1, text: query })
    const dynexecute = record.PLpgSQL_stmt_dynexecute as { lineno?: number; query?: { PLpgSQL_expr?: { query?: string } } } | undefined
    const expression = dynexecute?.query?.PLpgSQL_expr?.query
    if (dynexecute && expression !== undefined) found.push({ kind: 'execute', lineno: dynexecute.lineno ?? 1, text: expression })
    Object.values(record).forEach(visit)
  }
  visit(tree)
  return found.sort((a, b) => a.lineno - b.lineno)
}

/** The value of an expression that is one string constant (`'DROP TABLE x'`, `$q$…$q$`), else undefined. */
function constantString(expression: string): string | undefined {
  let stmts
  try {
    stmts = parseSync(`SELECT ${expression}`).stmts ?? []
  } catch {
    return undefined
  }
  const target = [...descendants(stmts[0]?.stmt)].find((node: Node) => nodeAs(node, 'ResTarget'))
  const value = nodeAs(nodeAs(target, 'ResTarget')?.val, 'A_Const')
  return stmts.length === 1 ? value?.sval?.sval : undefined
}

function shorten(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > 80 ? `${line.slice(0, 77)}…` : line
}
