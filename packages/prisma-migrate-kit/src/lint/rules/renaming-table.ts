import { nodeAs, quoteIdent, showTable, tableOf, withName } from '../nodes'
import { numbered } from '../recipes'
import { defineRule, isExisting } from '../rule'

/** RENAME TO on a table: every running query that names the old table fails the moment this commits. */
export const renamingTable = defineRule({
  name: 'renaming-table',
  level: 'error',
  summary: 'ALTER TABLE … RENAME TO breaks every running query on the old name, at once.',
  examples: {
    fail: ['ALTER TABLE "User" RENAME TO "Account";'],
    pass: [
      'CREATE TABLE "Draft" ("id" INTEGER);\nALTER TABLE "Draft" RENAME TO "Post";',
      'ALTER INDEX "User_email_idx" RENAME TO "User_email_key";',
    ],
  },
  check(context) {
    const rename = nodeAs(context.node, 'RenameStmt')
    const table = tableOf(rename?.relation)
    if (rename?.renameType !== 'OBJECT_TABLE' || !table || !rename.newname || !isExisting(context, table)) return []
    const renamed = withName(table, rename.newname)
    return [
      {
        message:
          `Renaming ${showTable(table)} to ${quoteIdent(rename.newname)} breaks the running release at once: its ` +
          `queries fail with relation ${showTable(table)} does not exist until the new code is out.`,
        help:
          `If only the model name in code should change: revert this migration and keep the table with ` +
          `@@map("${table.name}") on the renamed model in schema.prisma; no migration is needed.\n` +
          `To rename the table itself:\n` +
          numbered([
            `In one migration: ALTER TABLE ${showTable(table)} RENAME TO ${quoteIdent(rename.newname)}; ` +
              `CREATE VIEW ${showTable(table)} AS SELECT * FROM ${showTable(renamed)};  (a simple view is ` +
              `updatable, so the running release keeps reading and writing through the old name).`,
            `Release code that uses the new name.`,
            `Contract: DROP VIEW ${showTable(table)};`,
          ]),
      },
    ]
  },
})
