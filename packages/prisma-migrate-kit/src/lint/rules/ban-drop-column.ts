import { lockOn, lockPhrase } from '../locks'
import { alterTableCommands, quoteIdent, showColumn, showTable } from '../nodes'
import { acknowledge, numbered } from '../recipes'
import { defineRule, isExisting, isNewColumn } from '../rule'

/** DROP COLUMN: the running release's Prisma Client still selects the column by name. */
export const banDropColumn = defineRule({
  name: 'ban-drop-column',
  level: 'error',
  summary: 'DROP COLUMN breaks the running release, whose queries still name the column.',
  examples: {
    fail: ['ALTER TABLE "User" DROP COLUMN "legacyId";'],
    pass: [
      'CREATE TABLE "Team" ("id" INTEGER, "tmp" TEXT);\nALTER TABLE "Team" DROP COLUMN "tmp";',
      'ALTER TABLE "User" ADD COLUMN "tmp" TEXT;\nALTER TABLE "User" DROP COLUMN "tmp";',
      '-- migrate-kit-ignore ban-drop-column: no release has read legacyId since 2.4\nALTER TABLE "User" DROP COLUMN "legacyId";',
    ],
  },
  check(context) {
    return alterTableCommands(context.node).flatMap(({ table, cmd }) => {
      if (cmd.subtype !== 'AT_DropColumn' || cmd.name === undefined || !isExisting(context, table)) return []
      if (isNewColumn(context, table, cmd.name)) return []
      const column = quoteIdent(cmd.name)
      return [
        {
          message:
            `Dropping ${showColumn(table, cmd.name)} breaks every running release that still has the field: ` +
            `Prisma Client selects it by name, so its reads and writes of ${showTable(table)} fail with column ` +
            `${column} does not exist. The drop ${lockPhrase(lockOn(table, 'ACCESS EXCLUSIVE'))}.`,
          help:
            numbered([
              `Release code that no longer uses the field (if the column is NOT NULL without a default, ` +
                `first DROP NOT NULL so that code's inserts work).`,
              `Only when no running release has the field: drop the column in this contract migration.`,
            ]) +
            '\n' +
            acknowledge('ban-drop-column', 'step 1 is done'),
        },
      ]
    })
  },
})
