import { performance } from 'node:perf_hooks'
import type { ClientBase } from 'pg'
import { isPostgresError, sqlErrorReport } from '../sql/error-report'
import type { CheckFile } from './check-files'
import { valueText } from '../text'

/** What one integrity check found, Kysely-style: every check runs and reports, whatever the others did. */
export interface CheckResult {
  name: string
  file: string
  description: string
  /** skipped: it names a table, column or type that a pending migration creates; it runs once deploy applied it. */
  status: 'ok' | 'violations' | 'error' | 'skipped'
  /** Rows the query returned (all of them counted, not only the sample). */
  violations: number
  /** The first few violations, as the query returned them. */
  sample: Array<Record<string, unknown>>
  /** Why it could not run: the file's line (and column when PostgreSQL points at one), PostgreSQL's message. */
  error?: { line: number; column?: number; message: string; code?: string; text: string }
  seconds: number
}

export const SAMPLE_ROWS = 5
/** A check reads whole tables; on a big one that takes a while, but it must never hang a deploy. */
export const CHECK_STATEMENT_TIMEOUT = '5min'

const TOTAL = 'migrate_kit_violations'
/**
 * The check's own query is wrapped so that one scan gives both the count and the sample: the window count is
 * computed over every row before LIMIT cuts the sample.
 */
const PREFIX = `SELECT *, count(*) OVER () AS ${TOTAL} FROM (\n`
const SUFFIX = `\n) AS violations LIMIT ${SAMPLE_ROWS}`

/** PostgreSQL's codes for a table, column or type that does not exist (yet). */
const NOT_THERE_YET = new Set(['42P01', '42703', '42704'])

export interface IntegrityOptions {
  /** Some migrations are not applied yet: a check that names what they create is skipped, not failed. */
  pendingMigrations?: boolean
}

/**
 * Runs every check in a READ ONLY transaction of its own (a check can never write, and one that fails does not stop
 * the others), with a statement timeout.
 */
export async function runIntegrityChecks(client: ClientBase, checks: CheckFile[], options: IntegrityOptions = {}): Promise<CheckResult[]> {
  const results: CheckResult[] = []
  for (const check of checks) results.push(await runCheck(client, check, options))
  return results
}

async function runCheck(client: ClientBase, check: CheckFile, options: IntegrityOptions): Promise<CheckResult> {
  const started = performance.now()
  const base = { name: check.name, file: check.file, description: check.description, violations: 0, sample: [] }
  const seconds = () => (performance.now() - started) / 1000
  if (!check.query) {
    const problem = check.problem ?? { line: 1, message: 'no query' }
    const where = `${check.file}:${problem.line}${problem.column === undefined ? '' : `:${problem.column}`}`
    return { ...base, status: 'error', error: { ...problem, text: `${where}: ${problem.message}` }, seconds: seconds() }
  }
  await client.query('BEGIN READ ONLY')
  try {
    await client.query(`SET LOCAL statement_timeout = '${CHECK_STATEMENT_TIMEOUT}'`)
    const { rows } = await client.query<Record<string, unknown>>(`${PREFIX}${check.query.sql}${SUFFIX}`)
    const violations = Number(rows[0]?.[TOTAL] ?? 0)
    const sample = rows.map(({ [TOTAL]: _total, ...row }) => row)
    return { ...base, status: violations > 0 ? 'violations' : 'ok', violations, sample, seconds: seconds() }
  } catch (error) {
    if (!isPostgresError(error)) throw error
    // PostgreSQL counts its error position in the text we sent; the check's own text starts after the prefix.
    const position = Number(error.position) - [...PREFIX].length
    const inQuery = Number.isInteger(position) && position >= 1 && position <= [...check.query.sql].length
    const report = sqlErrorReport(check.file, check.source, check.query, {
      message: error.message,
      ...(error.code ? { code: error.code } : {}),
      ...(error.detail ? { detail: error.detail } : {}),
      ...(error.hint ? { hint: error.hint } : {}),
      ...(inQuery ? { position: String(position) } : {}),
    })
    const skipped = options.pendingMigrations === true && error.code !== undefined && NOT_THERE_YET.has(error.code)
    return {
      ...base,
      status: skipped ? 'skipped' : 'error',
      error: {
        line: report.line,
        column: report.column,
        message: report.message,
        ...(report.code ? { code: report.code } : {}),
        text: report.text,
      },
      seconds: seconds(),
    }
  } finally {
    await client.query('ROLLBACK').catch(() => undefined)
  }
}

/** A row for a terminal: `id=17 user_id=4096 puzzle_id=12`. */
export function formatRow(row: Record<string, unknown>): string {
  return Object.entries(row)
    .map(([column, value]) => `${column}=${formatValue(value)}`)
    .join(' ')
}

function formatValue(value: unknown): string {
  return value === null || value === undefined ? 'NULL' : valueText(value)
}
