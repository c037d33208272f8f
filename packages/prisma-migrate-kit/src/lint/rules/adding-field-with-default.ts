import type { ColumnDef } from 'libpg-query'
import { columnTypeOf, isSerial, showType } from '../column-types'
import { addedColumn, alterTableCommands, columnConstraint, nodeAs, quoteIdent, showColumn, showTable } from '../nodes'
import { lockOn, lockPhrase } from '../locks'
import { backfillStep, numbered } from '../recipes'
import { defineRule, isExisting, type Level } from '../rule'
import { volatilityOf } from '../volatility'

/** Why filling the new column writes every row, or undefined when PostgreSQL only records the value in the catalog. */
function rewriteReason(column: ColumnDef, postgresVersion: number): { reason: string; level: Level } | undefined {
  const type = columnTypeOf(column.typeName)
  if (isSerial(type)) {
    return { reason: `its ${type ? showType(type) : 'serial'} type fills every row from nextval()`, level: 'error' }
  }
  if (columnConstraint(column, 'CONSTR_IDENTITY')) return { reason: 'an identity column numbers every row', level: 'error' }
  const generated = columnConstraint(column, 'CONSTR_GENERATED')
  if (generated && generated.generated_kind !== 'v') {
    return { reason: 'a stored generated column is computed for every row', level: 'error' }
  }
  const fallback = columnConstraint(column, 'CONSTR_DEFAULT')
  if (!fallback?.raw_expr || nodeAs(fallback.raw_expr, 'A_Const')?.isnull) return undefined
  if (postgresVersion < 11) return { reason: `PostgreSQL ${postgresVersion} writes any DEFAULT into every row`, level: 'error' }
  const { volatility, culprit } = volatilityOf(fallback.raw_expr)
  if (volatility === 'volatile') return { reason: `${culprit} is volatile, so it is evaluated for every row`, level: 'error' }
  if (volatility === 'unknown') {
    const reason = `${culprit} is evaluated for every row if it is VOLATILE (check pg_proc.provolatile)`
    return { reason, level: 'warning' }
  }
  return undefined
}

/**
 * ADD COLUMN whose value must be written into every existing row: a volatile DEFAULT (random(), gen_random_uuid(),
 * clock_timestamp(), nextval()/serial), an identity or stored generated column, or any DEFAULT before PostgreSQL 11.
 * A constant or stable default (now(), CURRENT_TIMESTAMP) is evaluated once and stored in the catalog on 11+.
 */
export const addingFieldWithDefault = defineRule({
  name: 'adding-field-with-default',
  level: 'error',
  summary: 'ADD COLUMN with a volatile DEFAULT (or serial/identity/stored generated) rewrites the whole table.',
  examples: {
    fail: [
      'ALTER TABLE "User" ADD COLUMN "token" UUID NOT NULL DEFAULT gen_random_uuid();',
      'ALTER TABLE "User" ADD COLUMN "seen_at" TIMESTAMPTZ DEFAULT clock_timestamp();',
      'ALTER TABLE "User" ADD COLUMN "rank" SERIAL;',
      'ALTER TABLE "User" ADD COLUMN "score" DOUBLE PRECISION DEFAULT random();',
    ],
    pass: [
      `ALTER TABLE "User" ADD COLUMN "role" TEXT NOT NULL DEFAULT 'member';`,
      // now() is STABLE: evaluated once, every existing row gets the migration's timestamp, no rewrite on 11+.
      'ALTER TABLE "User" ADD COLUMN "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;',
      'CREATE TABLE "Team" ("id" INTEGER NOT NULL);\nALTER TABLE "Team" ADD COLUMN "token" UUID DEFAULT gen_random_uuid();',
    ],
  },
  check(context) {
    return alterTableCommands(context.node).flatMap(({ table, cmd }) => {
      const column = addedColumn(cmd)
      if (!column?.colname || !isExisting(context, table)) return []
      const verdict = rewriteReason(column, context.settings.postgresVersion)
      if (!verdict) return []
      const target = showColumn(table, column.colname)
      const lock = lockPhrase(lockOn(table, 'ACCESS EXCLUSIVE'))
      return [
        {
          message: `Adding ${target} rewrites every row of ${showTable(table)} because ${verdict.reason}; the rewrite ${lock}.`,
          help: numbered([
            `Expand: ADD COLUMN ${quoteIdent(column.colname)} without the default (or with a constant one), ` +
              `then ALTER COLUMN ${quoteIdent(column.colname)} SET DEFAULT <expression> so new rows get it.`,
            backfillStep(table, column.colname),
            `Contract, if it must be required: CHECK … NOT VALID, VALIDATE, SET NOT NULL (see adding-not-nullable-field).`,
          ]),
          location: column.location,
          level: verdict.level,
          sized: { table, work: 'rewrite' },
        },
      ]
    })
  },
})
