import { nodeAs, quoteIdent } from '../nodes'
import { acknowledge } from '../recipes'
import { defineRule } from '../rule'

/** ALTER SCHEMA … RENAME: every query and connection string (Prisma's `?schema=`) naming the old schema fails. */
export const renamingSchema = defineRule({
  name: 'renaming-schema',
  level: 'error',
  summary: 'ALTER SCHEMA … RENAME breaks every running query and connection URL (?schema=) that names the old schema.',
  examples: {
    fail: ['ALTER SCHEMA "billing" RENAME TO "payments";'],
    pass: ['CREATE SCHEMA "payments";', 'CREATE SCHEMA "tmp";\nALTER SCHEMA "tmp" RENAME TO "scratch";'],
  },
  check(context) {
    const rename = nodeAs(context.node, 'RenameStmt')
    if (rename?.renameType !== 'OBJECT_SCHEMA' || rename.subname === undefined) return []
    if (context.schema.schemaCreatedIn(rename.subname) === context.file.migration) return []
    const from = quoteIdent(rename.subname)
    return [
      {
        message:
          `Renaming schema ${from} to ${quoteIdent(rename.newname ?? '')} breaks the running release at once: Prisma Client ` +
          `qualifies every query with the schema of its URL (?schema=${rename.subname}) or of @@schema, so they all fail ` +
          `(relation does not exist), as do views and functions that name it.`,
        help:
          `Keep the old name, or move objects one at a time with expand/contract steps; if the rename must happen, ` +
          `change the URL and @@schema in the same release and stop the old one first (a planned outage).\n` +
          acknowledge('renaming-schema', 'nothing running names the schema'),
      },
    ]
  },
})
