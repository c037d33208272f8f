import type { Node } from 'libpg-query'
import { alterTableCommands, nodeAs, optionIsOn } from '../nodes'
import { defineRule, inTransaction, transactionPlace } from '../rule'

/** The statement's CONCURRENTLY clause, named for messages, if it has one. */
export function concurrentOperation(node: Node): string | undefined {
  if (nodeAs(node, 'IndexStmt')?.concurrent) return 'CREATE INDEX CONCURRENTLY'
  const drop = nodeAs(node, 'DropStmt')
  if (drop?.removeType === 'OBJECT_INDEX' && drop.concurrent) return 'DROP INDEX CONCURRENTLY'
  const reindex = nodeAs(node, 'ReindexStmt')
  if (reindex && optionIsOn(reindex.params, 'concurrently')) return 'REINDEX CONCURRENTLY'
  const detach = alterTableCommands(node).some(
    ({ cmd }) => cmd.subtype === 'AT_DetachPartition' && nodeAs(cmd.def, 'PartitionCmd')?.concurrent === true,
  )
  return detach ? 'DETACH PARTITION CONCURRENTLY' : undefined
}

/**
 * CONCURRENTLY cannot run inside a transaction block, and Prisma applies a migration file of several statements as
 * one script, which PostgreSQL runs as one implicit transaction: the migration fails (and is marked failed).
 */
export const banConcurrentlyInTransaction = defineRule({
  name: 'ban-concurrently-in-transaction',
  level: 'error',
  summary: 'CONCURRENTLY fails inside a transaction: in BEGIN … COMMIT, or in a migration file with other statements.',
  examples: {
    fail: [
      'SET lock_timeout = \'5s\';\nCREATE INDEX CONCURRENTLY "User_email_idx" ON "User"("email");',
      'BEGIN;\nDROP INDEX CONCURRENTLY "User_email_idx";\nCOMMIT;',
      'CREATE INDEX CONCURRENTLY "a_idx" ON "A"("x");\nCREATE INDEX CONCURRENTLY "b_idx" ON "B"("y");',
      `DO $$ BEGIN EXECUTE 'CREATE INDEX CONCURRENTLY "User_email_idx" ON "User"("email")'; END $$;`,
    ],
    pass: [
      '-- CreateIndex\nCREATE INDEX CONCURRENTLY "User_email_idx" ON "User"("email");\n',
      'CREATE INDEX "User_email_idx" ON "User"("email");\nCREATE INDEX "User_name_idx" ON "User"("name");',
    ],
  },
  check(context) {
    const operation = concurrentOperation(context.node)
    if (!operation || !inTransaction(context)) return []
    const where = transactionPlace(context)
    return [
      {
        message:
          `${operation} cannot run ${where}: PostgreSQL fails with "cannot run inside a transaction block" and ` +
          `Prisma marks the migration failed, blocking every later deploy until it is resolved.`,
        help:
          `Move the statement into a migration of its own (\`npx migrate-kit new <name> --empty\`), ` +
          `with nothing else in that migration.sql: no BEGIN/COMMIT, no SET, no second CONCURRENTLY statement.`,
      },
    ]
  },
})
