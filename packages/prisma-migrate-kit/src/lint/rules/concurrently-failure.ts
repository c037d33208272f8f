import { nodeAs } from '../nodes'
import { acknowledge } from '../recipes'
import { defineRule, inTransaction } from '../rule'
import { concurrentOperation } from './ban-concurrently-in-transaction'

/** What each CONCURRENTLY operation leaves behind when it fails part-way, and how to clean up before a retry. */
const LEFT_BEHIND: Record<string, { leaves: string; cleanUp: (name: string) => string }> = {
  'CREATE INDEX CONCURRENTLY': {
    leaves: 'the index stays, marked INVALID: queries do not use it, yet every write keeps maintaining it',
    cleanUp: (name) => `DROP INDEX CONCURRENTLY IF EXISTS ${name};`,
  },
  'REINDEX CONCURRENTLY': {
    leaves: 'a second, INVALID copy of the index stays (named …_ccnew): every write maintains it',
    cleanUp: () => 'DROP INDEX CONCURRENTLY on the INVALID *_ccnew index (see \\d of the table);',
  },
  'DROP INDEX CONCURRENTLY': {
    leaves: 'the index may stay, marked INVALID',
    cleanUp: (name) => `DROP INDEX CONCURRENTLY IF EXISTS ${name};`,
  },
  'DETACH PARTITION CONCURRENTLY': {
    leaves: 'the partition stays half detached ("DETACH PENDING"), and no other detach can start',
    cleanUp: () => 'ALTER TABLE <parent> DETACH PARTITION <partition> FINALIZE;',
  },
}

/**
 * A CONCURRENTLY statement alone in its migration (the safe way) cannot run in a transaction, so a failure part-way
 * (a duplicate under a UNIQUE index, a deadlock, lock_timeout, a cancelled deploy) is not rolled back: say what it
 * leaves and how to clean up, before anyone retries the deploy.
 */
export const concurrentlyFailure = defineRule({
  name: 'concurrently-failure',
  level: 'warning',
  summary: 'A CONCURRENTLY statement is not rolled back when it fails part-way: what it leaves, and the clean-up before a retry.',
  examples: {
    fail: ['CREATE UNIQUE INDEX CONCURRENTLY "User_email_key" ON "User"("email");', 'DROP INDEX CONCURRENTLY "User_email_idx";'],
    pass: ['CREATE UNIQUE INDEX "User_email_key" ON "User"("email");'],
  },
  check(context) {
    const operation = concurrentOperation(context.node)
    // Inside a transaction it fails at once and leaves nothing: ban-concurrently-in-transaction says so.
    if (!operation || inTransaction(context)) return []
    const what = LEFT_BEHIND[operation]
    if (!what) return []
    const index = nodeAs(context.node, 'IndexStmt')?.idxname
    const name = index ? `"${index}"` : '<the index>'
    return [
      {
        message: `${operation} runs outside any transaction: if it fails part-way, ${what.leaves}, and Prisma records the migration failed.`,
        help:
          `Before retrying: ${what.cleanUp(name)} then \`npx migrate-kit prisma migrate resolve --rolled-back ${context.file.migration}\` ` +
          `and \`npx migrate-kit deploy\`. ${acknowledge('concurrently-failure', 'the runbook already covers it')}`,
      },
    ]
  },
})
