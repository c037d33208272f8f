import { nodeAs, quoteIdent } from '../nodes'
import { defineRule } from '../rule'

/** DROP DATABASE in a migration: never part of a schema change, and it cannot even run inside Prisma's transaction. */
export const banDropDatabase = defineRule({
  name: 'ban-drop-database',
  level: 'error',
  summary: 'DROP DATABASE in a migration deletes a whole database.',
  examples: {
    fail: ['DROP DATABASE "analytics";', 'DROP DATABASE IF EXISTS "old_app" WITH (FORCE);'],
    pass: ['DROP TABLE IF EXISTS "Scratch";\n-- nothing else'],
  },
  check(context) {
    const drop = nodeAs(context.node, 'DropdbStmt')
    if (!drop) return []
    return [
      {
        message: `DROP DATABASE ${quoteIdent(drop.dbname ?? '')} deletes every table and row of that database, beyond any rollback.sql.`,
        help: 'Drop databases by hand, with a backup, outside the migration history; a migration changes the schema of the database it runs in.',
      },
    ]
  },
})
