import { requiredWithoutValue } from '../column-types'
import { addedColumn, alterTableCommands, showColumn } from '../nodes'
import { backfillStep, numbered, setNotNullCaveat, setNotNullSteps } from '../recipes'
import { defineRule, mayHaveRows } from '../rule'

/** ADD COLUMN … NOT NULL with nothing to fill the existing rows: fails on any table that has rows. */
export const addingRequiredField = defineRule({
  name: 'adding-required-field',
  level: 'error',
  summary: 'ADD COLUMN … NOT NULL without a DEFAULT on an existing table fails as soon as the table has a row.',
  examples: {
    fail: [
      'ALTER TABLE "User" ADD COLUMN "nickname" TEXT NOT NULL;',
      // A table created in this migration and filled in it has rows by the time the column comes.
      'CREATE TABLE "Team" ("id" INTEGER);\nINSERT INTO "Team" VALUES (1);\nALTER TABLE "Team" ADD COLUMN "name" TEXT NOT NULL;',
    ],
    pass: [
      'ALTER TABLE "User" ADD COLUMN "nickname" TEXT;',
      `ALTER TABLE "User" ADD COLUMN "nickname" TEXT NOT NULL DEFAULT '';`,
      'CREATE TABLE "Team" ("id" SERIAL NOT NULL);\nALTER TABLE "Team" ADD COLUMN "name" TEXT NOT NULL;',
    ],
  },
  check(context) {
    return alterTableCommands(context.node).flatMap(({ table, cmd }) => {
      const column = addedColumn(cmd)
      if (!column?.colname || !mayHaveRows(context, table)) return []
      if (!requiredWithoutValue(column)) return []
      const target = showColumn(table, column.colname)
      return [
        {
          message:
            `Adds ${target} as NOT NULL with no DEFAULT: on a table with rows it fails with "column contains null ` +
            `values" (Prisma warns "not possible if the table is not empty"), and once applied, INSERTs from the ` +
            `running release, which does not know the column, fail.`,
          help:
            numbered([
              `Add it nullable (an optional field, \`?\` in schema.prisma) or with a constant DEFAULT ` +
                `(no rewrite on PostgreSQL 11+), and release code that writes it.`,
              backfillStep(table, column.colname),
              ...setNotNullSteps(table, column.colname),
            ]) + setNotNullCaveat(context.settings.postgresVersion),
          location: column.location,
        },
      ]
    })
  },
})
