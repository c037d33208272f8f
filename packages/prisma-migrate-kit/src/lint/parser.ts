import { loadModule, parseSync } from 'pgsql-parser'
// pgsql-parser re-exports libpg-query's parser but not its scanner; the scanner is the same PostgreSQL lexer, and
// the only reliable way to find comments and statement boundaries (strings, $$ bodies, nested /* */) without
// re-implementing SQL lexing with regular expressions.
import { scanSync, type Node, type RawStmt, type ScanToken } from 'libpg-query'
import { SourceText } from '../sql/source'

/** One statement as the parser found it. All offsets are UTF-8 byte offsets into the whole file. */
export interface ParsedStatement {
  node: Node
  /** The statement's first word (PostgreSQL 18's grammar skips leading comments). */
  start: number
  /** Just past the statement's last character, before its `;`. */
  end: number
  /** Node `location`s of this statement count from here (a piece re-parsed alone after a syntax error). */
  base: number
}

/** A piece of the file PostgreSQL's grammar rejects. */
export interface ParsedSyntaxError {
  /** PostgreSQL's own message, e.g. `syntax error at or near "SELEC"`. */
  message: string
  /** Byte offset PostgreSQL's error cursor points at. */
  offset: number
  /** Byte range of the statement it belongs to, so it still counts as a statement of the file. */
  statementStart: number
  statementEnd: number
}

export interface SqlComment {
  start: number
  end: number
  /** The comment with its `--` or `/* … *\/` markers. */
  text: string
}

/** A comment's text without its `--` or `/* … *\/` markers, trimmed. */
export function commentBody(comment: SqlComment): string {
  return (comment.text.startsWith('/*') ? comment.text.slice(2, -2) : comment.text.slice(2)).trim()
}

export interface ParsedSql {
  statements: ParsedStatement[]
  errors: ParsedSyntaxError[]
  comments: SqlComment[]
}

let loading: Promise<void> | undefined

/** Loads the WebAssembly parser once per process (15–30 ms); every parse after that is synchronous. */
export function loadSqlParser(): Promise<void> {
  loading ??= loadModule()
  return loading
}

interface SqlErrorLike extends Error {
  sqlDetails: { cursorPosition: number; message: string }
}

function isSqlError(error: unknown): error is SqlErrorLike {
  if (!(error instanceof Error) || !('sqlDetails' in error)) return false
  const details = (error as { sqlDetails?: { cursorPosition?: unknown } }).sqlDetails
  return typeof details?.cursorPosition === 'number'
}

const SEMICOLON = 'ASCII_59'
const COMMENT_TOKENS = new Set(['SQL_COMMENT', 'C_COMMENT'])

/**
 * Parses a migration file. A file PostgreSQL rejects is cut at the scanner's top-level `;` tokens and each piece is
 * parsed alone, so one bad statement costs only itself: the others are still linted and every bad piece is reported
 * with PostgreSQL's message. Comments are collected only when `withComments` (scanning costs about as much as
 * parsing, and only ignore comments need them).
 */
export function parseSql(source: SourceText, withComments: boolean): ParsedSql {
  if (source.text.trim() === '') return { statements: [], errors: [], comments: [] }
  let raw: RawStmt[]
  try {
    raw = parseSync(source.text).stmts ?? []
  } catch (error) {
    if (!isSqlError(error)) throw error
    return recoverStatements(source, error)
  }
  const statements = raw.flatMap((stmt) => toStatement(stmt, 0, source.byteLength))
  const comments = withComments ? commentsOf(scanTokens(source.text) ?? [], 0) : []
  return { statements, errors: [], comments }
}

function toStatement(raw: RawStmt, base: number, pieceEnd: number): ParsedStatement[] {
  if (!raw.stmt) return []
  // A missing stmt_location means 0 and a missing stmt_len means "to the end" (protobuf omits zero values).
  const start = base + (raw.stmt_location ?? 0)
  const end = raw.stmt_len ? start + raw.stmt_len : pieceEnd
  return [{ node: raw.stmt, start, end, base }]
}

/** The scanner's tokens, or undefined when it rejects the text (an unterminated string or comment). */
function scanTokens(text: string): ScanToken[] | undefined {
  try {
    return scanSync(text).tokens ?? []
  } catch {
    return undefined
  }
}

function commentsOf(tokens: ScanToken[], base: number): SqlComment[] {
  return tokens
    .filter((token) => COMMENT_TOKENS.has(token.tokenName))
    .map((token) => ({ start: base + token.start, end: base + token.end, text: token.text }))
}

function errorOffset(pieceText: string, pieceStart: number, error: SqlErrorLike): number {
  return pieceStart + SourceText.byteOffsetOfCodePoint(pieceText, error.sqlDetails.cursorPosition)
}

function recoverStatements(source: SourceText, fileError: SqlErrorLike): ParsedSql {
  const fileErrorOffset = errorOffset(source.text, 0, fileError)
  // The scanner fails on what the lexer rejects (an unterminated quote swallows the rest of the file); then only
  // the text before the error can be split.
  const tokens = scanTokens(source.text) ?? scanTokens(source.slice(0, fileErrorOffset)) ?? []
  // Token offsets count from the start of the file, like every offset here.
  const pieces: Piece[] = []
  let current: ScanToken[] = []
  let pieceStart = 0
  for (const token of tokens) {
    if (token.tokenName === SEMICOLON) {
      pieces.push({ start: pieceStart, end: token.start, tokens: current })
      pieceStart = token.end
      current = []
    } else {
      current.push(token)
    }
  }
  pieces.push({ start: pieceStart, end: source.byteLength, tokens: current })

  const parsed: ParsedSql = { statements: [], errors: [], comments: commentsOf(tokens, 0) }
  let index = 0
  while (index < pieces.length) {
    const piece = pieces[index]
    const text = source.slice(piece.start, piece.end)
    index++
    if (text.trim() === '') continue
    const attempt = tryParse(text)
    if ('stmts' in attempt) {
      for (const raw of attempt.stmts) parsed.statements.push(...toStatement(raw, piece.start, piece.end))
      continue
    }
    const offset = errorOffset(text, piece.start, attempt.error)
    // "at end of input": the `;` that ended the piece may sit inside a construct (BEGIN ATOMIC … END): retry with
    // the following pieces joined on, and keep the joined statement only if it then parses.
    if (offset >= piece.start + Buffer.byteLength(text.trimEnd())) {
      const joined = joinFollowing(source, pieces, index - 1)
      if (joined) {
        parsed.statements.push(...joined.statements)
        index = joined.next
        continue
      }
    }
    const firstWord = piece.tokens.find((token) => !COMMENT_TOKENS.has(token.tokenName))
    parsed.errors.push({
      message: shorten(attempt.error.sqlDetails.message || attempt.error.message),
      offset,
      statementStart: firstWord?.start ?? piece.start,
      statementEnd: piece.end,
    })
  }
  if (parsed.errors.length === 0) {
    // Every piece parsed alone although the whole did not (a `;` inside a construct the split cannot see, such as
    // BEGIN ATOMIC … END): report PostgreSQL's error for the file and keep what the pieces gave.
    parsed.errors.push({
      message: shorten(fileError.sqlDetails.message || fileError.message),
      offset: fileErrorOffset,
      statementStart: fileErrorOffset,
      statementEnd: fileErrorOffset,
    })
  }
  return parsed
}

type Piece = { start: number; end: number; tokens: ScanToken[] }

function tryParse(text: string): { stmts: RawStmt[] } | { error: SqlErrorLike } {
  try {
    return { stmts: parseSync(text).stmts ?? [] }
  } catch (error) {
    if (!isSqlError(error)) throw error
    return { error }
  }
}

/** Joins pieces[first] with the pieces after it until the text parses; stops at an error that is not at the end. */
function joinFollowing(source: SourceText, pieces: Piece[], first: number): { statements: ParsedStatement[]; next: number } | undefined {
  const start = pieces[first].start
  for (let last = first + 1; last < pieces.length; last++) {
    const end = pieces[last].end
    const text = source.slice(start, end)
    const attempt = tryParse(text)
    if ('stmts' in attempt) {
      return { statements: attempt.stmts.flatMap((raw) => toStatement(raw, start, end)), next: last + 1 }
    }
    if (errorOffset(text, start, attempt.error) < start + Buffer.byteLength(text.trimEnd())) return undefined
  }
  return undefined
}

/** PostgreSQL quotes the rest of the input after an unterminated string: keep messages readable. */
function shorten(message: string): string {
  return message.length > 160 ? `${message.slice(0, 157)}…` : message
}
