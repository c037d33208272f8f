import type { ClientBase } from 'pg'
import { errorMessage } from '../errors'
import { isSqlUpdateBackfill, keyColumnsOf, type Backfill } from './definition'
import { BackfillDefinitionError, type DefinitionProblem } from './errors'
import { AmbiguousTableError, defaultKey, findTable, keyAsWritten, keyProblem, type ColumnInfo, type TableInfo } from './catalog'
import { compareKey, type BackfillKey } from './key'
import { parsePatterns, type CachePattern } from './patterns'
import type { LoadedBackfill } from './loader'
import { parseSetList, type SetList } from './set-list'
import { StatementBuilder, type FragmentSpan, type SqlFragment } from './sql'

/** A definition checked against the database: the table and key it really names, ready for statements. */
export interface ResolvedBackfill {
  loaded: LoadedBackfill
  name: string
  definition: Backfill
  table: TableInfo
  /** The key's columns, in the order of the index that walks them. */
  key: BackfillKey
  /** The columns the SET list writes (sql updates only), and its assignments when a dry run can preview them. */
  setList?: SetList
  snapshotColumns: ColumnInfo[]
  invalidate: CachePattern[]
}

/** Planning an UPDATE locks its table briefly: never queue behind a migration for long just to check a definition. */
const VALIDATION_LOCK_TIMEOUT = '5s'

/**
 * Checks a definition against the database without changing data: the table, the key, the columns it names, and
 * every SQL fragment through EXPLAIN (planned, never executed) in a READ ONLY transaction that is rolled back.
 * Every problem is collected, then reported at once (exit 2).
 */
export async function resolveBackfill(client: ClientBase, loaded: LoadedBackfill): Promise<ResolvedBackfill> {
  const { definition } = loaded
  const problems: DefinitionProblem[] = []
  const problem = (field: string, message: string, excerpt?: string[]) =>
    problems.push({ file: loaded.relativeFile, backfill: loaded.name, field, message, excerpt })

  const table = await findTable(client, definition.table).catch((error: unknown) => {
    if (error instanceof AmbiguousTableError) problem('table', `${error.message} (${error.hint})`)
    return undefined
  })
  if (!table && problems.length > 0) throw new BackfillDefinitionError(problems)
  if (!table) {
    problem(
      'table',
      `table "${definition.table}" does not exist in this database${definition.after ? ` (is migration ${definition.after} applied?)` : ''}`,
    )
    throw new BackfillDefinitionError(problems)
  }
  const keyColumns = keyColumnsOf(definition) ?? defaultKey(table)
  let key: BackfillKey | undefined
  if (keyColumns === undefined) {
    const candidates = table.uniqueKeys.filter((unique) => unique.columns.every((column) => table.columns.get(column)?.notNull))
    problem(
      'key',
      `${table.schema}.${table.name} has no primary key to cut key ranges on: name the columns of a unique index as key${candidates.length > 0 ? ` (candidates: ${candidates.map((unique) => keyAsWritten(unique.columns)).join(', ')})` : ' (it has none: add one)'}`,
    )
  } else {
    const reason = keyProblem(table, keyColumns)
    if (reason) problem('key', reason)
    else key = { columns: keyColumns.map((column) => ({ name: column, type: table.columns.get(column)!.type })) }
  }
  const snapshotColumns: ColumnInfo[] = []
  for (const column of definition.snapshot ?? []) {
    const info = table.columns.get(column)
    if (info) snapshotColumns.push(info)
    else problem('snapshot', `column "${column}" does not exist in ${table.schema}.${table.name}`)
  }
  let invalidate: CachePattern[] = []
  try {
    invalidate = parsePatterns(definition.invalidate ?? [])
    for (const pattern of invalidate) {
      for (const column of pattern.columns) {
        if (!table.columns.has(column)) {
          problem('invalidate', `"${pattern.source}" names {${column}}, which is not a column of ${table.schema}.${table.name}`)
        }
      }
    }
  } catch (error) {
    problem('invalidate', errorMessage(error))
  }
  let setList: SetList | undefined
  if (isSqlUpdateBackfill(definition)) {
    setList = await parseSetList(new StatementBuilder().fragment(definition.update).build().text)
    for (const column of setList?.columns.filter((written) => keyColumns?.includes(written)) ?? []) {
      problem('update', `the update writes the key column "${column}": key ranges would move under the backfill`)
    }
    for (const column of setList?.columns ?? []) {
      if (!table.columns.has(column)) problem('update', `column "${column}" does not exist in ${table.schema}.${table.name}`)
    }
  }

  if (key) {
    // READ ONLY and always rolled back: even a volatile function in a fragment cannot write here.
    await client.query('BEGIN READ ONLY')
    try {
      await client.query(`SET LOCAL lock_timeout = '${VALIDATION_LOCK_TIMEOUT}'`)
      const whereOk = definition.where ? await explain(client, whereCheck(table, definition.where), 'where', problem) : true
      if (whereOk && isSqlUpdateBackfill(definition)) {
        await explain(client, updateCheck(table, key, definition.update, definition.where), 'update', problem)
      }
      if (definition.verify) {
        await explain(client, new StatementBuilder().text('EXPLAIN ').fragment(definition.verify, 'verify'), 'verify', problem)
      }
      if (definition.precheck) {
        await explain(client, new StatementBuilder().text('EXPLAIN ').fragment(definition.precheck, 'precheck'), 'precheck', problem)
      }
    } finally {
      await client.query('ROLLBACK').catch(() => undefined)
    }
  }
  if (problems.length > 0 || !key) throw new BackfillDefinitionError(problems)
  return { loaded, name: loaded.name, definition, table, key, setList, snapshotColumns, invalidate }
}

function whereCheck(table: TableInfo, where: SqlFragment): StatementBuilder {
  return new StatementBuilder().text(`EXPLAIN SELECT 1 FROM ${table.quoted} WHERE (`).fragment(where, 'where').text(')')
}

function updateCheck(table: TableInfo, key: BackfillKey, update: SqlFragment, where: SqlFragment | undefined): StatementBuilder {
  const builder = new StatementBuilder().text(`EXPLAIN UPDATE ${table.quoted} SET `).fragment(update, 'update').text(' WHERE ')
  compareKey(builder, key, '>', null).text(' AND ')
  compareKey(builder, key, '<=', null)
  if (where) builder.text(' AND (').fragment(where, 'where').text(')')
  return builder
}

interface PgError {
  message?: string
  code?: string
  position?: string
  detail?: string
  hint?: string
}

/** Runs one EXPLAIN under a savepoint; a failure becomes a problem on the field the error points into. */
async function explain(
  client: ClientBase,
  statement: StatementBuilder,
  field: string,
  problem: (field: string, message: string, excerpt?: string[]) => void,
): Promise<boolean> {
  const { text, values } = statement.build()
  await client.query('SAVEPOINT mk_check')
  try {
    await client.query(text, values)
    await client.query('RELEASE SAVEPOINT mk_check')
    return true
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT mk_check')
    const pg = (error ?? {}) as PgError
    const position = pg.position ? Number(pg.position) : undefined
    const span = (position !== undefined ? statement.spanAt(position) : undefined) ?? statement.spans.find((s) => s.label === field)
    const message = [
      `${pg.message ?? errorMessage(error)}${pg.code ? ` (SQLSTATE ${pg.code})` : ''}`,
      pg.detail && `detail: ${pg.detail}`,
      pg.hint && `hint: ${pg.hint}`,
    ]
      .filter(Boolean)
      .join('; ')
    problem(span?.label ?? field, message, span ? caretExcerpt(text, span, position) : undefined)
    return false
  }
}

/** The fragment's line holding the error, with a caret under it (graphile-migrate style). */
export function caretExcerpt(text: string, span: FragmentSpan, position: number | undefined): string[] {
  const fragment = text.slice(span.start, span.end)
  const offset = position === undefined ? -1 : position - 1 - span.start
  if (offset < 0 || offset > fragment.length)
    return fragment
      .split('\n')
      .map((line) => line.trimEnd())
      .filter(Boolean)
      .slice(0, 4)
  const before = fragment.slice(0, offset)
  const lineStart = before.lastIndexOf('\n') + 1
  const lineEnd = fragment.indexOf('\n', offset)
  const line = fragment.slice(lineStart, lineEnd === -1 ? undefined : lineEnd)
  return [line, `${' '.repeat(offset - lineStart)}^`]
}
