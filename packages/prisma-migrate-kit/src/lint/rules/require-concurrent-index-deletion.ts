import { lockPhrase } from '../locks'
import { nodeAs } from '../nodes'
import { ownMigration, statementText } from '../recipes'
import { defineRule, isExisting } from '../rule'

/** DROP INDEX without CONCURRENTLY: brief, but an ACCESS EXCLUSIVE lock on the indexed table. */
export const requireConcurrentIndexDeletion = defineRule({
  name: 'require-concurrent-index-deletion',
  level: 'warning',
  summary: 'DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the indexed table.',
  examples: {
    fail: ['DROP INDEX "User_email_idx";'],
    pass: [
      'DROP INDEX CONCURRENTLY IF EXISTS "User_email_idx";',
      'CREATE TABLE "Team" ("slug" TEXT);\nCREATE INDEX "Team_slug_idx" ON "Team"("slug");\nDROP INDEX "Team_slug_idx";',
    ],
  },
  check(context) {
    const drop = nodeAs(context.node, 'DropStmt')
    if (drop?.removeType !== 'OBJECT_INDEX' || drop.concurrent) return []
    const concurrent = statementText({ DropStmt: { ...drop, concurrent: true } }, 'DROP INDEX CONCURRENTLY …')
    return context.locks
      .filter((lock) => isExisting(context, lock.table))
      .map((lock) => ({
        message:
          `Dropping the index ${lockPhrase(lock)}; it is quick once granted, but while it waits for running ` +
          `queries every new query on the table queues behind it.`,
        help: `Drop it with CONCURRENTLY (no blocking lock). ${ownMigration(concurrent)}`,
      }))
  },
})
