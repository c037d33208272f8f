import { lockPhrase } from '../locks'
import { nodeAs } from '../nodes'
import { acknowledge } from '../recipes'
import { defineRule, isExisting } from '../rule'

/** TRUNCATE in a migration: every row gone, under ACCESS EXCLUSIVE, and CASCADE reaches other tables. */
export const banTruncate = defineRule({
  name: 'ban-truncate',
  level: 'error',
  summary: 'TRUNCATE deletes every row of an existing table under ACCESS EXCLUSIVE (CASCADE: of others too).',
  examples: {
    fail: ['TRUNCATE TABLE "Session";', 'TRUNCATE "Cart" CASCADE;'],
    pass: ['CREATE TABLE "Import" ("id" INTEGER);\nTRUNCATE "Import";'],
  },
  check(context) {
    const truncate = nodeAs(context.node, 'TruncateStmt')
    if (!truncate) return []
    const cascade = truncate.behavior === 'DROP_CASCADE' ? ' and of every table whose foreign keys reference it (CASCADE)' : ''
    return context.locks
      .filter((lock) => isExisting(context, lock.table))
      .map((lock) => ({
        message:
          `TRUNCATE deletes every row of ${lock.target}${cascade}; ` +
          `it ${lockPhrase(lock)}, and the rows cannot be restored by a rollback.sql.`,
        help:
          `Delete data in a backfill (batched, with a snapshot to restore from), not in a migration. ` +
          acknowledge('ban-truncate', 'the table only ever holds disposable data'),
      }))
  },
})
