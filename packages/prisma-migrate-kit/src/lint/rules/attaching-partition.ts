import { lockOn, lockPhrase } from '../locks'
import { alterTableCommands, nodeAs, showTable, tableOf } from '../nodes'
import { acknowledge, numbered } from '../recipes'
import { defineRule, isExisting } from '../rule'

/**
 * ATTACH PARTITION takes only SHARE UPDATE EXCLUSIVE on the parent (PostgreSQL 12+), but ACCESS EXCLUSIVE on the
 * table being attached, which it scans to prove every row fits the bound: unless a validated CHECK already proves it.
 * A DEFAULT partition is scanned too, for rows that now belong to the new one.
 */
export const attachingPartition = defineRule({
  name: 'attaching-partition',
  level: 'warning',
  summary: 'ATTACH PARTITION scans the attached table under ACCESS EXCLUSIVE unless a validated CHECK matches its bound.',
  examples: {
    fail: [`ALTER TABLE "Event" ATTACH PARTITION "Event_2025" FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');`],
    pass: [
      `CREATE TABLE "Event_2026" ("id" INTEGER, "at" DATE);\nALTER TABLE "Event" ATTACH PARTITION "Event_2026" FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');`,
    ],
  },
  check(context) {
    return alterTableCommands(context.node).flatMap(({ table, cmd }) => {
      const partition = nodeAs(cmd.def, 'PartitionCmd')
      const child = tableOf(partition?.name)
      if (cmd.subtype !== 'AT_AttachPartition' || !child || !isExisting(context, child)) return []
      const constraints = [...(context.schema.table(child)?.constraints.values() ?? [])]
      if (constraints.some((constraint) => constraint.kind === 'check' && constraint.validated)) return []
      return [
        {
          message:
            `Attaching ${showTable(child)} to ${showTable(table)} scans every row of ${showTable(child)} to check the ` +
            `partition bound, and ${lockPhrase(lockOn(child, 'ACCESS EXCLUSIVE'))}; a DEFAULT partition of ` +
            `${showTable(table)} is scanned as well.`,
          help:
            numbered([
              `In an earlier migration, add a CHECK matching the bound NOT VALID, then VALIDATE it (no blocking scan).`,
              `ATTACH PARTITION then skips its scan; drop the CHECK afterwards.`,
            ]) +
            '\n' +
            acknowledge('attaching-partition', 'the attached table is empty or small'),
          sized: { table: child, work: 'scan' },
        },
      ]
    })
  },
})
