import { lockOn, lockPhrase } from '../locks'
import { addedConstraint, alterTableCommands, quoteIdent, showTable, tableKey } from '../nodes'
import { acknowledge } from '../recipes'
import { defineRule, isExisting } from '../rule'
import type { ConstraintKind } from '../schema'

const GUARDS: Record<ConstraintKind, string> = {
  check: 'rows that break the check can be written from then on',
  foreign_key: 'rows pointing at missing parents can be written from then on, and ON DELETE actions stop',
  unique: 'duplicates can be written from then on, and upserts (ON CONFLICT) on those columns start failing',
  primary_key: 'duplicate keys can be written from then on; foreign keys that reference it must go first',
  exclusion: 'overlapping rows can be written from then on',
}

/**
 * DROP CONSTRAINT on an existing table: the data stops being guarded at once, while running code and later queries
 * may rely on the guarantee (an upsert needs its unique index). The lock is brief but ACCESS EXCLUSIVE.
 */
export const droppingConstraint = defineRule({
  name: 'dropping-constraint',
  level: 'warning',
  summary: 'DROP CONSTRAINT removes a guarantee running code and data may rely on (ACCESS EXCLUSIVE, brief).',
  examples: {
    fail: ['ALTER TABLE "Post" DROP CONSTRAINT "Post_authorId_fkey";', 'ALTER TABLE "User" DROP CONSTRAINT IF EXISTS "User_email_key";'],
    pass: [
      'CREATE TABLE "Tag" ("id" INTEGER, CONSTRAINT "Tag_id_check" CHECK ("id" > 0));\nALTER TABLE "Tag" DROP CONSTRAINT "Tag_id_check";',
      'ALTER TABLE "Post" ADD CONSTRAINT "Post_title_check" CHECK ("title" <> \'\') NOT VALID;',
      // Prisma's own way of changing a foreign key.
      'ALTER TABLE "Post" DROP CONSTRAINT "Post_authorId_fkey";\n' +
        'ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE CASCADE;',
    ],
  },
  check(context) {
    return alterTableCommands(context.node).flatMap(({ table, cmd }) => {
      if (cmd.subtype !== 'AT_DropConstraint' || cmd.name === undefined || !isExisting(context, table)) return []
      const name = cmd.name
      // Prisma changes a foreign key by dropping it and adding it again under the same name in the same file: the
      // guarantee is back before the migration commits (adding-foreign-key-constraint judges the new one).
      const readded = context.following.some((node) =>
        alterTableCommands(node).some((later) => tableKey(later.table) === tableKey(table) && addedConstraint(later.cmd)?.conname === name),
      )
      if (readded) return []
      const known = context.schema.constraint(table, cmd.name)
      // A CHECK that stood in for NOT NULL (the SET NOT NULL recipe's last step) guards nothing the column does not.
      if (known?.notNullColumn !== undefined && context.schema.column(table, known.notNullColumn)?.notNull) return []
      const guard = known ? GUARDS[known.kind] : 'whatever it guarded can be broken from then on'
      return [
        {
          message: `Dropping ${quoteIdent(cmd.name)} of ${showTable(table)}: ${guard}. It ${lockPhrase(lockOn(table, 'ACCESS EXCLUSIVE'))} (briefly, once granted).`,
          help:
            `Release code that no longer relies on the constraint first (contract step), keep its definition in the rollback.sql, ` +
            `and set a lock_timeout.\n` +
            acknowledge('dropping-constraint', 'no running code relies on it'),
        },
      ]
    })
  },
})
