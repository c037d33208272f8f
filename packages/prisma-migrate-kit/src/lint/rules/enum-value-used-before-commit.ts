import { descendants, nodeAs, stringConstant } from '../nodes'
import { defineRule } from '../rule'

/**
 * A value added with ALTER TYPE … ADD VALUE used later in the same migration: PostgreSQL refuses to use an enum
 * value before the transaction that added it commits ("unsafe use of new value"), and the whole file is one
 * transaction.
 */
export const enumValueUsedBeforeCommit = defineRule({
  name: 'enum-value-used-before-commit',
  level: 'error',
  summary: 'A new enum value (ALTER TYPE … ADD VALUE) cannot be used in the migration that adds it.',
  examples: {
    fail: [
      `ALTER TYPE "Role" ADD VALUE 'MODERATOR';\nALTER TABLE "User" ALTER COLUMN "role" SET DEFAULT 'MODERATOR';`,
      `ALTER TYPE "Role" ADD VALUE 'MODERATOR';\nUPDATE "User" SET "role" = 'MODERATOR' WHERE "id" = 1;`,
    ],
    pass: [
      `ALTER TYPE "Role" ADD VALUE 'MODERATOR';`,
      [`ALTER TYPE "Role" ADD VALUE 'MODERATOR';`, `ALTER TABLE "User" ALTER COLUMN "role" SET DEFAULT 'MODERATOR';`],
    ],
  },
  check(context) {
    if (context.file.enumValuesAdded.size === 0) return []
    for (const node of descendants(context.node)) {
      const value = stringConstant(node)
      const type = value === undefined ? undefined : context.file.enumValuesAdded.get(value)
      if (value === undefined || type === undefined) continue
      return [
        {
          message:
            `'${value}' was added to ${type} earlier in this migration; using it before that transaction commits ` +
            `fails with "unsafe use of new value '${value}' of enum type ${type}", and the migration is marked failed.`,
          help:
            `Keep ALTER TYPE ${type} ADD VALUE '${value}' in its own migration and move this statement into the ` +
            `next one (\`npx migrate-kit new use_${value.toLowerCase()} --empty\`).`,
          location: nodeAs(node, 'A_Const')?.location,
        },
      ]
    }
    return []
  },
})
