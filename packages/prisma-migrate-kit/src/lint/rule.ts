import type { Node } from 'libpg-query'
import type { ParsedStatement } from './parser'
import type { SchemaHistory } from './schema'
import type { TableRef } from './nodes'
import type { LockMode, TableLock } from './locks'
import type { TableWork } from './table-size'

export type Level = 'error' | 'warning'

export interface LintSettings {
  /** Major version of the production PostgreSQL: decides the rules that changed with 11, 12 and 14. */
  postgresVersion: number
  /** The longest lock_timeout a migration may set (timeout-too-long). */
  maxLockTimeoutMs: number
  /** The longest statement_timeout a migration may set; undefined: only 0 (off) is reported. */
  maxStatementTimeoutMs?: number
}

export const DEFAULT_SETTINGS: LintSettings = { postgresVersion: 14, maxLockTimeoutMs: 10_000 }

/** What the engine knows about the migration file while it walks its statements in order. */
export interface FileState {
  /** The migration's folder name (or the file's path for a file outside prisma/migrations). */
  migration: string
  /** Statements in the file, the unparseable ones included. */
  statementCount: number
  /** Inside an explicit BEGIN … COMMIT written in the file. */
  explicitTransaction: boolean
  /** Inside a DO block's body: a function, which always runs inside a transaction. */
  inFunctionBody: boolean
  /** Table locks the transaction running this statement already holds (table key → mode): a COMMIT releases them. */
  heldLocks: Map<string, LockMode>
  /** A `SET lock_timeout` with a non-zero value ran before this statement. */
  lockTimeoutSet: boolean
  /** Enum values added by earlier statements of this file: value → the type's name as written. */
  enumValuesAdded: Map<string, string>
}

/** One statement as a rule sees it: the statement, the file so far, and the schema as it was before it. */
export interface StatementContext {
  node: Node
  statement: ParsedStatement
  file: FileState
  /** The schema before this statement (the migration's earlier statements applied). */
  schema: SchemaHistory
  settings: LintSettings
  /** The statements after this one in the file (parsed ones), for rules about how the file ends. */
  following: readonly Node[]
  /** The table locks the statement takes (statementLocks), computed once for every rule. */
  locks: readonly TableLock[]
}

/**
 * Whether the statement runs inside a transaction: inside BEGIN, or (Prisma applies a migration file as one script,
 * which PostgreSQL runs as one implicit transaction) in a file of more than one statement.
 */
export function inTransaction(context: StatementContext): boolean {
  return context.file.explicitTransaction || context.file.inFunctionBody || context.file.statementCount > 1
}

/** Where the statement's transaction comes from, for messages: `inside the BEGIN … COMMIT block of this file`. */
export function transactionPlace(context: StatementContext): string {
  if (context.file.inFunctionBody) return 'inside a DO block (a function body, which always runs in a transaction)'
  if (context.file.explicitTransaction) return 'inside the BEGIN … COMMIT block of this file'
  return `in a migration file of ${context.file.statementCount} statements, which Prisma runs as one transaction`
}

/** A table from an earlier migration or from before the history: it may be large, and running code uses it. */
export function isExisting(context: StatementContext, table: TableRef | undefined): boolean {
  return table === undefined || !context.schema.createdIn(table, context.file.migration)
}

/**
 * Whether the table may hold rows when the statement runs: an existing table, or one this migration created and then
 * filled (INSERT, COPY, CREATE TABLE … AS). What decides whether a NOT NULL column without a value fails.
 */
export function mayHaveRows(context: StatementContext, table: TableRef): boolean {
  return isExisting(context, table) || context.schema.table(table)?.filledIn === context.file.migration
}

/** A column this migration added: running code has never read or written it. */
export function isNewColumn(context: StatementContext, table: TableRef, column: string): boolean {
  return context.schema.column(table, column)?.createdIn === context.file.migration
}

export interface RuleFinding {
  /** The consequence: the lock taken and what it blocks, or the running code it breaks. */
  message: string
  /** The safe multi-step recipe. */
  help: string
  /** A node's `location` inside the statement, for a more precise line than the statement's first word. */
  location?: number
  /** Overrides the rule's level when this case is less (or more) certain than the rule's usual one. */
  level?: Level
  /** The table whose every row the statement rewrites, reads, indexes or writes: its real size can set the level. */
  sized?: { table: TableRef; work: TableWork }
}

/** One migration.sql, or a history of them in order (for rules that depend on what earlier migrations did). */
export type Example = string | string[]

export interface Rule {
  /** kebab-case, as findings and ignore comments name it. */
  name: string
  level: Level
  /** One line for documentation and `--help`. */
  summary: string
  /** Migrations that must produce this rule, and ones that must not (tests run every rule over its own). */
  examples: { fail: Example[]; pass: Example[] }
  /** Settings its examples are linted with, when the rule depends on the PostgreSQL version. */
  exampleSettings?: Partial<LintSettings>
  /** Reported at most once per migration file (at the first statement), for rules about the file as a whole. */
  oncePerFile?: boolean
  check(context: StatementContext): RuleFinding[]
}

/** Gives a rule its type without a class: `export const banDropTable = defineRule({...})`. */
export function defineRule(rule: Rule): Rule {
  return rule
}
