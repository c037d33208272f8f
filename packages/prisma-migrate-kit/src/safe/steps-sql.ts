import { createHash } from 'node:crypto'
import type { TableRef } from '../lint/nodes'
import type { ColumnRef, SplitChange } from './changes'

/**
 * The SQL `new --safe` adds around Prisma's: what Prisma does not model (triggers, functions, CHECK constraints) and so
 * never diffs, which is also why adding it leaves no drift. Each piece comes with its inverse for the rollback files.
 */

/** PostgreSQL cuts names at 63 bytes; a long one is shortened with a hash so that two never collide. */
export function identifier(base: string): string {
  if (Buffer.byteLength(base) <= 63) return base
  const hash = createHash('sha256').update(base).digest('hex').slice(0, 8)
  let cut = base
  while (Buffer.byteLength(cut) > 54) cut = cut.slice(0, -1)
  return `${cut}_${hash}`
}

export function quoted(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

/** `"User"`, or `"app"."User"` outside the default schema. */
export function tableSql(table: string): string {
  const dot = table.indexOf('.')
  return dot < 0 ? quoted(table) : `${quoted(table.slice(0, dot))}.${quoted(table.slice(dot + 1))}`
}

/** `User` or `app.User`: a table as ColumnRef and the plan name it (the schema kept whenever the SQL names it). */
export function refName(ref: TableRef): string {
  return ref.schema ? `${ref.schema}.${ref.name}` : ref.name
}

/** The table's name without its schema. */
export function bareTable(table: string): string {
  return table.includes('.') ? table.slice(table.indexOf('.') + 1) : table
}

/** The function and trigger names of a rename's sync, in the table's schema. */
function syncNames(change: { target: ColumnRef }): { trigger: string; functionSql: string } {
  const name = identifier(`${bareTable(change.target.table)}_${change.target.column}_sync`)
  const dot = change.target.table.indexOf('.')
  const functionSql = dot < 0 ? quoted(name) : `${quoted(change.target.table.slice(0, dot))}.${quoted(name)}`
  return { trigger: name, functionSql }
}

/** The CHECK (column IS NOT NULL) that lets SET NOT NULL skip its scan (PostgreSQL 12+). */
export function notNullCheckName(target: ColumnRef): string {
  return identifier(`${bareTable(target.table)}_${target.column}_not_null`)
}

/** The changes whose column becomes NOT NULL in the contract. */
export function tightened(changes: SplitChange[]): ColumnRef[] {
  return changes.flatMap((change) =>
    change.kind === 'rename-column'
      ? change.required
        ? [change.target]
        : []
      : change.kind === 'drop-column' || change.kind === 'add-unique' || change.kind === 'add-foreign-key' || change.kind === 'rename-table'
        ? []
        : [change.target],
  )
}

export interface SqlPair {
  /** Runs in the migration. */
  forward: string
  /** Undoes it, in the rollback. */
  inverse: string
}

/**
 * The trigger that keeps a renamed column's two names equal while releases that know only one of them write: the
 * old release writes `from` alone, a release of the new shape may write `target` alone, the expand release both.
 * On INSERT the missing one is copied; on UPDATE the one that changed is copied over the one that did not.
 */
export function syncTrigger(change: Extract<SplitChange, { kind: 'rename-column' }>): SqlPair {
  const { trigger, functionSql } = syncNames(change)
  const a = quoted(change.from.column)
  const b = quoted(change.target.column)
  const table = tableSql(change.target.table)
  const forward = [
    `-- Keeps ${b} and ${a} equal while releases that know only one of them write (migrate-kit new --safe; the contract drops it)`,
    `CREATE FUNCTION ${functionSql}() RETURNS trigger LANGUAGE plpgsql AS $$`,
    'BEGIN',
    "  IF TG_OP = 'INSERT' THEN",
    `    IF NEW.${b} IS NULL THEN NEW.${b} := NEW.${a};`,
    `    ELSIF NEW.${a} IS NULL THEN NEW.${a} := NEW.${b};`,
    '    END IF;',
    `  ELSIF NEW.${a} IS DISTINCT FROM OLD.${a} AND NEW.${b} IS NOT DISTINCT FROM OLD.${b} THEN`,
    `    NEW.${b} := NEW.${a};`,
    `  ELSIF NEW.${b} IS DISTINCT FROM OLD.${b} AND NEW.${a} IS NOT DISTINCT FROM OLD.${a} THEN`,
    `    NEW.${a} := NEW.${b};`,
    '  END IF;',
    '  RETURN NEW;',
    'END',
    '$$;',
    `CREATE TRIGGER ${quoted(trigger)} BEFORE INSERT OR UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${functionSql}();`,
  ].join('\n')
  const inverse = [`DROP TRIGGER IF EXISTS ${quoted(trigger)} ON ${table};`, `DROP FUNCTION IF EXISTS ${functionSql}();`].join('\n')
  return { forward, inverse }
}

/** The CHECK (column IS NOT NULL) NOT VALID: new writes are checked at once, existing rows by the next migration. */
export function notValidCheck(target: ColumnRef): SqlPair {
  const table = tableSql(target.table)
  const name = quoted(notNullCheckName(target))
  return {
    forward: `ALTER TABLE ${table} ADD CONSTRAINT ${name} CHECK (${quoted(target.column)} IS NOT NULL) NOT VALID;`,
    inverse: `ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS ${name};`,
  }
}

export function validateCheck(target: ColumnRef): string {
  return `ALTER TABLE ${tableSql(target.table)} VALIDATE CONSTRAINT ${quoted(notNullCheckName(target))};`
}

/** After SET NOT NULL the CHECK says nothing more: dropped, as lint's own recipe does. */
export function dropCheck(target: ColumnRef): SqlPair {
  const table = tableSql(target.table)
  const name = quoted(notNullCheckName(target))
  return {
    forward: `ALTER TABLE ${table} DROP CONSTRAINT ${name};`,
    // Back to what the migration before this one left: the CHECK, added NOT VALID.
    inverse: notValidCheck(target).forward,
  }
}

/** A renamed table: RENAME TO (the new name, in the same schema) and the view under the old name the running release uses. */
export function tableRename(change: Extract<SplitChange, { kind: 'rename-table' }>): { rename: string; view: SqlPair; dropView: string } {
  const old = tableSql(change.from.table)
  const renamed = tableSql(change.target.table)
  return {
    rename: `ALTER TABLE ${old} RENAME TO ${quoted(bareTable(change.target.table))};`,
    view: {
      forward: `CREATE VIEW ${old} AS SELECT * FROM ${renamed};`,
      inverse: `DROP VIEW IF EXISTS ${old};`,
    },
    dropView: `DROP VIEW ${old};`,
  }
}
