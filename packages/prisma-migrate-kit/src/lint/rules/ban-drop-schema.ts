import { lockPhrase } from '../locks'
import { names, nodeAs, quoteIdent } from '../nodes'
import { acknowledge } from '../recipes'
import { defineRule } from '../rule'

/** DROP SCHEMA: every object in it goes with CASCADE, and every query naming it fails. */
export const banDropSchema = defineRule({
  name: 'ban-drop-schema',
  level: 'error',
  summary: 'DROP SCHEMA deletes the schema (with CASCADE: every table, view and function in it).',
  examples: {
    fail: ['DROP SCHEMA "reporting" CASCADE;', 'DROP SCHEMA IF EXISTS "staging";'],
    pass: ['CREATE SCHEMA "scratch";\nDROP SCHEMA "scratch";', 'DROP TABLE "reporting"."Scratch";'],
  },
  check(context) {
    const drop = nodeAs(context.node, 'DropStmt')
    if (drop?.removeType !== 'OBJECT_SCHEMA') return []
    return (drop.objects ?? []).flatMap((object) => {
      const schema = names([object])[0]
      if (schema === undefined || context.schema.schemaCreatedIn(schema) === context.file.migration) return []
      const cascade = drop.behavior === 'DROP_CASCADE'
      const locks = context.locks
      return [
        {
          message: cascade
            ? `DROP SCHEMA ${quoteIdent(schema)} CASCADE deletes every table (with its rows), view, function and type in it, ` +
              `and everything elsewhere that depends on them; queries naming the schema fail from then on.` +
              (locks[0] ? ` It ${lockPhrase(locks[0])}.` : '')
            : `DROP SCHEMA ${quoteIdent(schema)} deletes the schema; it fails if anything is still in it, and queries naming it fail from then on.`,
          help:
            `Drop the objects one by one in contract migrations (each with its rollback.sql), after the code using them is gone; ` +
            `then drop the empty schema without CASCADE.\n` +
            acknowledge('ban-drop-schema', 'the schema is empty or holds only disposable data'),
        },
      ]
    })
  },
})
