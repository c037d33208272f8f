import { lockOn, lockPhrase } from '../locks'
import { alterTableCommands, nodeAs, showTable, tableOf } from '../nodes'
import { acknowledge, ownMigration } from '../recipes'
import { defineRule, isExisting } from '../rule'

/** DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the parent: every query on the whole table waits. */
export const requireConcurrentPartitionDetach = defineRule({
  name: 'require-concurrent-partition-detach',
  level: 'error',
  summary: 'DETACH PARTITION without CONCURRENTLY (PostgreSQL 14+) locks the whole partitioned table (ACCESS EXCLUSIVE).',
  examples: {
    fail: ['ALTER TABLE "Event" DETACH PARTITION "Event_2024";'],
    pass: ['ALTER TABLE "Event" DETACH PARTITION "Event_2024" CONCURRENTLY;'],
  },
  check(context) {
    return alterTableCommands(context.node).flatMap(({ table, cmd }) => {
      const partition = nodeAs(cmd.def, 'PartitionCmd')
      if (cmd.subtype !== 'AT_DetachPartition' || !partition || partition.concurrent || !isExisting(context, table)) return []
      const child = tableOf(partition.name)
      const concurrently = context.settings.postgresVersion >= 14
      return [
        {
          message:
            `DETACH PARTITION ${child ? showTable(child) : ''} ${lockPhrase(lockOn(table, 'ACCESS EXCLUSIVE'))}: ` +
            `every partition's reads and writes wait, not only the detached one's.`,
          help: concurrently
            ? ownMigration(`ALTER TABLE ${showTable(table)} DETACH PARTITION ${child ? showTable(child) : '…'} CONCURRENTLY;`) +
              ' (it cannot run in a transaction; if it is interrupted, finish it with … DETACH PARTITION … FINALIZE).'
            : `PostgreSQL ${context.settings.postgresVersion} has no DETACH … CONCURRENTLY (14+): set a short lock_timeout and ` +
              `retry.\n` +
              acknowledge('require-concurrent-partition-detach', 'a lock_timeout bounds the wait'),
        },
      ]
    })
  },
})
