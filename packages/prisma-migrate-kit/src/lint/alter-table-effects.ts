import type { Constraint, Node } from 'libpg-query'
import { requiredWithoutValue, showType, typeChange } from './column-types'
import { allNew, tableEffect, type Draft, type EffectKind, type EffectPhase, type EffectScope } from './effect-model'
import type { ConstraintState } from './schema'
import {
  addedColumn,
  addedConstraint,
  alterTableCommands,
  checkColumns,
  columnConstraints,
  constraintColumns,
  nodeAs,
  plainTable,
  type TableRef,
} from './nodes'

const CONSTRAINT_EFFECTS: Partial<Record<NonNullable<Constraint['contype']>, EffectKind>> = {
  CONSTR_CHECK: 'add_check',
  CONSTR_FOREIGN: 'add_foreign_key',
  CONSTR_UNIQUE: 'add_unique',
  CONSTR_PRIMARY: 'add_primary_key',
  CONSTR_EXCLUSION: 'add_exclusion',
}

/**
 * A constraint added to a table. It tightens what running code may write unless it only covers columns this
 * migration adds. NOT VALID does not change that: it spares the existing rows the scan, but every INSERT and every
 * UPDATE from then on is checked, so running code that writes a row the constraint refuses fails at once.
 */
function constraintEffect(scope: EffectScope, table: TableRef, constraint: Constraint, newColumn?: string): Draft[] {
  const kind = CONSTRAINT_EFFECTS[constraint.contype ?? 'CONSTR_NULL']
  if (!kind) return []
  const columns = newColumn ? [newColumn] : constraint.contype === 'CONSTR_CHECK' ? checkColumns(constraint) : constraintColumns(constraint)
  const notValid = constraint.skip_validation === true
  const tightens = newColumn === undefined && !allNew(scope, table, columns)
  const what = [kind.replace('add_', '').replace('_', ' '), constraint.conname].filter(Boolean).join(' ')
  const draft: Omit<Draft, 'table'> = {
    kind,
    phase: tightens ? 'contract' : 'expand',
    description: `adds ${what} on ${plainTable(table)}${notValid ? ' NOT VALID' : ''}`,
    ...columnFields(columns),
  }
  if (constraint.conname) draft.constraint = constraint.conname
  if (kind === 'add_check' || kind === 'add_foreign_key') draft.notValid = notValid
  return [tableEffect(scope, table, draft)]
}

/** `column` when there is exactly one, `columns` when there are several. */
function columnFields(columns: string[]): Pick<Draft, 'column' | 'columns'> {
  if (columns.length === 1) return { column: columns[0] }
  return columns.length > 1 ? { columns } : {}
}

/**
 * Dropping a CHECK or a foreign key only lets more rows in: nothing running code does can fail because of it.
 * Dropping a unique key or a primary key can: an upsert's ON CONFLICT names it. A constraint the history does not
 * know is judged by PostgreSQL's naming (`…_pkey`, `…_key`).
 */
function dropsOnlyARestriction(constraint: ConstraintState | undefined, name: string | undefined): boolean {
  if (constraint) return constraint.kind === 'check' || constraint.kind === 'foreign_key'
  return name !== undefined && !/_(pkey|key|excl)$/.test(name)
}

/** The effects of the sub-commands of an ALTER TABLE. */
export function alterTableEffects(scope: EffectScope, node: Node): Draft[] {
  return alterTableCommands(node).flatMap(({ table, cmd }): Draft[] => {
    const name = plainTable(table)
    const column = addedColumn(cmd)
    if (column?.colname) {
      const required = requiredWithoutValue(column)
      const added = tableEffect(scope, table, {
        kind: 'add_column',
        column: column.colname,
        // Old code's INSERTs do not name the column: a required column without a default makes them fail.
        phase: required ? 'breaking' : 'expand',
        description: `adds ${required ? 'required column' : 'column'} ${name}.${column.colname}`,
      })
      const inline = columnConstraints(column).flatMap((constraint) => constraintEffect(scope, table, constraint, column.colname))
      return [added, ...inline]
    }
    const constraint = addedConstraint(cmd)
    if (constraint) return constraintEffect(scope, table, constraint)
    const target = cmd.name
    // Most sub-commands name a column; VALIDATE and DROP CONSTRAINT name a constraint.
    const on = (kind: EffectKind, phase: EffectPhase, description: string, field: 'column' | 'constraint' = 'column') => [
      tableEffect(scope, table, { kind, phase, description, ...(target === undefined ? {} : { [field]: target }) }),
    ]
    // VALIDATE and DROP CONSTRAINT name a constraint; the history knows which columns it is about.
    const known = target === undefined ? undefined : scope.schema.constraint(table, target)
    const onConstraint = (kind: EffectKind, phase: EffectPhase, description: string) =>
      on(kind, phase, description, 'constraint').map((effect) => ({ ...effect, ...columnFields(known?.references ?? []) }))
    switch (cmd.subtype) {
      case 'AT_DropColumn': {
        // Dropping a column this migration added takes nothing from running code.
        const added = target !== undefined && allNew(scope, table, [target])
        return on('drop_column', added ? 'expand' : 'contract', `drops column ${name}.${target}`)
      }
      case 'AT_AlterColumnType': {
        const from = target === undefined ? undefined : scope.schema.column(table, target)?.type
        const { to, rewrite } = typeChange(nodeAs(cmd.def, 'ColumnDef'), from)
        const type = to ? showType(to) : undefined
        // A binary-coercible change (a longer varchar, varchar → text) only widens what running code may write.
        const description = `changes the type of ${name}.${target}${type ? ` to ${type}` : ''}`
        return on('alter_type', rewrite ? 'breaking' : 'expand', description).map((effect) => ({
          ...effect,
          rewrite,
          ...(type ? { type } : {}),
        }))
      }
      case 'AT_SetNotNull':
        return allNew(scope, table, target === undefined ? [] : [target])
          ? on('set_not_null', 'expand', `makes new column ${name}.${target} NOT NULL`)
          : on('set_not_null', 'contract', `makes ${name}.${target} NOT NULL`)
      case 'AT_DropNotNull':
        return on('drop_not_null', 'loosen', `makes ${name}.${target} nullable`)
      case 'AT_ColumnDefault': {
        if (cmd.def) return on('set_default', 'loosen', `sets the default of ${name}.${target}`)
        // Prisma Client leaves a column with a database default (@default(now()), autoincrement()) out of its
        // INSERT: on a NOT NULL column, the running release's creates fail once the default is gone.
        const required = target !== undefined && scope.schema.column(table, target)?.notNull === true
        return required
          ? on('drop_default', 'contract', `drops the default of NOT NULL column ${name}.${target}`)
          : on('drop_default', 'loosen', `drops the default of ${name}.${target}`)
      }
      case 'AT_ValidateConstraint':
        // Running code is already held to the constraint since it was added NOT VALID; validating it proves the
        // old rows comply, which is what the backfill before it is for.
        return onConstraint('validate_constraint', 'contract', `validates ${target} on ${name}`)
      case 'AT_DropConstraint':
        return dropsOnlyARestriction(known, target)
          ? onConstraint('drop_constraint', 'loosen', `drops constraint ${target} on ${name}`)
          : onConstraint('drop_constraint', 'contract', `drops key ${target} on ${name}`)
      default:
        return on('other', 'neutral', `alters ${name} (${cmd.subtype ?? 'unknown'})`)
    }
  })
}
