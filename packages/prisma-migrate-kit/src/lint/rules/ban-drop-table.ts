import { lockOn, lockPhrase } from '../locks'
import { droppedRefs, nodeAs, showTable } from '../nodes'
import { acknowledge, numbered } from '../recipes'
import { defineRule, isExisting } from '../rule'

/** DROP TABLE: data loss, and the running release's queries on it fail. */
export const banDropTable = defineRule({
  name: 'ban-drop-table',
  level: 'error',
  summary: 'DROP TABLE deletes the data and breaks every running query on the table.',
  examples: {
    fail: ['DROP TABLE "Session";', 'DROP TABLE IF EXISTS "a", "b";'],
    pass: ['CREATE TABLE "Scratch" ("id" INTEGER);\nDROP TABLE "Scratch";', 'DROP VIEW "ActiveUsers";'],
  },
  check(context) {
    const drop = nodeAs(context.node, 'DropStmt')
    if (drop?.removeType !== 'OBJECT_TABLE') return []
    return droppedRefs(drop.objects)
      .filter((table) => isExisting(context, table))
      .map((table) => ({
        message:
          `Dropping ${showTable(table)} deletes its rows for good and breaks every running release that still ` +
          `queries it (relation ${showTable(table)} does not exist). It ` +
          `${lockPhrase(lockOn(table, 'ACCESS EXCLUSIVE'))}.`,
        help:
          numbered([
            `Release code that no longer uses the model, before this migration runs (the table stays, unused).`,
            `Keep a copy if the data may be needed (pg_dump -t ${showTable(table)}), and write its rollback.sql.`,
            `Then drop it in this contract migration.`,
          ]) +
          '\n' +
          acknowledge('ban-drop-table', 'steps 1 and 2 are done'),
      }))
  },
})
