import { lockOn, lockPhrase } from '../locks'
import { addedConstraint, alterTableCommands, showTable } from '../nodes'
import { acknowledge, numbered } from '../recipes'
import { defineRule, isExisting } from '../rule'

/**
 * An exclusion constraint on an existing table builds its index and checks every row under ACCESS EXCLUSIVE; unlike
 * UNIQUE it can be neither added NOT VALID nor adopted from an index built CONCURRENTLY.
 */
export const addingExclusionConstraint = defineRule({
  name: 'adding-exclusion-constraint',
  level: 'error',
  summary: 'ADD … EXCLUDE on an existing table builds its index under ACCESS EXCLUSIVE, with no online alternative.',
  examples: {
    fail: ['ALTER TABLE "Booking" ADD CONSTRAINT "Booking_no_overlap" EXCLUDE USING gist ("room" WITH =, "during" WITH &&);'],
    pass: ['CREATE TABLE "Slot" ("during" TSRANGE);\nALTER TABLE "Slot" ADD CONSTRAINT "Slot_excl" EXCLUDE USING gist ("during" WITH &&);'],
  },
  check(context) {
    return alterTableCommands(context.node).flatMap(({ table, cmd }) => {
      const constraint = addedConstraint(cmd)
      if (constraint?.contype !== 'CONSTR_EXCLUSION' || !isExisting(context, table)) return []
      return [
        {
          message:
            `Adding an exclusion constraint builds its index and compares every row of ${showTable(table)} with the others, ` +
            `and ${lockPhrase(lockOn(table, 'ACCESS EXCLUSIVE'))}. PostgreSQL offers no NOT VALID and no USING INDEX for it.`,
          help:
            numbered([
              `Create a new table with the constraint, copy the rows with a backfill, and switch to it; or`,
              `run it in a maintenance window with a lock_timeout, after checking (with a query) that no rows conflict.`,
            ]) +
            '\n' +
            acknowledge('adding-exclusion-constraint', 'the table is small'),
          sized: { table, work: 'build' },
          ...(constraint.location === undefined ? {} : { location: constraint.location }),
        },
      ]
    })
  },
})
