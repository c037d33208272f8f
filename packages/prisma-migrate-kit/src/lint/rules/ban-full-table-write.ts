import type { Node } from 'libpg-query'
import { conjuncts, nodeAs, quoteIdent, showTable, tableOf } from '../nodes'
import { backfillRecipe, sqlText } from '../recipes'
import { defineRule, isExisting } from '../rule'
import { isAlwaysTrue, qualifiers } from '../where-clause'

/**
 * Whether a WHERE clause still means "(nearly) every row": none at all, a constant, or only NULL tests (the usual
 * `WHERE new_column IS NULL` right after adding the column matches every existing row).
 */
function coversWholeTable(where: Node | undefined): boolean {
  if (where === undefined || isAlwaysTrue(where)) return true
  const bool = nodeAs(where, 'BoolExpr')
  if (bool?.boolop === 'AND_EXPR') return (bool.args ?? []).every(coversWholeTable)
  if (bool?.boolop === 'OR_EXPR') return (bool.args ?? []).some(coversWholeTable)
  return nodeAs(where, 'NullTest') !== undefined
}

/**
 * `UPDATE t SET … FROM other WHERE t.k = other.k`: a WHERE whose terms all name another table (join conditions,
 * filters on the other table) picks every row of the target that has a match: no term narrows the target itself.
 */
function joinsWholeTable(where: Node | undefined, target: string, others: number): boolean {
  if (others === 0 || where === undefined) return false
  return conjuncts(where).every((term) => {
    const names = qualifiers(term)
    const onTarget = names.has(target) || names.has('')
    const onlyTarget = onTarget && [...names].every((name) => name === target || name === '')
    return !onlyTarget || coversWholeTable(term)
  })
}

/**
 * UPDATE or DELETE of a whole existing table inside a migration: one transaction that writes a new version of every
 * row and holds every row lock until the migration commits. That is a backfill's job: batched, resumable, throttled.
 */
export const banFullTableWrite = defineRule({
  name: 'ban-full-table-write',
  level: 'error',
  summary: 'UPDATE/DELETE of a whole existing table in a migration: write a batched backfill instead.',
  examples: {
    fail: [
      'UPDATE "User" SET "displayName" = "username";',
      'UPDATE "User" SET "displayName" = "username" WHERE "displayName" IS NULL;',
      'DELETE FROM "Session";',
      'UPDATE "User" SET "active" = true WHERE 1 = 1;',
      'DELETE FROM "Session" WHERE TRUE;',
      `UPDATE "User" SET "plan" = 'free' WHERE 'a' = 'a' OR "plan" = 'trial';`,
      'UPDATE "User" u SET "orgName" = o."name" FROM "Org" o WHERE u."orgId" = o."id";',
      'DELETE FROM "Session" s USING "User" u WHERE s."userId" = u."id" AND u."deleted";',
    ],
    pass: [
      `UPDATE "Setting" SET "value" = 'on' WHERE "key" = 'beta';`,
      'CREATE TABLE "Team" ("id" INTEGER, "name" TEXT);\nUPDATE "Team" SET "name" = \'x\';',
      'UPDATE "User" SET "active" = true WHERE 1 = 2;',
      `UPDATE "User" u SET "orgName" = o."name" FROM "Org" o WHERE u."orgId" = o."id" AND u."orgName" = '';`,
    ],
  },
  check(context) {
    const update = nodeAs(context.node, 'UpdateStmt')
    const remove = nodeAs(context.node, 'DeleteStmt')
    const statement = update ?? remove
    const table = tableOf(statement?.relation)
    if (!statement || !table || !isExisting(context, table)) return []
    const target = statement.relation?.alias?.aliasname ?? table.name
    const others = (update?.fromClause ?? remove?.usingClause ?? []).length
    if (!coversWholeTable(statement.whereClause) && !joinsWholeTable(statement.whereClause, target, others)) return []
    const operation = update ? 'update' : 'delete'
    const targets = (update?.targetList ?? []).flatMap((item) => {
      const target = nodeAs(item, 'ResTarget')
      return target?.name && target.val ? [{ name: target.name, value: target.val }] : []
    })
    const sketch = {
      table,
      column: targets[0]?.name ?? 'cleanup',
      migration: context.file.migration,
      key: context.schema.table(table)?.primaryKey[0] ?? 'id',
      update: targets.map((target) => `${quoteIdent(target.name)} = ${sqlText(target.value, '<value>')}`).join(', '),
    }
    const where = statement.whereClause ? { where: sqlText(statement.whereClause, '<condition>') } : {}
    return [
      {
        message:
          `This ${operation.toUpperCase()} touches every row of ${showTable(table)} in the migration's single ` +
          `transaction: it writes a new version of each row (bloat, a WAL burst, replicas falling behind) and ` +
          `holds every row lock until the migration commits, so concurrent writes to ${showTable(table)} wait for ` +
          `the whole migration.`,
        help: backfillRecipe({ ...sketch, ...where }, operation),
        sized: { table, work: 'write' },
      },
    ]
  },
})
