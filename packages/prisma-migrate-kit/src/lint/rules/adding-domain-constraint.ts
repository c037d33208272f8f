import { names, nodeAs, quoteIdent } from '../nodes'
import { numbered } from '../recipes'
import { defineRule } from '../rule'

/**
 * ALTER DOMAIN … ADD CONSTRAINT checks every value of every column of that domain, in every table, holding a SHARE
 * lock on each table (no writes) for the whole scan. NOT VALID checks new values only.
 */
export const addingDomainConstraint = defineRule({
  name: 'adding-domain-constraint',
  level: 'error',
  summary: 'ALTER DOMAIN … ADD CONSTRAINT without NOT VALID scans every column of the domain, blocking writes.',
  examples: {
    fail: ['ALTER DOMAIN "Email" ADD CONSTRAINT "Email_check" CHECK (VALUE LIKE \'%@%\');'],
    pass: [
      'ALTER DOMAIN "Email" ADD CONSTRAINT "Email_check" CHECK (VALUE LIKE \'%@%\') NOT VALID;',
      'ALTER DOMAIN "Email" VALIDATE CONSTRAINT "Email_check";',
      'CREATE DOMAIN "Slug" AS TEXT;\nALTER DOMAIN "Slug" ADD CONSTRAINT "Slug_check" CHECK (VALUE <> \'\');',
    ],
  },
  check(context) {
    const alter = nodeAs(context.node, 'AlterDomainStmt')
    const constraint = nodeAs(alter?.def, 'Constraint')
    // subtype 'C' is ADD CONSTRAINT (tablecmds' AlterDomainAddConstraint).
    if (alter?.subtype !== 'C' || !constraint || constraint.skip_validation) return []
    const domain = names(alter.typeName).join('.')
    if (context.schema.domainCreatedIn(domain) === context.file.migration) return []
    const name = constraint.conname ?? `${domain}_check`
    return [
      {
        message:
          `Adding this constraint checks every value of every column of domain ${quoteIdent(domain)}, in every table that ` +
          `uses it, holding a SHARE lock on each of those tables (every INSERT, UPDATE and DELETE waits) until the migration commits.`,
        help: numbered([
          `Add it NOT VALID: ALTER DOMAIN ${quoteIdent(domain)} ADD CONSTRAINT ${quoteIdent(name)} … NOT VALID; (new values only)`,
          `In a later migration: ALTER DOMAIN ${quoteIdent(domain)} VALIDATE CONSTRAINT ${quoteIdent(name)}; ` +
            `(checks the existing values under a lock that lets reads and writes go on)`,
        ]),
        ...(constraint.location === undefined ? {} : { location: constraint.location }),
      },
    ]
  },
})
