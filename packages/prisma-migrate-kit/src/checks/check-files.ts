import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { nodeAs } from '../lint/nodes'
import { loadSqlParser, parseSql } from '../lint/parser'
import { SourceText } from '../sql/source'
import { relativePath, type Project } from '../project'

/**
 * An integrity check: prisma/checks/<name>.sql holds one SELECT whose rows are violations. The comment it opens with
 * says what a violation is; it is what the report shows next to the name.
 */
export interface CheckFile {
  name: string
  /** Relative to the project root. */
  file: string
  description: string
  source: SourceText
  /** The query as it runs (without its `;`), when the file holds exactly one SELECT. */
  query?: { sql: string; start: number; line: number }
  /** Why the file cannot run, with the line it points at. */
  problem?: { line: number; column?: number; message: string }
}

export function checkFilePaths(project: Project): string[] {
  if (!existsSync(project.checksDir)) return []
  return readdirSync(project.checksDir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.sql') && !entry.name.startsWith('.'))
    .map((entry) => path.join(project.checksDir, entry.name))
    .sort()
}

/** Every prisma/checks/*.sql, parsed; never throws for bad SQL (that becomes the file's problem, with its line). */
export async function loadCheckFiles(project: Project): Promise<CheckFile[]> {
  await loadSqlParser()
  return checkFilePaths(project).map((file) => parseCheckFile(relativePath(project, file), readFileSync(file, 'utf8')))
}

export function parseCheckFile(file: string, text: string): CheckFile {
  const source = new SourceText(text)
  const name = path.basename(file, '.sql')
  const base = { name, file, description: leadingComment(text), source }
  const parsed = parseSql(source, false)
  const error = parsed.errors[0]
  if (error) {
    const { line, column } = source.positionAt(error.offset)
    return { ...base, problem: { line, column, message: `PostgreSQL cannot parse this: ${error.message}` } }
  }
  const [statement, extra] = parsed.statements
  if (!statement) return { ...base, problem: { line: 1, message: 'the file holds no query: write one SELECT whose rows are violations' } }
  const line = source.lineAt(statement.start)
  if (extra) {
    return { ...base, problem: { line: source.lineAt(extra.start), message: 'a check is one SELECT: this is a second statement' } }
  }
  if (!nodeAs(statement.node, 'SelectStmt')) {
    return { ...base, problem: { line, message: 'a check is one SELECT (or WITH … SELECT) whose rows are violations; it never writes' } }
  }
  return { ...base, query: { sql: source.slice(statement.start, statement.end).trim(), start: statement.start, line } }
}

/** The comment lines the file opens with, joined: `-- …` lines, or a block comment. */
function leadingComment(text: string): string {
  const trimmed = text.replace(/^\uFEFF/, '').trimStart()
  if (trimmed.startsWith('/*')) {
    const end = trimmed.indexOf('*/')
    return clean(
      trimmed
        .slice(2, end === -1 ? undefined : end)
        .split('\n')
        .map((line) => line.replace(/^\s*\*?\s?/, '')),
    )
  }
  const lines: string[] = []
  for (const line of trimmed.split('\n')) {
    const match = /^\s*--\s?(.*)$/.exec(line)
    if (!match) break
    lines.push(match[1])
  }
  return clean(lines)
}

function clean(lines: string[]): string {
  return lines
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' ')
}
