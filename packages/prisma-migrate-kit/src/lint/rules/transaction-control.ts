import type { Node } from 'libpg-query'
import { nodeAs } from '../nodes'
import { acknowledge } from '../recipes'
import { defineRule } from '../rule'

const OPENS = new Set(['TRANS_STMT_BEGIN', 'TRANS_STMT_START'])
/** COMMIT (END), ROLLBACK and PREPARE TRANSACTION all end the transaction block. */
const ENDS = new Set(['TRANS_STMT_COMMIT', 'TRANS_STMT_ROLLBACK', 'TRANS_STMT_PREPARE'])

function transactionKind(node: Node): string | undefined {
  return nodeAs(node, 'TransactionStmt')?.kind
}

const HELP =
  'Prisma applies each migration.sql as one script in one transaction of its own: write no BEGIN, COMMIT or ' +
  'ROLLBACK in it. A change that must commit in steps (an enum value used later, CREATE INDEX CONCURRENTLY) goes in ' +
  'migrations of their own: npx migrate-kit new <name> --empty.'

/**
 * Transaction control written into a migration. Prisma runs the file as one script: PostgreSQL wraps it in one
 * implicit transaction, so the migration applies whole or not at all. A BEGIN with no COMMIT leaves the session in a
 * transaction that Prisma's bookkeeping then joins (the migration is lost when the session closes, or recorded as
 * applied while nothing was); a second BEGIN is ignored with a warning, so the first COMMIT ends both; a COMMIT before
 * the end makes what came before it permanent, so a failure after it leaves the migration half applied.
 */
export const transactionControl = defineRule({
  name: 'transaction-control',
  level: 'error',
  summary: 'BEGIN with no COMMIT, a nested BEGIN, or a COMMIT/ROLLBACK before the end: the migration no longer applies as a whole.',
  examples: {
    fail: [
      'BEGIN;\nCREATE TABLE "Audit" ("id" INTEGER);',
      'BEGIN;\nBEGIN;\nCREATE TABLE "Audit" ("id" INTEGER);\nCOMMIT;',
      'CREATE TABLE "Audit" ("id" INTEGER);\nCOMMIT;\nCREATE TABLE "Trail" ("id" INTEGER);',
      'BEGIN;\nCREATE TABLE "Audit" ("id" INTEGER);\nCOMMIT;\nCREATE TABLE "Trail" ("id" INTEGER);',
    ],
    pass: ['CREATE TABLE "Audit" ("id" INTEGER);', 'BEGIN;\nCREATE TABLE "Audit" ("id" INTEGER);\nCOMMIT;'],
  },
  check(context) {
    const kind = transactionKind(context.node)
    if (kind === undefined) return []
    const endsLater = context.following.some((node) => ENDS.has(transactionKind(node) ?? ''))
    if (OPENS.has(kind)) {
      if (context.file.explicitTransaction) {
        return [
          {
            message:
              'a BEGIN inside the BEGIN of this file: PostgreSQL ignores it ("there is already a transaction in progress"), ' +
              'so the first COMMIT ends the outer transaction too and the rest of the file runs outside it.',
            help: `${HELP} ${acknowledge('transaction-control', 'the nesting is intended')}`,
          },
        ]
      }
      if (!endsLater) {
        return [
          {
            message:
              "BEGIN with no COMMIT: the script ends inside a transaction, which Prisma's bookkeeping then joins; when the " +
              'session closes everything is rolled back, while the migration may be reported applied.',
            help: HELP,
          },
        ]
      }
      return []
    }
    if (ENDS.has(kind) && context.following.length > 0) {
      const verb = kind === 'TRANS_STMT_ROLLBACK' ? 'ROLLBACK' : kind === 'TRANS_STMT_PREPARE' ? 'PREPARE TRANSACTION' : 'COMMIT'
      return [
        {
          message:
            `${verb} before the end of the file: what came before it is ${verb === 'COMMIT' ? 'committed' : 'ended'} on its own, so a ` +
            'failure in a later statement leaves the migration half applied (and recorded as failed), with no rollback of the whole.',
          help: HELP,
        },
      ]
    }
    return []
  },
})
