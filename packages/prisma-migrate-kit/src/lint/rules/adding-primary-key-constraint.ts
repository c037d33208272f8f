import { indexBuildingConstraints, usingIndexSteps } from '../index-backed'
import { lockOn, lockPhrase } from '../locks'
import { numbered } from '../recipes'
import { defineRule } from '../rule'

/** ADD PRIMARY KEY builds a unique index (and sets NOT NULL) inside the ALTER TABLE, under ACCESS EXCLUSIVE. */
export const addingPrimaryKeyConstraint = defineRule({
  name: 'adding-primary-key-constraint',
  level: 'error',
  summary: 'ADD PRIMARY KEY on an existing table builds its index under ACCESS EXCLUSIVE; use PRIMARY KEY USING INDEX.',
  examples: {
    fail: ['ALTER TABLE "Event" ADD CONSTRAINT "Event_pkey" PRIMARY KEY ("id");', 'ALTER TABLE "Event" ADD PRIMARY KEY ("id");'],
    pass: [
      'ALTER TABLE "Event" ADD CONSTRAINT "Event_pkey" PRIMARY KEY USING INDEX "Event_pkey";',
      'CREATE TABLE "Team" ("id" INTEGER NOT NULL, CONSTRAINT "Team_pkey" PRIMARY KEY ("id"));',
    ],
  },
  check(context) {
    return indexBuildingConstraints(context, 'CONSTR_PRIMARY').map((found) => ({
      message:
        `Adding the PRIMARY KEY builds its index (and checks its columns for NULLs) inside the ALTER TABLE, which ` +
        `${lockPhrase(lockOn(found.table, 'ACCESS EXCLUSIVE'))}; the ` +
        `build reads the whole table.`,
      help: numbered([
        `Make the key columns NOT NULL first, without a scan (see adding-not-nullable-field).`,
        ...usingIndexSteps(found, 'PRIMARY KEY'),
      ]),
      location: found.constraint.location,
    }))
  },
})
