import { lockPhrase } from '../locks'
import { defineRule, isExisting } from '../rule'

/**
 * A statement that needs ACCESS EXCLUSIVE on an existing table, with no lock_timeout set before it. Even an instant
 * change waits for the lock behind any long-running query, and while it waits every other query on the table queues
 * behind it: a lock_timeout turns that outage into a failed migration that can simply be retried.
 */
export const requireLockTimeout = defineRule({
  name: 'require-lock-timeout',
  level: 'warning',
  summary: 'Set lock_timeout before the first statement that takes ACCESS EXCLUSIVE on an existing table.',
  oncePerFile: true,
  examples: {
    fail: ['ALTER TABLE "User" ADD COLUMN "bio" TEXT;', 'DROP TABLE "Session";'],
    pass: [
      `SET lock_timeout = '5s';\nALTER TABLE "User" ADD COLUMN "bio" TEXT;`,
      `SELECT set_config('lock_timeout', '5s', false);\nALTER TABLE "User" ADD COLUMN "bio" TEXT;`,
      'CREATE TABLE "Team" ("id" INTEGER);\nALTER TABLE "Team" ADD COLUMN "name" TEXT;',
      'CREATE INDEX CONCURRENTLY "User_bio_idx" ON "User"("bio");',
    ],
  },
  check(context) {
    if (context.file.lockTimeoutSet) return []
    const lock = context.locks.find((candidate) => candidate.mode === 'ACCESS EXCLUSIVE' && isExisting(context, candidate.table))
    if (!lock) return []
    return [
      {
        message:
          `This statement ${lockPhrase(lock)}, and no lock_timeout is set: if a long query or transaction holds ` +
          `any lock on it, this waits, and every read and write of it queues behind the waiting migration.`,
        help:
          `Start the migration with SET lock_timeout = '5s'; (Prisma runs the file as one script, so it covers every ` +
          `statement after it). A migration that times out rolls back as a whole: mark it with ` +
          `\`npx migrate-kit prisma migrate resolve --rolled-back <migration>\` and deploy again when the table is quieter.`,
      },
    ]
  },
})
