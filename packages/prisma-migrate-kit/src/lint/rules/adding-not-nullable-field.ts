import { lockOn, lockPhrase } from '../locks'
import { alterTableCommands, showColumn } from '../nodes'
import { numbered, setNotNullCaveat, setNotNullSteps } from '../recipes'
import { defineRule, isExisting } from '../rule'

/**
 * SET NOT NULL on an existing table scans every row under ACCESS EXCLUSIVE, unless (PostgreSQL 12+) a validated
 * CHECK (column IS NOT NULL) already proves it: from an earlier migration, or earlier in this one.
 */
export const addingNotNullableField = defineRule({
  name: 'adding-not-nullable-field',
  level: 'error',
  summary: 'SET NOT NULL scans the table under ACCESS EXCLUSIVE unless a validated CHECK (col IS NOT NULL) exists.',
  examples: {
    fail: [
      'ALTER TABLE "User" ALTER COLUMN "email" SET NOT NULL;',
      [
        'ALTER TABLE "User" ADD CONSTRAINT "User_email_not_null" CHECK ("email" IS NOT NULL) NOT VALID;',
        'ALTER TABLE "User" ALTER COLUMN "email" SET NOT NULL;',
      ],
    ],
    pass: [
      [
        'ALTER TABLE "User" ADD CONSTRAINT "User_email_not_null" CHECK ("email" IS NOT NULL) NOT VALID;',
        'ALTER TABLE "User" VALIDATE CONSTRAINT "User_email_not_null";',
        'ALTER TABLE "User" ALTER COLUMN "email" SET NOT NULL;',
      ],
      [
        'ALTER TABLE "User" ADD CONSTRAINT "User_email_not_null" CHECK ("email" IS NOT NULL) NOT VALID;',
        'ALTER TABLE "User" VALIDATE CONSTRAINT "User_email_not_null";\n' +
          'ALTER TABLE "User" ALTER COLUMN "email" SET NOT NULL;\n' +
          'ALTER TABLE "User" DROP CONSTRAINT "User_email_not_null";',
      ],
      'CREATE TABLE "Team" ("name" TEXT);\nALTER TABLE "Team" ALTER COLUMN "name" SET NOT NULL;',
    ],
  },
  check(context) {
    return alterTableCommands(context.node).flatMap(({ table, cmd }) => {
      if (cmd.subtype !== 'AT_SetNotNull' || cmd.name === undefined || !isExisting(context, table)) return []
      const version = context.settings.postgresVersion
      const proof = context.schema.validatedNotNullCheck(table, cmd.name)
      if (proof && version >= 12) return []
      const target = showColumn(table, cmd.name)
      const why = proof
        ? `PostgreSQL ${version} cannot use the validated CHECK ${proof.name} for it`
        : `no validated CHECK (${cmd.name} IS NOT NULL) proves it first`
      return [
        {
          message:
            `SET NOT NULL on ${target} scans every row to check for NULLs (${why}); the scan ` +
            `${lockPhrase(lockOn(table, 'ACCESS EXCLUSIVE'))}. Running code that ` +
            `still writes NULL fails afterwards.`,
          help:
            numbered([`Release code that always writes the column, and backfill the NULLs.`, ...setNotNullSteps(table, cmd.name)]) +
            setNotNullCaveat(version),
          sized: { table, work: 'scan' },
        },
      ]
    })
  },
})
