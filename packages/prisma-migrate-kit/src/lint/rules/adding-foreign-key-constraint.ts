import type { Constraint } from 'libpg-query'
import { lockOn, lockPhrase } from '../locks'
import { addedColumn, addedConstraint, alterTableCommands, columnConstraint, names, showTable, tableOf } from '../nodes'
import { notValidSteps, numbered } from '../recipes'
import { defineRule, isExisting } from '../rule'

/**
 * A foreign key added to an existing table without NOT VALID: PostgreSQL checks every row while holding SHARE ROW
 * EXCLUSIVE on both tables, so writes to both wait for the whole scan.
 */
export const addingForeignKeyConstraint = defineRule({
  name: 'adding-foreign-key-constraint',
  level: 'error',
  summary: 'ADD FOREIGN KEY without NOT VALID on an existing table blocks writes to both tables during a full scan.',
  examples: {
    fail: [
      'ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;',
      'ALTER TABLE "Post" ADD COLUMN "editorId" INTEGER REFERENCES "User"("id");',
    ],
    pass: [
      'ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") NOT VALID;',
      'CREATE TABLE "Comment" ("id" SERIAL NOT NULL, "postId" INTEGER NOT NULL);\n' +
        'ALTER TABLE "Comment" ADD CONSTRAINT "Comment_postId_fkey" FOREIGN KEY ("postId") REFERENCES "Post"("id");',
    ],
  },
  check(context) {
    return alterTableCommands(context.node).flatMap(({ table, cmd, stmt }) => {
      if (!isExisting(context, table)) return []
      const column = addedColumn(cmd)
      const added = addedConstraint(cmd)
      const foreignKey: Constraint | undefined =
        added?.contype === 'CONSTR_FOREIGN' ? added : column && columnConstraint(column, 'CONSTR_FOREIGN')
      if (!foreignKey || foreignKey.skip_validation) return []
      const referenced = tableOf(foreignKey.pktable)
      // PostgreSQL's name for an unnamed foreign key.
      const columns = column?.colname ? [column.colname] : names(foreignKey.fk_attrs)
      const name = foreignKey.conname ?? `${table.name}_${columns.join('_')}_fkey`
      // An inline REFERENCES becomes a table constraint on that one column.
      const constraint: Constraint = column?.colname ? { ...foreignKey, fk_attrs: [{ String: { sval: column.colname } }] } : foreignKey
      const lock = lockPhrase(lockOn(table, 'SHARE ROW EXCLUSIVE')) + (referenced ? ` (and the same on ${showTable(referenced)})` : '')
      return [
        {
          message: `Adding this foreign key scans every row of ${showTable(table)} to validate it, and ${lock}.`,
          help: numbered([
            ...(column ? [`Add the column without REFERENCES.`] : []),
            ...notValidSteps(stmt.relation, table, constraint, name),
          ]),
          location: foreignKey.location,
          sized: { table, work: 'scan' },
        },
      ]
    })
  },
})
