import { indexBuildingConstraints, usingIndexSteps } from '../index-backed'
import { lockOn, lockPhrase } from '../locks'
import { addedConstraint, alterTableCommands, showColumn, withName } from '../nodes'
import { numbered, setNotNullSteps } from '../recipes'
import { defineRule, isExisting, type RuleFinding, type StatementContext } from '../rule'

/** ADD PRIMARY KEY builds a unique index (and sets NOT NULL) inside the ALTER TABLE, under ACCESS EXCLUSIVE. */
export const addingPrimaryKeyConstraint = defineRule({
  name: 'adding-primary-key-constraint',
  level: 'error',
  summary: 'ADD PRIMARY KEY on an existing table builds its index under ACCESS EXCLUSIVE; use PRIMARY KEY USING INDEX.',
  examples: {
    fail: [
      'ALTER TABLE "Event" ADD CONSTRAINT "Event_pkey" PRIMARY KEY ("id");',
      'ALTER TABLE "Event" ADD PRIMARY KEY ("id");',
      [
        'CREATE TABLE "Event" ("id" INTEGER);',
        'CREATE UNIQUE INDEX CONCURRENTLY "Event_id_key" ON "Event"("id");',
        'ALTER TABLE "Event" ADD CONSTRAINT "Event_pkey" PRIMARY KEY USING INDEX "Event_id_key";',
      ],
    ],
    pass: [
      'ALTER TABLE "Event" ADD CONSTRAINT "Event_pkey" PRIMARY KEY USING INDEX "Event_pkey";',
      'CREATE TABLE "Team" ("id" INTEGER NOT NULL, CONSTRAINT "Team_pkey" PRIMARY KEY ("id"));',
      [
        'CREATE TABLE "Event" ("id" INTEGER NOT NULL);',
        'CREATE UNIQUE INDEX CONCURRENTLY "Event_id_key" ON "Event"("id");',
        'ALTER TABLE "Event" ADD CONSTRAINT "Event_pkey" PRIMARY KEY USING INDEX "Event_id_key";',
      ],
    ],
  },
  check(context) {
    return [...buildsIndex(context), ...usingIndexOverNullable(context)]
  },
})

/** ADD PRIMARY KEY USING INDEX over a column the history knows as nullable: PostgreSQL sets NOT NULL, scanning the table. */
function usingIndexOverNullable(context: StatementContext): RuleFinding[] {
  return alterTableCommands(context.node).flatMap(({ table, cmd }) => {
    const constraint = addedConstraint(cmd)
    if (constraint?.contype !== 'CONSTR_PRIMARY' || !constraint.indexname || !isExisting(context, table)) return []
    const index = context.schema.index(withName(table, constraint.indexname))
    const nullable = (index?.columns ?? []).filter((column) => context.schema.column(table, column)?.notNull === false)
    if (nullable.length === 0) return []
    return [
      {
        message:
          `PRIMARY KEY USING INDEX makes ${nullable.map((column) => showColumn(table, column)).join(', ')} NOT NULL as well, ` +
          `which scans the whole table while the ALTER ${lockPhrase(lockOn(table, 'ACCESS EXCLUSIVE'))}: the index was built ` +
          `CONCURRENTLY, but this step is not online.`,
        help: numbered(nullable.flatMap((column) => setNotNullSteps(table, column)).concat('Then add the PRIMARY KEY USING INDEX.')),
        location: constraint.location,
        sized: { table, work: 'scan' },
      },
    ]
  })
}

function buildsIndex(context: StatementContext): RuleFinding[] {
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
    sized: { table: found.table, work: 'build' as const },
  }))
}
