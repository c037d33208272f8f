import type { AlterTableStmt, Constraint } from 'libpg-query'
import {
  addedColumn,
  addedConstraint,
  alterTableCommands,
  columnConstraint,
  constraintColumns,
  quoteIdent,
  showTable,
  type TableRef,
} from './nodes'
import { ownMigration, statementText } from './recipes'
import { isExisting, type StatementContext } from './rule'

/** A UNIQUE or PRIMARY KEY constraint whose index PostgreSQL builds inside the ALTER TABLE, under its lock. */
export interface IndexBuildingConstraint {
  table: TableRef
  stmt: AlterTableStmt
  constraint: Constraint
  columns: string[]
  /** The name the constraint (and its index) gets. */
  name: string
}

/**
 * ADD CONSTRAINT … UNIQUE / PRIMARY KEY (…) and ADD COLUMN … UNIQUE / PRIMARY KEY on an existing table. The form
 * `… USING INDEX <index>` is the safe one: it adopts an index built CONCURRENTLY beforehand.
 */
export function indexBuildingConstraints(context: StatementContext, type: 'CONSTR_UNIQUE' | 'CONSTR_PRIMARY'): IndexBuildingConstraint[] {
  return alterTableCommands(context.node).flatMap(({ table, cmd, stmt }) => {
    if (!isExisting(context, table)) return []
    const column = addedColumn(cmd)
    const added = addedConstraint(cmd)
    const constraint = added?.contype === type ? added : column && columnConstraint(column, type)
    if (!constraint || constraint.indexname) return []
    const columns = column?.colname ? [column.colname] : constraintColumns(constraint)
    const suffix = type === 'CONSTR_PRIMARY' ? 'pkey' : `${columns.join('_')}_key`
    const name = constraint.conname ?? `${table.name}_${suffix}`
    return [{ table, stmt, constraint, columns, name }]
  })
}

/** The two migrations that add such a constraint without building its index under the ALTER's lock. */
export function usingIndexSteps(found: IndexBuildingConstraint, keyword: 'UNIQUE' | 'PRIMARY KEY'): string[] {
  const createIndex = statementText(
    {
      IndexStmt: {
        idxname: found.name,
        relation: found.stmt.relation,
        accessMethod: 'btree',
        indexParams: found.columns.map((name) => ({
          IndexElem: { name, ordering: 'SORTBY_DEFAULT', nulls_ordering: 'SORTBY_NULLS_DEFAULT' },
        })),
        unique: true,
        concurrent: true,
      },
    },
    `CREATE UNIQUE INDEX CONCURRENTLY ${quoteIdent(found.name)} ON ${showTable(found.table)} (…)`,
  )
  return [
    `Build the index first, without blocking writes. ${ownMigration(createIndex)}`,
    `In the next migration, adopt it (a brief lock, no build): ALTER TABLE ${showTable(found.table)} ADD CONSTRAINT ` +
      `${quoteIdent(found.name)} ${keyword} USING INDEX ${quoteIdent(found.name)};`,
  ]
}
