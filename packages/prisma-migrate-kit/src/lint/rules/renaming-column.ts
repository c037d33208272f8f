import { nodeAs, quoteIdent, showColumn, tableOf } from '../nodes'
import { parallelColumnRecipe } from '../recipes'
import { defineRule, isExisting, isNewColumn } from '../rule'

/** RENAME COLUMN: the running release still queries the old name, and fails the moment this commits. */
export const renamingColumn = defineRule({
  name: 'renaming-column',
  level: 'error',
  summary: 'RENAME COLUMN breaks every running query that uses the old name, at once.',
  examples: {
    fail: ['ALTER TABLE "User" RENAME COLUMN "name" TO "fullName";'],
    pass: [
      'CREATE TABLE "Team" ("title" TEXT);\nALTER TABLE "Team" RENAME COLUMN "title" TO "name";',
      'ALTER TABLE "User" RENAME CONSTRAINT "User_a_key" TO "User_b_key";',
    ],
  },
  check(context) {
    const rename = nodeAs(context.node, 'RenameStmt')
    const table = tableOf(rename?.relation)
    if (rename?.renameType !== 'OBJECT_COLUMN' || !table || !rename.subname || !rename.newname) return []
    if (!isExisting(context, table) || isNewColumn(context, table, rename.subname)) return []
    const from = quoteIdent(rename.subname)
    return [
      {
        message:
          `Renaming ${showColumn(table, rename.subname)} to ${quoteIdent(rename.newname)} breaks the running ` +
          `release at once: Prisma Client names every column in its queries, so they fail with ` +
          `column ${from} does not exist until the new code is out (and the new code fails before this runs).`,
        help:
          `If only the name in code should change: revert this migration and rename the field in schema.prisma ` +
          `with @map("${rename.subname}") on it; no migration is needed.\n` +
          `To rename the column itself, expand and contract over several releases:\n` +
          parallelColumnRecipe(table, rename.subname, rename.newname, 'with the same type'),
      },
    ]
  },
})
