import { lockOn, lockPhrase } from '../locks'
import { nodeAs, tableOf } from '../nodes'
import { ownMigration, statementText } from '../recipes'
import { defineRule, isExisting } from '../rule'

/** CREATE INDEX without CONCURRENTLY: a SHARE lock that stops every write for the whole build. */
export const requireConcurrentIndexCreation = defineRule({
  name: 'require-concurrent-index-creation',
  level: 'error',
  summary: 'CREATE INDEX without CONCURRENTLY on an existing table blocks writes for the whole build.',
  examples: {
    fail: ['CREATE INDEX "User_email_idx" ON "User"("email");', 'CREATE UNIQUE INDEX "User_email_key" ON "User"("email");'],
    pass: [
      'CREATE INDEX CONCURRENTLY "User_email_idx" ON "User"("email");',
      'CREATE TABLE "Team" ("id" INTEGER, "slug" TEXT);\nCREATE UNIQUE INDEX "Team_slug_key" ON "Team"("slug");',
    ],
  },
  check(context) {
    const index = nodeAs(context.node, 'IndexStmt')
    const table = tableOf(index?.relation)
    if (!index || index.concurrent || !table || !isExisting(context, table)) return []
    const concurrent = statementText({ IndexStmt: { ...index, concurrent: true } }, 'CREATE INDEX CONCURRENTLY …')
    return [
      {
        message: `Building this index ${lockPhrase(lockOn(table, 'SHARE'))}, and the build ` + `reads the whole table.`,
        help:
          `Build it with CONCURRENTLY (reads and writes continue). ${ownMigration(concurrent)}\n` +
          `If a concurrent build fails it leaves an INVALID index: DROP INDEX CONCURRENTLY it and run the migration again.`,
        sized: { table, work: 'build' },
      },
    ]
  },
})
