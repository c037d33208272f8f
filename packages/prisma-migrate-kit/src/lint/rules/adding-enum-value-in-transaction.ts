import { nodeAs } from '../nodes'
import { defineRule, inTransaction, transactionPlace } from '../rule'

/** ALTER TYPE … ADD VALUE cannot run inside a transaction block before PostgreSQL 12. */
export const addingEnumValueInTransaction = defineRule({
  name: 'adding-enum-value-in-transaction',
  level: 'error',
  summary: 'Before PostgreSQL 12, ALTER TYPE … ADD VALUE fails inside a transaction (a multi-statement migration).',
  exampleSettings: { postgresVersion: 11 },
  examples: {
    fail: [`ALTER TYPE "Role" ADD VALUE 'A';\nALTER TYPE "Role" ADD VALUE 'B';`, `BEGIN;\nALTER TYPE "Role" ADD VALUE 'A';\nCOMMIT;`],
    pass: [`-- AlterEnum\nALTER TYPE "Role" ADD VALUE 'A';`, `CREATE TYPE "Role" AS ENUM ('A');\nCREATE TABLE "User" ("role" "Role");`],
  },
  check(context) {
    const added = nodeAs(context.node, 'AlterEnumStmt')
    if (added?.newVal === undefined || added.oldVal !== undefined) return []
    if (context.settings.postgresVersion >= 12 || !inTransaction(context)) return []
    return [
      {
        message:
          `ALTER TYPE … ADD VALUE '${added.newVal}' cannot run inside a transaction block on PostgreSQL ` +
          `${context.settings.postgresVersion}, and it runs ${transactionPlace(context)}: the migration fails.`,
        help:
          `Give each ADD VALUE a migration of its own, with nothing else in it (Prisma's own comment says so for ` +
          `PostgreSQL 11 and earlier), or upgrade to PostgreSQL 12+.`,
      },
    ]
  },
})
