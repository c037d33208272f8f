import type { SplitChange } from './changes'
import { quoted, tableSql } from './steps-sql'

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
  comment: string
}

function template(text: string): string {
  return `sql\`${text.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${')}\``
}

/** The changes whose data a backfill fills: every kind but a dropped column. */
export type BackfilledChange = Exclude<SplitChange, { kind: 'drop-column' }>

export function isBackfilled(change: SplitChange): change is BackfilledChange {
  return change.kind !== 'drop-column'
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

/** The text of backfills/<name>.ts for one split change. */
export function backfillFileText(input: BackfillFileInput): string {
  const parts = backfillSql(input.change, input.keyColumns)
  const imports = 'placeholder' in parts.update ? 'defineBackfill, placeholder, sql' : 'defineBackfill, sql'
  const update = 'sql' in parts.update ? template(parts.update.sql) : `placeholder(${tsString(parts.update.placeholder)})`
  const comment = wrap(
    `${parts.comment} Written by \`migrate-kit new --safe\` (safe-changes/${input.plan}.json): it runs after the expand migration, ` +
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
    `  snapshot: [${tsString(input.change.target.column)}],`,
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
