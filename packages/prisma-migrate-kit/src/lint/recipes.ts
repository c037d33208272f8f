import type { Constraint, Node, RangeVar } from 'libpg-query'
import { deparseSync } from 'pgsql-parser'
import { quoteIdent, showColumn, showTable, plainTable, type TableRef } from './nodes'

/**
 * The multi-step recipes the rules' help lines give. Several rules end in the same recipe (making a column NOT NULL
 * safely, moving data changes into a backfill), so each is written once here.
 */

/**
 * SQL for a help line, printed by PostgreSQL's deparser with its line breaks folded. A help line is worth less than
 * the finding it belongs to: if the deparser cannot print a node, the help says what to write instead of failing.
 */
export function sqlText(node: Node, fallback: string): string {
  try {
    return deparseSync(node)
      .replace(/\s*\n\s*/g, ' ')
      .trim()
  } catch {
    return fallback
  }
}

/** A complete statement for a help line: `sqlText` with its `;`. */
export function statementText(node: Node, fallback: string): string {
  return `${sqlText(node, fallback)};`
}

/**
 * Adding a constraint in two transactions: NOT VALID (new writes are checked, the lock is brief), then VALIDATE in a
 * later migration (existing rows are checked under SHARE UPDATE EXCLUSIVE, which lets reads and writes continue).
 */
export function notValidSteps(relation: RangeVar | undefined, table: TableRef, constraint: Constraint, name: string): string[] {
  const addNotValid = statementText(
    {
      AlterTableStmt: {
        relation,
        objtype: 'OBJECT_TABLE',
        cmds: [
          {
            AlterTableCmd: {
              subtype: 'AT_AddConstraint',
              def: { Constraint: { ...constraint, conname: name, skip_validation: true, initially_valid: false } },
            },
          },
        ],
      },
    },
    `ALTER TABLE ${showTable(table)} ADD CONSTRAINT ${quoteIdent(name)} … NOT VALID`,
  )
  return [
    `Add it NOT VALID (only new writes are checked; the lock is brief): ${addNotValid}`,
    `In a later migration: ALTER TABLE ${showTable(table)} VALIDATE CONSTRAINT ${quoteIdent(name)};  ` +
      `(checks the existing rows under SHARE UPDATE EXCLUSIVE: reads and writes continue)`,
  ]
}

/** How to get a migration file that holds one statement, which Prisma then runs outside a transaction. */
export function ownMigration(statement: string): string {
  return (
    `Put it alone in a migration of its own (Prisma runs a file of several statements as one transaction): ` +
    `\`npx migrate-kit new <name> --empty\`, then make its migration.sql exactly: ${statement}`
  )
}

/** The backfill file a column's data change belongs in: backfills/<table>_<column>.ts. */
export function backfillName(table: TableRef, column: string): string {
  return `${plainTable(table).replace(/\W+/g, '_')}_${column}`
}

/** The step that fills a column's existing rows outside the migration. */
export function backfillStep(table: TableRef, column: string): string {
  const name = backfillName(table, column)
  return (
    `Fill the existing rows with a backfill, not in the migration: backfills/${name}.ts ` +
    `(export default defineBackfill({ name: '${name}', table: '${plainTable(table)}', … })), then ` +
    `\`migrate-kit backfill run ${name}\` (batched, no long locks).`
  )
}

/** The line that acknowledges a finding when the statement is intended. */
export function acknowledge(rule: string, when: string): string {
  return `If ${when}, acknowledge it on the line above the statement: -- migrate-kit-ignore ${rule}: <why>`
}

export function numbered(steps: string[]): string {
  return steps.map((step, index) => `${index + 1}. ${step}`).join('\n')
}

/** The name convention for a CHECK standing in for NOT NULL. */
export function notNullCheckName(table: TableRef, column: string): string {
  return `${table.name}_${column}_not_null`
}

/**
 * The migrations that make an existing column NOT NULL without scanning the table under ACCESS EXCLUSIVE: a CHECK
 * added NOT VALID (brief lock), validated in a later transaction (a scan that blocks no reads or writes), which
 * PostgreSQL 12+ then accepts as proof for SET NOT NULL.
 */
export function setNotNullSteps(table: TableRef, column: string): string[] {
  const check = quoteIdent(notNullCheckName(table, column))
  const t = showTable(table)
  const c = quoteIdent(column)
  return [
    `Migration A: ALTER TABLE ${t} ADD CONSTRAINT ${check} CHECK (${c} IS NOT NULL) NOT VALID;`,
    `Migration B (a later one): ALTER TABLE ${t} VALIDATE CONSTRAINT ${check};`,
    `Migration B or later: ALTER TABLE ${t} ALTER COLUMN ${c} SET NOT NULL;\n` + `   ALTER TABLE ${t} DROP CONSTRAINT ${check};`,
  ]
}

/** The caveat for servers older than 12, where SET NOT NULL always scans. */
export function setNotNullCaveat(postgresVersion: number): string {
  return postgresVersion < 12
    ? `\nPostgreSQL ${postgresVersion} cannot use the CHECK for SET NOT NULL: keep the validated CHECK instead until you run 12+.`
    : ''
}

/** Introducing a new column next to an old one that running code still uses (renames, type changes). */
export function parallelColumnRecipe(table: TableRef, oldColumn: string, newColumn: string, how: string): string {
  return numbered([
    `Expand: ADD COLUMN ${quoteIdent(newColumn)} (nullable) to ${showTable(table)} ${how}, and a trigger that ` +
      `copies every write of ${showColumn(table, oldColumn)} into it.`,
    backfillStep(table, newColumn),
    `Release code that reads and writes ${quoteIdent(newColumn)}.`,
    `Contract, in a later migration: drop the trigger and ${quoteIdent(oldColumn)}.`,
  ])
}

export interface BackfillSketch {
  table: TableRef
  column: string
  migration: string
  key: string
  update: string
  where?: string
}

/** The backfill file that replaces a whole-table UPDATE/DELETE inside a migration. */
export function backfillRecipe(sketch: BackfillSketch, operation: 'update' | 'delete'): string {
  const name = backfillName(sketch.table, sketch.column)
  const table = showTable(sketch.table)
  const key = quoteIdent(sketch.key)
  const property = /^[A-Za-z_$][\w$]*$/.test(sketch.key) ? `row.${sketch.key}` : `row[${JSON.stringify(sketch.key)}]`
  const work =
    operation === 'update'
      ? `  update: sql\`${sketch.update}\`,\n`
      : `  async process(rows, tx) {\n` +
        `    await tx.query(sql\`DELETE FROM ${table} WHERE ${key} = ANY(\${rows.map((row) => ${property})})\`)\n` +
        `  },\n`
  // Rows still matching the statement's own WHERE are the rows not done yet.
  const condition = sketch.where ?? (operation === 'delete' ? 'true' : '<a row that is not done yet>')
  return (
    numbered([
      `Remove the ${operation.toUpperCase()} from this migration.`,
      `Write backfills/${name}.ts:\n` +
        `import { defineBackfill, sql } from 'prisma-migrate-kit'\n` +
        `export default defineBackfill({\n` +
        `  name: '${name}',\n` +
        `  after: '${sketch.migration}',\n` +
        `  table: '${plainTable(sketch.table)}',\n` +
        `  key: '${sketch.key}',\n` +
        work +
        (sketch.where ? `  where: sql\`${sketch.where}\`,\n` : '') +
        `  verify: sql\`SELECT ${key} FROM ${table} WHERE ${condition}\`,\n` +
        `})`,
      `Run it in batches that hold no long locks: migrate-kit backfill run ${name}`,
    ]) + `\nA later contract migration (e.g. SET NOT NULL) names it in \`before:\` so deploy waits for it.`
  )
}
