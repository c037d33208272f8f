import { LOCK_BLOCKS, lockOn, lockPhrase } from '../locks'
import { addedColumn, addedConstraint, alterTableCommands, columnConstraint, quoteIdent, showTable, tableKey } from '../nodes'
import { notValidSteps, numbered } from '../recipes'
import { defineRule, isExisting, type RuleFinding, type StatementContext } from '../rule'
import type { AlterCommand } from '../nodes'

/** ADD CONSTRAINT … CHECK without NOT VALID: every row is checked under ACCESS EXCLUSIVE. */
function checkWithoutNotValid({ table, cmd, stmt }: AlterCommand): RuleFinding[] {
  const check = addedConstraint(cmd)
  if (check?.contype !== 'CONSTR_CHECK' || check.skip_validation) return []
  const name = check.conname ?? `${table.name}_check`
  return [
    {
      message:
        `Adding this CHECK scans every row of ${showTable(table)} to validate it, and the scan ` +
        `${lockPhrase(lockOn(table, 'ACCESS EXCLUSIVE'))}.`,
      help: numbered(notValidSteps(stmt.relation, table, check, name)),
      location: check.location,
      sized: { table, work: 'scan' },
    },
  ]
}

/** ADD COLUMN … CHECK (…): a column constraint cannot be NOT VALID, so every existing row is checked under the ALTER's lock. */
function columnCheck({ table, cmd }: AlterCommand): RuleFinding[] {
  const column = addedColumn(cmd)
  const check = column && columnConstraint(column, 'CONSTR_CHECK')
  if (!column?.colname || !check) return []
  const name = check.conname ?? `${table.name}_${column.colname}_check`
  return [
    {
      message:
        `A CHECK on a new column is checked against every existing row of ${showTable(table)} (a column constraint ` +
        `cannot be NOT VALID), and the scan ${lockPhrase(lockOn(table, 'ACCESS EXCLUSIVE'))}.`,
      help: numbered([
        `Add the column without the CHECK.`,
        `Then: ALTER TABLE ${showTable(table)} ADD CONSTRAINT ${quoteIdent(name)} CHECK (…) NOT VALID; (a brief lock)`,
        `In a later migration: ALTER TABLE ${showTable(table)} VALIDATE CONSTRAINT ${quoteIdent(name)};`,
      ]),
      location: check.location,
      sized: { table, work: 'scan' },
    },
  ]
}

/** VALIDATE CONSTRAINT in the same migration that added it NOT VALID: the ADD's lock is still held for the scan. */
function validatedTooSoon(context: StatementContext, { table, cmd }: AlterCommand): RuleFinding[] {
  if (cmd.subtype !== 'AT_ValidateConstraint' || cmd.name === undefined) return []
  const constraint = context.schema.constraint(table, cmd.name)
  if (!constraint || constraint.validated || constraint.createdIn !== context.file.migration) return []
  // After a COMMIT in the file the ADD's lock is gone: VALIDATE then takes only SHARE UPDATE EXCLUSIVE.
  const lock = context.file.heldLocks.get(tableKey(table))
  if (!lock || lock === 'SHARE UPDATE EXCLUSIVE') return []
  return [
    {
      message:
        `${quoteIdent(cmd.name)} is validated in the transaction that added it NOT VALID, so the ${lock} lock taken ` +
        `by the ADD is still held while VALIDATE scans ${showTable(table)}, which blocks ${LOCK_BLOCKS[lock]} as if ` +
        `NOT VALID had not been used.`,
      sized: { table, work: 'scan' },
      help: `Move the VALIDATE CONSTRAINT into a later migration (\`npx migrate-kit new validate_${cmd.name} --empty\`).`,
    },
  ]
}

/**
 * A CHECK constraint added to an existing table without NOT VALID, or any constraint validated in the migration
 * that added it NOT VALID.
 */
export const constraintMissingNotValid = defineRule({
  name: 'constraint-missing-not-valid',
  level: 'error',
  summary: 'ADD CHECK without NOT VALID (or VALIDATE in the same migration) scans the table under a blocking lock.',
  examples: {
    fail: [
      'ALTER TABLE "User" ADD CONSTRAINT "User_age_check" CHECK ("age" >= 0);',
      'ALTER TABLE "User" ADD COLUMN "score" INTEGER CHECK ("score" >= 0);',
      'ALTER TABLE "User" ADD CONSTRAINT "User_age_check" CHECK ("age" >= 0) NOT VALID;\n' +
        'ALTER TABLE "User" VALIDATE CONSTRAINT "User_age_check";',
    ],
    pass: [
      'ALTER TABLE "User" ADD CONSTRAINT "User_age_check" CHECK ("age" >= 0) NOT VALID;',
      [
        'ALTER TABLE "User" ADD CONSTRAINT "User_age_check" CHECK ("age" >= 0) NOT VALID;',
        'ALTER TABLE "User" VALIDATE CONSTRAINT "User_age_check";',
      ],
      'CREATE TABLE "Team" ("size" INTEGER);\nALTER TABLE "Team" ADD CONSTRAINT "Team_size_check" CHECK ("size" > 0);',
      // The COMMIT ends the ADD's transaction: VALIDATE runs in the next one under SHARE UPDATE EXCLUSIVE.
      'BEGIN;\nALTER TABLE "User" ADD CONSTRAINT "User_age_check" CHECK ("age" >= 0) NOT VALID;\nCOMMIT;\n' +
        'ALTER TABLE "User" VALIDATE CONSTRAINT "User_age_check";',
    ],
  },
  check(context) {
    return alterTableCommands(context.node)
      .filter((command) => isExisting(context, command.table))
      .flatMap((command) => [...checkWithoutNotValid(command), ...columnCheck(command), ...validatedTooSoon(context, command)])
  },
})
