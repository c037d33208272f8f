import type { Node } from 'libpg-query'
import { nodeAs, nodeTag, descendants } from '../lint/nodes'
import { loadSqlParser, parseSql } from '../lint/parser'
import { SourceText } from '../sql/source'

/**
 * A rollback.sql cut into the statements `rollback` runs one by one inside its transaction. Running them one at a
 * time (rather than the file as one query) is what lets a failure name its statement and line even when PostgreSQL
 * gives no position (a lock timeout, a missing column found at execution).
 */
export interface RollbackStatement {
  /** The statement's text, without its `;`, exactly as in the file (comments inside it included). */
  sql: string
  /** 1-based line of its first word. */
  line: number
  /** UTF-8 byte offset of its first word in the file. */
  start: number
}

export interface ScriptProblem {
  line: number
  column?: number
  message: string
}

export interface RollbackScript {
  source: SourceText
  statements: RollbackStatement[]
  /** Syntax errors and statements that cannot run inside the rollback's transaction. */
  problems: ScriptProblem[]
}

/** Statements PostgreSQL refuses inside a transaction block, or that would end ours early. */
function transactionProblem(node: Node): string | undefined {
  const transaction = nodeAs(node, 'TransactionStmt')
  if (transaction) {
    return (
      `${transaction.kind?.replace('TRANS_STMT_', '').replace('_', ' ') ?? 'transaction control'} would end or ` +
      'split the transaction migrate-kit runs the whole rollback in; remove it (the rollback is atomic already)'
    )
  }
  const concurrently =
    nodeAs(node, 'IndexStmt')?.concurrent === true ||
    nodeAs(node, 'DropStmt')?.concurrent === true ||
    [...descendants(nodeAs(node, 'ReindexStmt')?.params)].some((item) => nodeAs(item, 'DefElem')?.defname === 'concurrently')
  if (concurrently) {
    return 'CONCURRENTLY cannot run inside a transaction block, and a rollback runs in one; drop the CONCURRENTLY'
  }
  const outside: Record<string, string> = {
    VacuumStmt: 'VACUUM',
    CreatedbStmt: 'CREATE DATABASE',
    DropdbStmt: 'DROP DATABASE',
    CreateTableSpaceStmt: 'CREATE TABLESPACE',
    DropTableSpaceStmt: 'DROP TABLESPACE',
    AlterSystemStmt: 'ALTER SYSTEM',
  }
  const statement = outside[nodeTag(node)]
  return statement ? `${statement} cannot run inside a transaction block, and a rollback runs in one` : undefined
}

/** Parses a rollback script; never throws for bad SQL (that becomes a problem with its line). */
export async function parseRollbackScript(text: string): Promise<RollbackScript> {
  await loadSqlParser()
  const source = new SourceText(text)
  const parsed = parseSql(source, false)
  const problems: ScriptProblem[] = parsed.errors.map((error) => {
    const { line, column } = source.positionAt(error.offset)
    return { line, column, message: `PostgreSQL cannot parse this: ${error.message}` }
  })
  const statements: RollbackStatement[] = []
  for (const statement of parsed.statements) {
    const line = source.lineAt(statement.start)
    const problem = transactionProblem(statement.node)
    if (problem) problems.push({ line, message: problem })
    statements.push({ sql: source.slice(statement.start, statement.end).trim(), line, start: statement.start })
  }
  problems.sort((a, b) => a.line - b.line)
  return { source, statements, problems }
}
