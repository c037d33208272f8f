import { lockPhrase } from '../locks'
import { nodeAs } from '../nodes'
import { acknowledge, ownMigration } from '../recipes'
import { defineRule, inTransaction, isExisting, transactionPlace } from '../rule'

/**
 * VACUUM FULL and CLUSTER rewrite the whole table under ACCESS EXCLUSIVE (no reads, no writes until done), and any
 * VACUUM fails inside a transaction block, which is what Prisma makes of a file of several statements.
 */
export const banVacuumFullAndCluster = defineRule({
  name: 'ban-vacuum-full-and-cluster',
  level: 'error',
  summary: 'VACUUM FULL and CLUSTER rewrite the table under ACCESS EXCLUSIVE; any VACUUM fails inside a transaction.',
  examples: {
    fail: [
      'VACUUM FULL "Event";',
      'CLUSTER;',
      "SET lock_timeout = '5s';\nCLUSTER;",
      'CLUSTER "Event" USING "Event_createdAt_idx";',
      'VACUUM (FULL, ANALYZE) "Event";',
      'SET lock_timeout = \'5s\';\nVACUUM "Event";',
    ],
    pass: [
      'VACUUM (FULL FALSE) "Event";',
      'VACUUM "Event";',
      'VACUUM (ANALYZE) "Event";',
      'CREATE TABLE "Import" ("id" INTEGER);\nCLUSTER "Import" USING "Import_pkey";',
    ],
  },
  check(context) {
    const vacuum = nodeAs(context.node, 'VacuumStmt')
    const cluster = nodeAs(context.node, 'ClusterStmt')
    if (!vacuum && !cluster) return []
    // VACUUM, and CLUSTER without a table, refuse to run in a transaction block.
    const command = vacuum?.is_vacuumcmd ? 'VACUUM' : cluster && !cluster.relation ? 'CLUSTER' : undefined
    if (command && inTransaction(context)) {
      return [
        {
          message:
            `${command} cannot run inside a transaction block, and this one runs ${transactionPlace(context)}: PostgreSQL ` +
            `fails the migration ("${command} cannot run inside a transaction block").`,
          help: ownMigration('VACUUM (ANALYZE) …;') + ' Or leave vacuuming to autovacuum and run it by hand after the deploy.',
        },
      ]
    }
    return context.locks
      .filter((lock) => lock.mode === 'ACCESS EXCLUSIVE' && isExisting(context, lock.table))
      .map((lock) => ({
        message:
          `${cluster ? 'CLUSTER' : 'VACUUM FULL'} writes a new copy of ${lock.target} and its indexes, and ${lockPhrase(lock)}: ` +
          `on a large table that is minutes to hours of downtime, and it needs free disk for a second copy.`,
        help:
          `Reclaim space without the lock: pg_repack (online, a trigger and a brief lock at the end), or let (auto)vacuum ` +
          `reuse the space. Table maintenance belongs in an operator's window, not in a deploy.\n` +
          acknowledge('ban-vacuum-full-and-cluster', 'the table is small or this runs in a maintenance window'),
        ...(lock.table ? { sized: { table: lock.table, work: 'rewrite' as const } } : {}),
      }))
  },
})
