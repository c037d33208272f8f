import { lockPhrase } from '../locks'
import { nodeAs } from '../nodes'
import { acknowledge, ownMigration } from '../recipes'
import { defineRule, isExisting } from '../rule'

/**
 * REINDEX without CONCURRENTLY: the table is locked against writes for the whole rebuild, and each index against
 * every query that would use it (ACCESS EXCLUSIVE on the index). PostgreSQL 12+ rebuilds CONCURRENTLY.
 */
export const requireConcurrentReindex = defineRule({
  name: 'require-concurrent-reindex',
  level: 'error',
  summary: 'REINDEX without CONCURRENTLY blocks writes to the table and every query that uses the index while it rebuilds.',
  examples: {
    fail: [
      'REINDEX TABLE "User";',
      'REINDEX INDEX "User_email_key";',
      'REINDEX SCHEMA public;',
      'REINDEX (CONCURRENTLY FALSE) TABLE "User";',
    ],
    pass: [
      'REINDEX TABLE CONCURRENTLY "User";',
      'REINDEX (CONCURRENTLY) INDEX "User_email_key";',
      'CREATE TABLE "Team" ("id" INTEGER);\nREINDEX TABLE "Team";',
    ],
  },
  check(context) {
    const reindex = nodeAs(context.node, 'ReindexStmt')
    if (!reindex) return []
    const locks = context.locks
    const blocking = locks.find((lock) => lock.mode === 'ACCESS EXCLUSIVE' && isExisting(context, lock.table))
    if (!blocking) return []
    const writes = locks.find((lock) => lock.mode === 'SHARE')
    // REINDEX SYSTEM has no CONCURRENTLY form at all.
    const concurrently = context.settings.postgresVersion >= 12 && reindex.kind !== 'REINDEX_OBJECT_SYSTEM'
    return [
      {
        ...(blocking.table ? { sized: { table: blocking.table, work: 'build' as const } } : {}),
        message:
          `REINDEX ${lockPhrase(blocking)}` +
          (writes ? `, and ${lockPhrase(writes).replace(/^takes/, 'holds')}` : '') +
          `: on a large table that is the whole rebuild.`,
        help: concurrently
          ? ownMigration('REINDEX … CONCURRENTLY …; (it cannot run inside a transaction)') +
            ` A failed concurrent rebuild leaves an invalid "…_ccnew" index: drop it and run again.`
          : reindex.kind === 'REINDEX_OBJECT_SYSTEM'
            ? `REINDEX SYSTEM cannot run concurrently: run it by hand in a maintenance window, not in a deploy.\n` +
              acknowledge('require-concurrent-reindex', 'this runs in a maintenance window')
            : `PostgreSQL ${context.settings.postgresVersion} has no REINDEX CONCURRENTLY: build a new index with CREATE INDEX ` +
              `CONCURRENTLY, then drop the old one (DROP INDEX CONCURRENTLY) and rename the new one.\n` +
              acknowledge('require-concurrent-reindex', 'the table is small or the rebuild runs in a maintenance window'),
      },
    ]
  },
})
