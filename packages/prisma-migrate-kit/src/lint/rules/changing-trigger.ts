import type { Node } from 'libpg-query'
import { lockOn, lockPhrase, type LockMode } from '../locks'
import { alterTableCommands, names, nodeAs, refOfNames, showTable, tableOf, type TableRef } from '../nodes'
import { acknowledge } from '../recipes'
import { defineRule, isExisting } from '../rule'

interface TriggerChange {
  table: TableRef
  verb: string
  trigger?: string
  mode: LockMode
  /** What running code or data may lose or gain. */
  consequence: string
}

const ALTER_TRIGGER: Partial<Record<string, { verb: string; consequence: string }>> = {
  AT_DisableTrig: { verb: 'Disabling', consequence: 'writes made meanwhile skip what it does (audit rows, denormalised columns, checks)' },
  AT_DisableTrigAll: {
    verb: 'Disabling all triggers of',
    consequence: 'writes made meanwhile skip every trigger, foreign-key checks included',
  },
  AT_DisableTrigUser: { verb: 'Disabling the user triggers of', consequence: 'writes made meanwhile skip what they do' },
  AT_EnableTrig: { verb: 'Enabling', consequence: "every write from now on runs it, the running release's included" },
  AT_EnableAlwaysTrig: { verb: 'Enabling (ALWAYS)', consequence: 'every write from now on runs it, replicated ones included' },
  AT_EnableReplicaTrig: { verb: 'Enabling (REPLICA)', consequence: 'replicated writes from now on run it' },
  AT_EnableTrigAll: { verb: 'Enabling all triggers of', consequence: 'every write from now on runs them' },
  AT_EnableTrigUser: { verb: 'Enabling the user triggers of', consequence: 'every write from now on runs them' },
}

function triggerChanges(node: Node): TriggerChange[] {
  const create = nodeAs(node, 'CreateTrigStmt')
  const created = tableOf(create?.relation)
  if (create && created) {
    return [
      {
        table: created,
        verb: create.replace ? 'Replacing' : 'Creating',
        ...(create.trigname ? { trigger: create.trigname } : {}),
        mode: 'SHARE ROW EXCLUSIVE',
        consequence: "every write from now on runs it, the running release's included, and it may fail or slow them",
      },
    ]
  }
  const drop = nodeAs(node, 'DropStmt')
  if (drop?.removeType === 'OBJECT_TRIGGER') {
    return (drop.objects ?? []).flatMap((object) => {
      const parts = names(nodeAs(object, 'List')?.items)
      const trigger = parts.pop()
      const table = refOfNames(parts)
      if (!table || trigger === undefined) return []
      return [
        {
          table,
          verb: 'Dropping',
          trigger,
          mode: 'ACCESS EXCLUSIVE' as const,
          consequence: 'writes stop doing what it did, while code may still rely on it',
        },
      ]
    })
  }
  return alterTableCommands(node).flatMap(({ table, cmd }) => {
    const change = ALTER_TRIGGER[cmd.subtype ?? '']
    if (!change) return []
    return [
      {
        table,
        verb: change.verb,
        ...(cmd.name ? { trigger: cmd.name } : {}),
        mode: 'SHARE ROW EXCLUSIVE' as const,
        consequence: change.consequence,
      },
    ]
  })
}

/** CREATE / DROP / ENABLE / DISABLE TRIGGER on an existing table: a lock that blocks writes, and behaviour that changes under running code. */
export const changingTrigger = defineRule({
  name: 'changing-trigger',
  level: 'warning',
  summary: "CREATE / DROP / ENABLE / DISABLE TRIGGER on an existing table blocks writes and changes what running code's writes do.",
  examples: {
    fail: [
      'CREATE TRIGGER "User_audit" AFTER UPDATE ON "User" FOR EACH ROW EXECUTE FUNCTION audit();',
      'DROP TRIGGER "User_audit" ON "User";',
      'ALTER TABLE "User" DISABLE TRIGGER "User_audit";',
      'ALTER TABLE "User" ENABLE TRIGGER ALL;',
    ],
    pass: [
      'CREATE TABLE "Log" ("id" INTEGER);\nCREATE TRIGGER "Log_audit" AFTER INSERT ON "Log" FOR EACH ROW EXECUTE FUNCTION audit();',
      'CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;',
    ],
  },
  check(context) {
    return triggerChanges(context.node)
      .filter((change) => isExisting(context, change.table))
      .map((change) => {
        const name = change.trigger ? ` trigger "${change.trigger}" on` : ''
        return {
          message: `${change.verb}${name} ${showTable(change.table)} ${lockPhrase(lockOn(change.table, change.mode))}; ${change.consequence}.`,
          help:
            `Set a lock_timeout first. Ship the code that expects the new behaviour before (enable/create) or after ` +
            `(disable/drop) this migration, and backfill what writes made while it was off.\n` +
            acknowledge('changing-trigger', 'running code does not depend on the trigger'),
        }
      })
  },
})
