import { plainTable, type TableRef } from './nodes'
import type { SchemaHistory } from './schema'

/** What a migration is for code that is already running: expand (old code keeps working) or contract (it breaks). */
export type Phase = 'expand' | 'contract' | 'breaking' | 'neutral'

/**
 * What one change is for running code. `loosen` accepts more than before (a CHECK dropped, a column made
 * nullable, a default set): code already running keeps working, and code released later needs nothing from it, so it
 * sits in an expand migration and in a contract migration alike; the lint's own NOT NULL recipe ends in one (drop the
 * CHECK the SET NOT NULL made redundant). A migration of loosenings alone is an expand.
 */
export type EffectPhase = Phase | 'loosen'

export type EffectKind =
  | 'create_table'
  | 'drop_table'
  | 'rename_table'
  | 'add_column'
  | 'drop_column'
  | 'rename_column'
  | 'alter_type'
  | 'set_not_null'
  | 'drop_not_null'
  | 'set_default'
  | 'drop_default'
  | 'add_check'
  | 'add_foreign_key'
  | 'add_unique'
  | 'add_primary_key'
  | 'add_exclusion'
  | 'validate_constraint'
  | 'drop_constraint'
  | 'create_index'
  | 'drop_index'
  | 'create_type'
  | 'add_enum_value'
  | 'rename_enum_value'
  | 'rename_type'
  | 'drop_type'
  | 'insert_rows'
  | 'update_rows'
  | 'delete_rows'
  | 'truncate'
  | 'create_object'
  | 'drop_object'
  | 'other'

/** One schema or data change a migration makes, as the deploy gate needs it. */
export interface Effect {
  kind: EffectKind
  /** `users`, or `app.users` outside public; absent for types and other objects. */
  table?: string
  column?: string
  /** For renames: the new name. */
  to?: string
  constraint?: string
  index?: string
  /**
   * Every column the change concerns when it is not one: a multi-column CHECK, a key, a constraint validated or
   * dropped (read from the history). `column` is set as well when there is exactly one.
   */
  columns?: string[]
  /** The enum or column type concerned (alter_type: the new type). */
  type?: string
  /** add_check / add_foreign_key added NOT VALID (only new writes are checked). */
  notValid?: boolean
  /** alter_type: whether PostgreSQL rewrites the table (false for binary-coercible changes). */
  rewrite?: boolean
  /** What this change alone is for running code. */
  phase: EffectPhase
  /** 1-based line of the statement. */
  line: number
  /** For people: `adds column users.bio`. */
  description: string
}

/** An effect before the engine gives it its statement's line. */
export type Draft = Omit<Effect, 'line'>

/** What effects are judged against: the schema before the statement, and the migration being read. */
export interface EffectScope {
  schema: SchemaHistory
  migration: string
}

/**
 * An effect on a table. Changes to a table this migration created are part of creating it, so they are expansions
 * whatever they are: no running code knows that table yet.
 */
export function tableEffect(scope: EffectScope, table: TableRef, draft: Omit<Draft, 'table'>): Draft {
  const created = scope.schema.createdIn(table, scope.migration)
  return { ...draft, table: plainTable(table), phase: created ? 'expand' : draft.phase }
}

/** Whether every column was added by this migration, so tightening them restricts nothing running code writes. */
export function allNew(scope: EffectScope, table: TableRef, columns: string[]): boolean {
  return columns.length > 0 && columns.every((column) => scope.schema.column(table, column)?.createdIn === scope.migration)
}
