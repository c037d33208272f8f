import { showType, typeChange } from '../column-types'
import { lockOn, lockPhrase } from '../locks'
import { alterTableCommands, nodeAs, showColumn, showTable } from '../nodes'
import { acknowledge, parallelColumnRecipe } from '../recipes'
import { defineRule, isExisting, type RuleFinding } from '../rule'

/**
 * ALTER COLUMN … TYPE that rewrites the table (and every index on it) under ACCESS EXCLUSIVE, and changes what
 * running code reads. The binary-coercible changes (varchar → longer varchar or text, more numeric precision at the
 * same scale, cidr → inet) keep the stored bytes and pass; they need the old type from the migration history.
 */
export const changingColumnType = defineRule({
  name: 'changing-column-type',
  level: 'error',
  summary: 'ALTER COLUMN … TYPE rewrites the table under ACCESS EXCLUSIVE unless the change is binary-coercible.',
  examples: {
    fail: [
      'ALTER TABLE "User" ALTER COLUMN "age" SET DATA TYPE BIGINT;',
      ['CREATE TABLE "Tag" ("label" VARCHAR(50));', 'ALTER TABLE "Tag" ALTER COLUMN "label" SET DATA TYPE VARCHAR(20);'],
      ['CREATE TABLE "Price" ("amount" DECIMAL(10,2));', 'ALTER TABLE "Price" ALTER COLUMN "amount" TYPE DECIMAL(12,4);'],
    ],
    pass: [
      ['CREATE TABLE "Tag" ("label" VARCHAR(50));', 'ALTER TABLE "Tag" ALTER COLUMN "label" SET DATA TYPE VARCHAR(100);'],
      ['CREATE TABLE "Tag" ("label" VARCHAR(50));', 'ALTER TABLE "Tag" ALTER COLUMN "label" SET DATA TYPE TEXT;'],
      ['CREATE TABLE "Price" ("amount" DECIMAL(10,2));', 'ALTER TABLE "Price" ALTER COLUMN "amount" TYPE DECIMAL(12,2);'],
      'CREATE TABLE "Tag" ("label" INTEGER);\nALTER TABLE "Tag" ALTER COLUMN "label" SET DATA TYPE TEXT;',
    ],
  },
  check(context) {
    return alterTableCommands(context.node).flatMap(({ table, cmd }): RuleFinding[] => {
      if (cmd.subtype !== 'AT_AlterColumnType' || cmd.name === undefined || !isExisting(context, table)) return []
      const definition = nodeAs(cmd.def, 'ColumnDef')
      const { from, to, rewrite, rebuildsIndexes } = typeChange(definition, context.schema.column(table, cmd.name)?.type)
      const target = showColumn(table, cmd.name)
      const change = `${from ? showType(from) : 'its current type'} → ${to ? showType(to) : 'the new type'}`
      if (rebuildsIndexes) {
        return [
          {
            level: 'warning',
            message:
              `Changing ${target} (${change}) keeps the table's stored bytes (no rewrite), but the column now compares ` +
              `${to?.name === 'citext' ? 'case-insensitively' : 'case-sensitively'}, so every index on it is rebuilt while the ALTER ` +
              `${lockPhrase(lockOn(table, 'ACCESS EXCLUSIVE'))}. A unique index may now reject rows that differ only in case.`,
            help:
              `On a large table, build the new indexes first (CREATE INDEX CONCURRENTLY … with the new type's expression ` +
              `or on a new column), or run it when the table is quiet with a lock_timeout set.\n` +
              acknowledge('changing-column-type', 'the column has no index, or the table is small'),
            location: definition?.location,
            sized: { table, work: 'build' },
          },
        ]
      }
      if (!rewrite) return []
      return [
        {
          message:
            `Changing ${target} (${change}) rewrites ${showTable(table)} and rebuilds its indexes; the rewrite ` +
            `${lockPhrase(lockOn(table, 'ACCESS EXCLUSIVE'))}. Running code that reads ` +
            `or writes the column with the old type may break at once.`,
          help:
            parallelColumnRecipe(table, cmd.name, `${cmd.name}_new`, 'with the new type') +
            `\nIn schema.prisma the field can keep its name: @map("${cmd.name}_new").`,
          location: definition?.location,
          sized: { table, work: 'rewrite' },
        },
      ]
    })
  },
})
