import { indexBuildingConstraints, usingIndexSteps } from '../index-backed'
import { lockOn, lockPhrase } from '../locks'
import { numbered } from '../recipes'
import { defineRule } from '../rule'

/** ADD UNIQUE builds a unique index inside the ALTER TABLE, holding ACCESS EXCLUSIVE for the whole build. */
export const disallowedUniqueConstraint = defineRule({
  name: 'disallowed-unique-constraint',
  level: 'error',
  summary: 'ADD UNIQUE on an existing table builds its index under ACCESS EXCLUSIVE; use UNIQUE USING INDEX.',
  examples: {
    fail: ['ALTER TABLE "User" ADD CONSTRAINT "User_email_key" UNIQUE ("email");', 'ALTER TABLE "User" ADD COLUMN "handle" TEXT UNIQUE;'],
    pass: [
      'ALTER TABLE "User" ADD CONSTRAINT "User_email_key" UNIQUE USING INDEX "User_email_key";',
      'CREATE TABLE "Team" ("slug" TEXT);\nALTER TABLE "Team" ADD CONSTRAINT "Team_slug_key" UNIQUE ("slug");',
    ],
  },
  check(context) {
    return indexBuildingConstraints(context, 'CONSTR_UNIQUE').map((found) => ({
      message:
        `Adding UNIQUE builds its index inside the ALTER TABLE, which ` +
        `${lockPhrase(lockOn(found.table, 'ACCESS EXCLUSIVE'))}; the ` +
        `build reads the whole table. Running code that inserts duplicates starts failing.`,
      help: numbered(usingIndexSteps(found, 'UNIQUE')),
      location: found.constraint.location,
      sized: { table: found.table, work: 'build' as const },
    }))
  },
})
