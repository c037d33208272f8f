import type { SplitChange } from './changes'
import { bareTable, converted, quoted, tableSql } from './steps-sql'

export interface BackfillFileInput {
  /** The backfill's name (and file name). */
  name: string
  plan: string
  change: BackfilledChange
  /** The expand migration that adds the column, when the split has one. */
  after?: string
  /** The contract migration that waits for it (its name after the timestamp: it is not written yet). */
  before: string
  /** The table's key columns from the schema (`@id` / `@@id`); the verify query returns them. */
  keyColumns: string[]
}

/** A backfill as it ends up in the file: the SQL of each field, or a placeholder saying what to write. */
interface BackfillSql {
  update: { sql: string } | { placeholder: string }
  where: string
  verify: string
  /** Rows the update cannot handle: the run refuses to start while there are any. */
  precheck?: string
  comment: string
}

function template(text: string): string {
  return `sql\`${text.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${')}\``
}

/** The changes whose data a backfill fills: every kind but a dropped column and a renamed table. */
export type BackfilledChange = Exclude<SplitChange, { kind: 'drop-column' | 'rename-table' }>

export function isBackfilled(change: SplitChange): change is BackfilledChange {
  return change.kind !== 'drop-column' && change.kind !== 'rename-table'
}

function backfillSql(change: BackfilledChange, keyColumns: string[]): BackfillSql {
  const column = quoted(change.target.column)
  const table = tableSql(change.target.table)
  const shown = keyColumns.length > 0 ? keyColumns.map(quoted).join(', ') : '*'
  if (change.kind === 'rename-column') {
    const from = quoted(change.from.column)
    return {
      update: { sql: `${column} = ${from}` },
      where: `${column} IS NULL AND ${from} IS NOT NULL`,
      verify: `SELECT ${shown} FROM ${table} WHERE ${column} IS DISTINCT FROM ${from}`,
      comment:
        `Copies ${change.from.model}.${change.from.field} (${from}) into ${change.target.field} (${column}) for the rows written before the ` +
        'expand; the trigger of the expand migration keeps the two equal for every write since.',
    }
  }
  if (change.kind === 'change-type') {
    const from = quoted(change.from.column)
    const value = converted(change, from)
    return {
      update: { sql: `${column} = ${value}` },
      where: `${column} IS NULL AND ${from} IS NOT NULL`,
      verify: `SELECT ${shown} FROM ${table} WHERE ${column} IS DISTINCT FROM ${value} OR (${from} IS NOT NULL AND ${column} IS NULL)`,
      precheck: `SELECT ${shown}, ${from} FROM ${table} WHERE ${from} IS NOT NULL AND ${value} IS NULL`,
      comment:
        `Converts ${change.from.model}.${change.from.field} (${from}, ${change.fromType}) into ${column} (${change.toType}) for the rows ` +
        'written before the expand, with the conversion function of the expand migration; the trigger converts every write ' +
        'since. Its precheck lists the values that do not convert, and the run does not start while there are any: fix those rows ' +
        '(or the conversion function, before the expand is deployed).',
    }
  }
  if (change.kind === 'add-unique') {
    const duplicate = duplicateOfKept(change, keyColumns)
    const columns =
      change.columns.length === 1 ? `${change.target.model}.${change.target.field}` : `${change.target.model}(${change.columns.join(', ')})`
    return {
      update: {
        placeholder:
          `how a row changes whose ${columns} another row has too (the first row of each value, by key, keeps it), as a SET list: ` +
          `sql\`${column} = ${column} || '-' || …\` (rows to merge or delete: do that by hand before running this)`,
      },
      where: duplicate,
      verify: `SELECT ${shown} FROM ${table} WHERE ${duplicate}`,
      comment:
        `Removes the duplicates that would make the unique index ${change.index} fail: of the rows sharing a value, the first (by key) ` +
        'is kept as it is and each other one is changed. Only you know how: replace the placeholder (check, deploy and backfill ' +
        'run refuse this file until then). Its verify finds a duplicate written after the run, and the contract waits for it.',
    }
  }
  if (change.kind === 'add-foreign-key') {
    const orphan = orphanOf(change)
    const columns =
      change.columns.length === 1 ? `${change.target.model}.${change.target.field}` : `${change.target.model}(${change.columns.join(', ')})`
    return {
      update: {
        placeholder:
          `what a row of ${change.target.model} gets whose ${columns} points to no row of ${change.references.table}, as a SET list: ` +
          `sql\`${column} = NULL\` (when optional) or a row that exists (rows to delete: do that by hand before running this)`,
      },
      where: orphan,
      verify: `SELECT ${shown} FROM ${table} WHERE ${orphan}`,
      comment:
        `Fixes the orphans that would make the foreign key ${change.constraint} fail: rows whose ${columns} points to no row of ` +
        `${change.references.table}. Only you know what they become: replace the placeholder (check, deploy and backfill run ` +
        'refuse this file until then). Its verify finds an orphan written after the run, and the contract waits for it.',
    }
  }
  const verify = `SELECT ${shown} FROM ${table} WHERE ${column} IS NULL`
  if (change.hasDefault) {
    return {
      update: { sql: `${column} = DEFAULT` },
      where: `${column} IS NULL`,
      verify,
      comment: `Gives ${change.target.model}.${change.target.field} its @default where it is NULL, so that the contract can make it NOT NULL.`,
    }
  }
  return {
    update: {
      placeholder:
        `the value of ${change.target.model}.${change.target.field} for rows that have none, as a SET list: ` +
        `sql\`${column} = …\` (another column, an expression, a constant)`,
    },
    where: `${column} IS NULL`,
    verify,
    comment:
      `Fills ${change.target.model}.${change.target.field} (${column}) where it is NULL, so that the contract can make it NOT NULL. ` +
      'Only you know the value: replace the placeholder (check, deploy and backfill run refuse this file until then).',
  }
}

/**
 * True for a row another row shares the unique columns with, that row coming first by key (ctid without one): the
 * rows a de-duplication changes, keeping one of each value. NULLs never collide, as in a unique index.
 */
function duplicateOfKept(change: Extract<BackfilledChange, { kind: 'add-unique' }>, keyColumns: string[]): string {
  const bare = quoted(
    change.target.table.includes('.') ? change.target.table.slice(change.target.table.indexOf('.') + 1) : change.target.table,
  )
  const same = change.columns.map((column) => `"kept".${quoted(column)} = ${bare}.${quoted(column)}`).join(' AND ')
  const keys = keyColumns.length > 0 ? keyColumns.map(quoted) : ['ctid']
  const earlier =
    keys.length === 1
      ? `"kept".${keys[0]} < ${bare}.${keys[0]}`
      : `(${keys.map((key) => `"kept".${key}`).join(', ')}) < (${keys.map((key) => `${bare}.${key}`).join(', ')})`
  return `EXISTS (SELECT 1 FROM ${tableSql(change.target.table)} AS "kept" WHERE ${same} AND ${earlier})`
}

/** True for a row whose foreign key columns are all set (MATCH SIMPLE checks no other) and point to no row. */
function orphanOf(change: Extract<BackfilledChange, { kind: 'add-foreign-key' }>): string {
  const bare = quoted(bareTable(change.target.table))
  const set = change.columns.map((column) => `${bare}.${quoted(column)} IS NOT NULL`).join(' AND ')
  const same = change.columns
    .map((column, index) => `"parent".${quoted(change.references.columns[index])} = ${bare}.${quoted(column)}`)
    .join(' AND ')
  return `${set} AND NOT EXISTS (SELECT 1 FROM ${tableSql(change.references.table)} AS "parent" WHERE ${same})`
}

/** The text of backfills/<name>.ts for one split change. */
export function backfillFileText(input: BackfillFileInput): string {
  const parts = backfillSql(input.change, input.keyColumns)
  const imports = 'placeholder' in parts.update ? 'defineBackfill, placeholder, sql' : 'defineBackfill, sql'
  const update = 'sql' in parts.update ? template(parts.update.sql) : `placeholder(${tsString(parts.update.placeholder)})`
  const comment = wrap(
    `${parts.comment} Written by \`migrate-kit new --safe\` (safe-changes/${input.plan}.json): it runs after ${input.after ? 'the expand migration' : 'the release of this step is deployed'}, ` +
      `and the contract (${input.before}) waits until it is done and verified.`,
  )
  return [
    `import { ${imports} } from 'prisma-migrate-kit'`,
    '',
    '/**',
    ...comment.map((line) => ` * ${line}`),
    ' */',
    'export default defineBackfill({',
    `  name: ${tsString(input.name)},`,
    ...(input.after ? [`  after: ${tsString(input.after)},`] : []),
    `  before: ${tsString(input.before)},`,
    `  table: ${tsString(input.change.target.table)},`,
    `  update: ${update},`,
    `  where: ${template(parts.where)},`,
    `  verify: ${template(parts.verify)},`,
    ...(parts.precheck ? [`  precheck: ${template(parts.precheck)},`] : []),
    `  snapshot: [${(input.change.kind === 'add-unique' || input.change.kind === 'add-foreign-key' ? input.change.columns : [input.change.target.column]).map(tsString).join(', ')}],`,
    '})',
    '',
  ].join('\n')
}

/** A TypeScript string literal in single quotes, as most projects' formatters write them. */
function tsString(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`
}

function wrap(text: string, width = 110): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line)
      line = word
    } else line = line ? `${line} ${word}` : word
  }
  if (line) lines.push(line)
  return lines
}
