import { SourceText } from './source'

/** A statement as a file holds it: its text (without its `;`), the line and the UTF-8 byte offset of its first word. */
export interface StatementInFile {
  sql: string
  line: number
  start: number
}

/** What node-postgres gives for a server error (pg's DatabaseError), as far as a report uses it. */
export interface PostgresErrorFields {
  message: string
  code?: string
  detail?: string
  hint?: string
  /** 1-based, in characters of the statement text sent. */
  position?: string
  where?: string
}

export function isPostgresError(error: unknown): error is Error & PostgresErrorFields {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string' && 'severity' in error
}

/** A failed statement located in its file, graphile-migrate style: file:line:column, the lines, a caret. */
export interface SqlErrorReport {
  /** Relative to the project root. */
  file: string
  line: number
  column: number
  code?: string
  message: string
  detail?: string
  hint?: string
  /** The whole report for a terminal. */
  text: string
}

const CONTEXT_LINES = 2

/**
 * Locates PostgreSQL's error in the file: its position (when the server gives one) counts characters of the
 * statement we sent, which starts at statement.start in the file; without one, the statement's first word.
 */
export function sqlErrorReport(file: string, source: SourceText, statement: StatementInFile, error: PostgresErrorFields): SqlErrorReport {
  const position = Number(error.position)
  const offset =
    Number.isInteger(position) && position > 0
      ? statement.start + SourceText.byteOffsetOfCodePoint(statement.sql, position - 1)
      : statement.start
  const { line, column } = source.positionAt(offset)
  const lines = source.text.split('\n')
  const width = String(line).length
  const excerpt: string[] = []
  for (let number = Math.max(statement.line, line - CONTEXT_LINES); number <= line; number++) {
    excerpt.push(`  ${String(number).padStart(width)} | ${(lines[number - 1] ?? '').replace(/\r$/, '')}`)
  }
  excerpt.push(`  ${' '.repeat(width)} | ${' '.repeat(Math.max(0, column - 1))}^`)
  const text = [
    `${file}:${line}:${column}: ${error.code ? `PostgreSQL error ${error.code}: ` : ''}${error.message}`,
    ...excerpt,
    ...(error.detail ? [`  detail: ${error.detail}`] : []),
    ...(error.hint ? [`  hint: ${error.hint}`] : []),
    ...(error.where ? [`  where: ${error.where}`] : []),
  ].join('\n')
  return { file, line, column, code: error.code, message: error.message, detail: error.detail, hint: error.hint, text }
}
