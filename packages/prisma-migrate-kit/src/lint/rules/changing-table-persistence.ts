import { lockOn, lockPhrase } from '../locks'
import { alterTableCommands, showTable } from '../nodes'
import { acknowledge } from '../recipes'
import { defineRule, isExisting } from '../rule'

/**
 * SET LOGGED / SET UNLOGGED rewrite the table under ACCESS EXCLUSIVE (SET LOGGED also writes all of it to the WAL,
 * which replicas must replay); an UNLOGGED table is emptied after a crash and is not on any replica.
 */
export const changingTablePersistence = defineRule({
  name: 'changing-table-persistence',
  level: 'error',
  summary: 'ALTER TABLE … SET LOGGED / SET UNLOGGED rewrites the table under ACCESS EXCLUSIVE.',
  examples: {
    fail: ['ALTER TABLE "Event" SET UNLOGGED;', 'ALTER TABLE "Event" SET LOGGED;'],
    pass: ['CREATE UNLOGGED TABLE "Cache" ("id" INTEGER);\nALTER TABLE "Cache" SET LOGGED;', 'ALTER TABLE "Event" SET (fillfactor = 90);'],
  },
  check(context) {
    return alterTableCommands(context.node).flatMap(({ table, cmd }) => {
      if ((cmd.subtype !== 'AT_SetLogged' && cmd.subtype !== 'AT_SetUnLogged') || !isExisting(context, table)) return []
      const logged = cmd.subtype === 'AT_SetLogged'
      return [
        {
          message:
            `SET ${logged ? 'LOGGED' : 'UNLOGGED'} rewrites ${showTable(table)} and its indexes, and the rewrite ` +
            `${lockPhrase(lockOn(table, 'ACCESS EXCLUSIVE'))}.` +
            (logged
              ? ' The whole table also goes through the WAL: replicas fall behind while they replay it.'
              : ' Afterwards the table is emptied after any crash and is missing on every replica.'),
          help:
            `Create the new table with the persistence you want, fill it with a backfill, and switch to it in a later ` +
            `migration.\n` +
            acknowledge('changing-table-persistence', 'the table is small'),
          sized: { table, work: 'rewrite' },
        },
      ]
    })
  },
})
