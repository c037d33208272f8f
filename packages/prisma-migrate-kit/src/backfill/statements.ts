import { quoteIdent, quoteLiteral } from '../db/quote'
import { isProcessBackfill } from './definition'
import type { KeyRange } from './ledger'
import { StatementBuilder } from './sql'
import { T } from './state'
import type { ResolvedBackfill } from './validate'

/**
 * The statements one batch runs, built from a checked definition. Identifiers are quoted; the key's type comes from
 * the catalog (format_type), so range bounds, kept as text in the ledger, are cast back to the key's own ordering.
 */

export function keyRef(resolved: ResolvedBackfill): string {
  return quoteIdent(resolved.key.name)
}

/** `key > $a::type AND key <= $b::type`: the keyset condition of a range (never OFFSET). */
export function rangeCondition(builder: StatementBuilder, resolved: ResolvedBackfill, range: KeyRange): StatementBuilder {
  const key = keyRef(resolved)
  const type = resolved.key.type
  if (range.after !== null) builder.text(`${key} > `).param(range.after).text(`::${type} AND `)
  return builder.text(`${key} <= `).param(range.upTo).text(`::${type}`)
}

function whereClause(builder: StatementBuilder, resolved: ResolvedBackfill, range: KeyRange): StatementBuilder {
  rangeCondition(builder.text(' WHERE '), resolved, range)
  if (resolved.definition.where) builder.text(' AND (').fragment(resolved.definition.where, 'where').text(')')
  return builder
}

/** jsonb_build_object('a', "a", …) of the snapshot columns: old values, typed so restore can cast them back. */
function snapshotObject(resolved: ResolvedBackfill): string {
  return `jsonb_build_object(${resolved.snapshotColumns.map((column) => `${quoteLiteral(column.name)}, ${quoteIdent(column.name)}`).join(', ')})`
}

/**
 * Keeps the first old value of a row across re-runs (what restore must go back to), unless that snapshot was
 * already restored: then the row's current value is the new "before".
 */
const SNAPSHOT_CONFLICT = `ON CONFLICT (backfill, key) DO UPDATE
     SET old = CASE WHEN s.restored_at IS NULL THEN s.old ELSE EXCLUDED.old END, restored_at = NULL, taken_at = now()`

/**
 * The set-based batch. With a snapshot, one statement locks the range's rows, copies their old values and updates
 * exactly those rows, so no row can change between the copy and the update.
 */
export function updateStatement(resolved: ResolvedBackfill, range: KeyRange, returning: string[]): StatementBuilder {
  const { definition, table } = resolved
  if (isProcessBackfill(definition)) throw new Error('updateStatement: a process() backfill has no update')
  const key = keyRef(resolved)
  const builder = new StatementBuilder()
  const returnList = returning.length > 0 ? ` RETURNING ${[...new Set(returning)].map(quoteIdent).join(', ')}` : ''
  if (resolved.snapshotColumns.length === 0) {
    builder.text(`UPDATE ${table.quoted} SET `).fragment(definition.update, 'update')
    return whereClause(builder, resolved, range).text(returnList)
  }
  builder.text(`WITH mk_locked AS (SELECT ${key} AS mk_key, ${snapshotObject(resolved)} AS mk_old FROM ${table.quoted}`)
  whereClause(builder, resolved, range).text(` ORDER BY ${key} FOR NO KEY UPDATE), `)
  builder.text(`mk_snapshot AS (INSERT INTO ${T.snapshots} AS s (backfill, key, old) SELECT `).param(resolved.name)
  builder.text(`, mk_key::text, mk_old FROM mk_locked ${SNAPSHOT_CONFLICT}) `)
  builder.text(`UPDATE ${table.quoted} SET `).fragment(definition.update, 'update')
  return builder.text(` WHERE ${key} IN (SELECT mk_key FROM mk_locked)`).text(returnList)
}

/** The rows process() gets: locked for the batch (FOR NO KEY UPDATE still lets the app insert rows referencing them). */
export function selectForProcess(resolved: ResolvedBackfill, range: KeyRange): StatementBuilder {
  const builder = new StatementBuilder().text(`SELECT * FROM ${resolved.table.quoted}`)
  return whereClause(builder, resolved, range).text(` ORDER BY ${keyRef(resolved)} FOR NO KEY UPDATE`)
}

/** Old values of rows process() is about to get (already locked by selectForProcess). */
export function snapshotKeys(resolved: ResolvedBackfill, keys: string[]): StatementBuilder {
  const key = keyRef(resolved)
  return new StatementBuilder()
    .text(`INSERT INTO ${T.snapshots} AS s (backfill, key, old) SELECT `)
    .param(resolved.name)
    .text(`, ${key}::text, ${snapshotObject(resolved)} FROM ${resolved.table.quoted} WHERE ${key} = ANY(`)
    .param(keys)
    .text(`::${resolved.key.type}[]) ${SNAPSHOT_CONFLICT}`)
}
