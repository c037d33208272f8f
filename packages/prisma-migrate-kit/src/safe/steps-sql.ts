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
  return { trigger: name, functionSql: tableFunction(change.target.table, name) }
}

/** The CHECK (column IS NOT NULL) that lets SET NOT NULL skip its scan (PostgreSQL 12+). */
export function notNullCheckName(target: ColumnRef): string {
  return identifier(`${bareTable(target.table)}_${target.column}_not_null`)
}

/** The changes whose column becomes NOT NULL in the contract. */
export function tightened(changes: SplitChange[]): ColumnRef[] {
  return changes.flatMap((change) =>
    isTwoColumn(change)
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

/** A change that keeps its old column beside the new one, synced by a trigger, until its drop step. */
export type TwoColumnChange = Extract<SplitChange, { kind: 'rename-column' | 'change-type' }>

export function isTwoColumn(change: SplitChange): change is TwoColumnChange {
  return change.kind === 'rename-column' || change.kind === 'change-type'
}

/** A function of the table's schema, as SQL names it. */
function tableFunction(table: string, name: string): string {
  const dot = table.indexOf('.')
  return dot < 0 ? quoted(name) : `${quoted(table.slice(0, dot))}.${quoted(name)}`
}

/** The conversion functions of a type change, old → new (`…_convert`) and back (`…_convert_back`). */
function conversionNames(change: TwoColumnChange): { forward: string; back: string } {
  const base = `${bareTable(change.from.table)}_${change.from.column}_convert`
  return { forward: tableFunction(change.from.table, identifier(base)), back: tableFunction(change.from.table, identifier(`${base}_back`)) }
}

/** `value` of the old column as the new one holds it (`back`: the other way); a rename copies it as it is. */
export function converted(change: TwoColumnChange, value: string, direction: 'forward' | 'back' = 'forward'): string {
  if (change.kind === 'rename-column') return value
  return `${conversionNames(change)[direction]}(${value})`
}

/**
 * The conversion functions of a type change: CAST, and NULL for a value that does not convert, which the trigger then
 * leaves empty and the backfill's precheck lists. They are the one place a developer writes another rule (a CASE for
 * 'yes'/'no' → boolean), in the expand migration, before it is deployed.
 */
export function conversionFunctions(change: Extract<SplitChange, { kind: 'change-type' }>): SqlPair {
  const names = conversionNames(change)
  const fn = (name: string, from: string, to: string) =>
    [
      `CREATE FUNCTION ${name}(value ${from}) RETURNS ${to} LANGUAGE plpgsql STABLE AS $$`,
      'BEGIN',
      `  RETURN CAST(value AS ${to});`,
      'EXCEPTION WHEN others THEN',
      '  RETURN NULL;',
      'END',
      '$$;',
    ].join('\n')
  return {
    forward: [
      `-- ${quoted(change.from.column)} (${change.fromType}) as ${quoted(change.target.column)} (${change.toType}), and back: used by the trigger and the`,
      '-- backfill. For another rule, edit the bodies before this migration is deployed; NULL means "does not convert" (the',
      "-- backfill's precheck lists those rows and refuses to start).",
      fn(names.forward, change.fromType, change.toType),
      fn(names.back, change.toType, change.fromType),
    ].join('\n'),
    inverse: [
      `DROP FUNCTION IF EXISTS ${names.forward}(${change.fromType});`,
      `DROP FUNCTION IF EXISTS ${names.back}(${change.toType});`,
    ].join('\n'),
  }
}

/**
 * The function of the trigger that keeps the two columns equal while releases that know only one of them write. On
 * UPDATE the column that changed is copied (converted) over the one that did not. On INSERT a column that has a
 * default may hold it without the writer having named it, so each step trusts the column without one: in the expand
 * the new column (the old release never writes it; its @default comes with the contract), in the contract the old one
 * (the contract drops its default, and the contract's release never writes it).
 */
function syncFunction(change: TwoColumnChange, step: 'expand' | 'contract'): string {
  const { functionSql } = syncNames(change)
  const a = `NEW.${quoted(change.from.column)}`
  const b = `NEW.${quoted(change.target.column)}`
  const forward = converted(change, a)
  const back = converted(change, b, 'back')
  const insert =
    step === 'expand'
      ? [`    IF ${b} IS NULL THEN ${b} := ${forward};`, `    ELSIF ${forward} IS DISTINCT FROM ${b} THEN ${a} := ${back};`, '    END IF;']
      : [`    IF ${a} IS NULL THEN ${a} := ${back};`, `    ELSE ${b} := ${forward};`, '    END IF;']
  const oldA = `OLD.${quoted(change.from.column)}`
  const oldB = `OLD.${quoted(change.target.column)}`
  return [
    `CREATE OR REPLACE FUNCTION ${functionSql}() RETURNS trigger LANGUAGE plpgsql AS $$`,
    'BEGIN',
    "  IF TG_OP = 'INSERT' THEN",
    ...insert,
    `  ELSIF ${a} IS DISTINCT FROM ${oldA} AND ${b} IS NOT DISTINCT FROM ${oldB} THEN`,
    `    ${b} := ${forward};`,
    `  ELSIF ${b} IS DISTINCT FROM ${oldB} AND ${a} IS NOT DISTINCT FROM ${oldA} AND ${forward} IS DISTINCT FROM ${b} THEN`,
    `    ${a} := ${back};`,
    '  END IF;',
    '  RETURN NEW;',
    'END',
    '$$;',
  ].join('\n')
}

/** The sync trigger, with the function of the step it is created in (the expand; the drop's rollback: the contract). */
export function syncTrigger(change: TwoColumnChange, step: 'expand' | 'contract' = 'expand'): SqlPair {
  const { trigger, functionSql } = syncNames(change)
  const table = tableSql(change.target.table)
  const what = change.kind === 'rename-column' ? 'equal' : 'equal, converted'
  const forward = [
    `-- Keeps ${quoted(change.target.column)} and ${quoted(change.from.column)} ${what} while releases that know only one of them write (migrate-kit new --safe; the drop step removes it)`,
    syncFunction(change, step),
    `CREATE TRIGGER ${quoted(trigger)} BEFORE INSERT OR UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${functionSql}();`,
  ].join('\n')
  const inverse = [`DROP TRIGGER IF EXISTS ${quoted(trigger)} ON ${table};`, `DROP FUNCTION IF EXISTS ${functionSql}();`].join('\n')
  return { forward, inverse }
}

/** The contract's trigger function (trusting the old column on INSERT), and back to the expand's in its rollback. */
export function contractSync(change: TwoColumnChange): SqlPair {
  return { forward: syncFunction(change, 'contract'), inverse: syncFunction(change, 'expand') }
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
