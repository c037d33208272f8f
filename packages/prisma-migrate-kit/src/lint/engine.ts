import type { Node } from 'libpg-query'
import { statementEffects, type Effect, type Phase } from './effects'
import { phaseOf } from './phase'
import { acknowledgementOf, mayHoldIgnores, readSuppressions, unmatchedForeign, type Suppressions, type Unit } from './ignores'
import type { ForeignIgnore } from './foreign-ignores'
import { INVALID_IGNORE, META_RULES, SYNTAX_ERROR, UNLINTED_CODE } from './meta-rules'
import { doBlockContents } from './do-blocks'
import { names, nodeAs, refOfNames, showTable, tableKey, type TableRef } from './nodes'
import type { TableSize, TableWork } from './table-size'
import { timeoutSettings } from './timeout-settings'
import { LOCK_STRENGTH, statementLocks, type TableLock } from './locks'
import { loadSqlParser, parseSql, type ParsedStatement, type ParsedSyntaxError } from './parser'
import { errorMessage } from '../errors'
import { DEFAULT_SETTINGS, type FileState, type Level, type LintSettings, type Rule, type RuleFinding, type StatementContext } from './rule'
import { RULES } from './rules'
import { SchemaHistory } from './schema'
import { SourceText } from '../sql/source'
import { assertNoNul } from '../sql/read-sql-file'

/** One problem in a migration file, in the shape of `lint --json` (fields may be added, never renamed). */
export interface Finding {
  level: Level
  rule: string
  /** Path relative to the project root. */
  file: string
  /** 1-based. */
  line: number
  /** The consequence: the lock taken and what it blocks, or the running code it breaks. */
  message: string
  /** The safe multi-step recipe. */
  help: string
  /** 1-based, in characters; given where it is exact (syntax errors). */
  column?: number
  /** The table whose size decides the cost, and (once measured, see table-size.ts) that size. */
  sized?: { table: TableRef; work: TableWork; size?: TableSize }
}

/** A finding a migrate-kit-ignore comment acknowledged, kept so reviews can see what was waived and why. */
export interface IgnoredFinding {
  rule: string
  line: number
  reason: string
}

export interface MigrationAnalysis {
  migration: string
  file: string
  phase: Phase
  /** Why the phase, in words (for breaking: what to split). */
  phaseReason: string
  /** The schema and data changes, in statement order: what the deploy gate reads. */
  effects: Effect[]
  findings: Finding[]
  ignored: IgnoredFinding[]
  /** Statements in the file, unparseable ones included. */
  statements: number
  /** The schema after this migration: the context for the next one. */
  schema: SchemaHistory
}

export interface AnalyzeOptions {
  /** The migration's folder name; it is what "created in this migration" compares against. */
  migration?: string
  /** The path findings name, relative to the project root. */
  file?: string
  /** What the earlier migrations built; a table it does not know is taken as existing. */
  schema?: SchemaHistory
  settings?: Partial<LintSettings>
}

/** A migration file to analyse in a history. */
export interface MigrationSource {
  name: string
  file: string
  sql: string
}

const KNOWN_RULES: ReadonlySet<string> = new Set([...RULES, ...META_RULES].map((rule) => rule.name))
const ONCE_PER_FILE: ReadonlySet<string> = new Set(RULES.filter((rule) => rule.oncePerFile).map((rule) => rule.name))

/** Analyses one migration.sql: its findings, effects and phase, in the context of the schema before it. */
export async function analyzeMigration(sql: string, options: AnalyzeOptions = {}): Promise<MigrationAnalysis> {
  await loadSqlParser()
  return analyzeLoaded(sql, options)
}

/** Analyses migrations in order, each in the context of the ones before it. */
export async function analyzeMigrations(
  sources: MigrationSource[],
  options: { schema?: SchemaHistory; settings?: Partial<LintSettings> } = {},
): Promise<MigrationAnalysis[]> {
  await loadSqlParser()
  let schema = options.schema ?? new SchemaHistory()
  const analyses: MigrationAnalysis[] = []
  for (const source of sources) {
    const { name: migration, file, sql } = source
    const analysis = analyzeLoaded(sql, { migration, file, schema, settings: options.settings })
    schema = analysis.schema
    analyses.push(analysis)
  }
  return analyses
}

interface RawFinding extends Omit<Finding, 'file' | 'line'> {
  offset: number
  /** Index of the unit it belongs to, for statement-level ignores; -1 for the file's own findings. */
  unit: number
}

type FileUnit = Unit & ({ statement: ParsedStatement } | { error: ParsedSyntaxError })

function analyzeLoaded(sql: string, options: AnalyzeOptions): MigrationAnalysis {
  const migration = options.migration ?? options.file ?? 'migration.sql'
  const file = options.file ?? migration
  const settings: LintSettings = { ...DEFAULT_SETTINGS, ...options.settings }
  assertNoNul(sql, file)
  const source = new SourceText(sql)
  const parsed = parseSql(source, mayHoldIgnores(sql))
  const units: FileUnit[] = [
    ...parsed.statements.map((statement) => ({ start: statement.start, end: statement.end, statement })),
    ...parsed.errors.map((error) => ({ start: error.statementStart, end: error.statementEnd, error })),
  ].sort((a, b) => a.start - b.start)

  const schema = (options.schema ?? new SchemaHistory()).clone()
  const state: FileState = {
    migration,
    statementCount: units.length,
    explicitTransaction: false,
    inFunctionBody: false,
    heldLocks: new Map(),
    lockTimeoutSet: false,
    enumValuesAdded: new Map(),
  }
  const raw: RawFinding[] = []
  const effects: Effect[] = []
  const lintStatement = (statement: ParsedStatement, index: number, following: Node[]): void => {
    // The locks are computed once: rules read them, and the file's open transaction keeps them.
    const locks = statementLocks(statement.node, schema)
    const context: StatementContext = { node: statement.node, statement, file: state, schema, settings, following, locks }
    for (const rule of RULES) {
      for (const finding of checkSafely(rule, context)) {
        raw.push({
          level: finding.level ?? rule.level,
          rule: rule.name,
          message: finding.message,
          help: finding.help,
          ...(finding.sized ? { sized: finding.sized } : {}),
          offset: finding.location === undefined ? statement.start : statement.base + finding.location,
          unit: index,
        })
      }
    }
    const line = source.lineAt(statement.start)
    for (const effect of statementEffects(statement.node, { schema, migration })) effects.push({ ...effect, line })
    holdLocks(state, locks)
    advanceFileState(state, statement.node)
    schema.apply(statement.node, migration)
  }
  units.forEach((unit, index) => {
    if ('error' in unit) {
      const { line, column } = source.positionAt(unit.error.offset)
      raw.push({
        level: SYNTAX_ERROR.level,
        rule: SYNTAX_ERROR.name,
        message:
          `PostgreSQL cannot parse this statement (line ${line}, column ${column}): ${unit.error.message}. ` +
          `Applying the migration fails here.`,
        help: 'Fix the SQL, then try it on a scratch database: `npx migrate-kit prisma migrate dev` applies it to the dev database.',
        column,
        offset: unit.error.offset,
        unit: index,
      })
      return
    }
    const following = units.slice(index + 1).flatMap((later) => ('statement' in later ? [later.statement.node] : []))
    lintStatement(unit.statement, index, following)
    const contents = doBlockContents(unit.statement, source)
    if (!contents) return
    // The DO block's own statements run inside it, one after the other: each is linted like a statement of the file.
    state.inFunctionBody = true
    for (const inner of contents.statements) lintStatement(inner, index, following)
    state.inFunctionBody = false
    for (const { offset, what } of contents.unlinted) {
      raw.push({
        level: UNLINTED_CODE.level,
        rule: UNLINTED_CODE.name,
        message: `The linter cannot see the SQL of ${what}: whatever it runs (a lock, a rewrite, a dropped column) is not checked.`,
        help:
          'Write the statements as plain SQL in migration.sql (or as EXECUTE of a constant string) so they are linted, ' +
          'or review them by hand and acknowledge: -- migrate-kit-ignore unlinted-code: <what it runs and why it is safe>',
        offset,
        unit: index,
      })
    }
  })

  const { findings, ignored } = settle(raw, readSuppressions(parsed.comments, units, source, KNOWN_RULES), source, file)
  const { phase, reason } = phaseOf(effects)
  return { migration, file, phase, phaseReason: reason, effects, findings, ignored, statements: units.length, schema }
}

/**
 * A rule that throws is a bug in that rule; it must not hide what the other rules found, nor let the statement pass
 * unchecked: it becomes an error finding that says so.
 */
function checkSafely(rule: Rule, context: StatementContext): RuleFinding[] {
  try {
    return rule.check(context)
  } catch (error) {
    return [
      {
        level: 'error',
        message: `${rule.name} could not check this statement: ${errorMessage(error)}. This is a bug in migrate-kit.`,
        help: 'Report it with the statement; meanwhile review the statement by hand, and acknowledge it with a reason.',
      },
    ]
  }
}

/**
 * Turns raw findings into the report: acknowledged ones move to `ignored`, invalid ignore comments become warnings,
 * rules about the whole file keep their first finding, and everything is in line order.
 */
const FOREIGN_HELP =
  'migrate-kit reads squawk-ignore and pgfence-ignore comments and maps their rules to its own (README: "Coming from ' +
  'another linter"); this one acknowledged nothing. `npx migrate-kit lint --rules` lists the rule names.'

function settle(
  raw: RawFinding[],
  suppressions: Suppressions,
  source: SourceText,
  file: string,
): { findings: Finding[]; ignored: IgnoredFinding[] } {
  const invalid: RawFinding[] = suppressions.invalid.map(({ offset, message }) => ({
    level: INVALID_IGNORE.level,
    rule: INVALID_IGNORE.name,
    message,
    help: 'Name the rules the finding shows and say why the statement is safe here: -- migrate-kit-ignore <rule>: <reason>',
    offset,
    unit: -1,
  }))
  const findings: Finding[] = []
  const ignored: IgnoredFinding[] = []
  const reportedOnce = new Set<string>()
  const usedForeign = new Set<ForeignIgnore>()
  // Array.prototype.sort is stable: findings of one statement keep the rules' order.
  for (const finding of [...raw, ...invalid].sort((a, b) => a.offset - b.offset)) {
    const line = source.lineAt(finding.offset)
    const acknowledged = acknowledgementOf(suppressions, finding.rule, finding.unit)
    if (acknowledged !== undefined) {
      if (acknowledged.foreign) usedForeign.add(acknowledged.foreign)
      ignored.push({ rule: finding.rule, line, reason: acknowledged.reason })
      continue
    }
    if (ONCE_PER_FILE.has(finding.rule)) {
      if (reportedOnce.has(finding.rule)) continue
      reportedOnce.add(finding.rule)
    }
    const { offset: _offset, unit: _unit, ...rest } = finding
    findings.push({ ...rest, file, line })
  }
  // Every other linter's comment acknowledges something, or it is reported (a typo'd rule, a rule we lack).
  for (const foreign of suppressions.foreign.filter((candidate) => !usedForeign.has(candidate))) {
    const { level, name: rule } = INVALID_IGNORE
    findings.push({ level, rule, message: unmatchedForeign(foreign), help: FOREIGN_HELP, file, line: source.lineAt(foreign.offset) })
  }
  findings.sort((a, b) => a.line - b.line)
  return { findings, ignored }
}

/** What a statement changes about the rest of the file: an open BEGIN, lock_timeout, enum values added. */
function advanceFileState(state: FileState, node: Node): void {
  const transaction = nodeAs(node, 'TransactionStmt')?.kind
  if (transaction === 'TRANS_STMT_BEGIN' || transaction === 'TRANS_STMT_START') state.explicitTransaction = true
  if (transaction && ['TRANS_STMT_COMMIT', 'TRANS_STMT_ROLLBACK', 'TRANS_STMT_PREPARE'].includes(transaction)) {
    state.explicitTransaction = false
    state.heldLocks.clear()
  }
  const timeout = lockTimeoutSetting(node)
  if (timeout !== undefined) state.lockTimeoutSet = timeout
  const alterEnum = nodeAs(node, 'AlterEnumStmt')
  const type = refOfNames(names(alterEnum?.typeName))
  if (alterEnum?.newVal !== undefined && alterEnum.oldVal === undefined && type) {
    state.enumValuesAdded.set(alterEnum.newVal, showTable(type))
  }
}

/** A transaction keeps every lock it took until it ends: the strongest per table is what later statements run under. */
function holdLocks(state: FileState, locks: TableLock[]): void {
  for (const lock of locks) {
    if (!lock.table) continue
    const key = tableKey(lock.table)
    const held = state.heldLocks.get(key)
    if (!held || LOCK_STRENGTH[lock.mode] > LOCK_STRENGTH[held]) state.heldLocks.set(key, lock.mode)
  }
}

/** Whether the statement turns lock_timeout on (true) or off (false); undefined when it does not touch it. */
function lockTimeoutSetting(node: Node): boolean | undefined {
  const setting = timeoutSettings(node).find((candidate) => candidate.name === 'lock_timeout')
  // A value PostgreSQL's units do not read is taken as on: the migration fails on it before taking any lock.
  return setting === undefined ? undefined : setting.ms === undefined || setting.ms > 0
}
