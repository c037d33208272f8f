import { quoteIdent, quoteLiteral } from '../db/quote'
import { keyTextsSelect } from './compute'
import { isComputeBackfill, isSqlUpdateBackfill } from './definition'
import { compareKey, keyAliases, keyAsText, keyOrder, keySelectAs, keyTuple } from './key'
import type { KeyRange } from './ledger'
import { StatementBuilder } from './sql'
import { T } from './state'
import type { ResolvedBackfill } from './validate'

/**
 * The statements one batch runs, built from a checked definition. Identifiers are quoted; the key columns' types come
 * from the catalog (format_type), so range bounds, kept as text in the ledger, are cast back to the key's own ordering
 * (key.ts).
 */

/** `key > after AND key <= upTo`, each bound cast to the key columns' types: the keyset condition of a range (never OFFSET). */
export function rangeCondition(builder: StatementBuilder, resolved: ResolvedBackfill, range: KeyRange): StatementBuilder {
  if (range.after !== null) compareKey(builder, resolved.key, '>', range.after).text(' AND ')
  return compareKey(builder, resolved.key, '<=', range.upTo)
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
  const { definition, table, key } = resolved
  if (!isSqlUpdateBackfill(definition)) throw new Error('updateStatement: only an update backfill has a SET list')
  const builder = new StatementBuilder()
  const returnList = returning.length > 0 ? ` RETURNING ${[...new Set(returning)].map(quoteIdent).join(', ')}` : ''
  if (resolved.snapshotColumns.length === 0) {
    builder.text(`UPDATE ${table.quoted} SET `).fragment(definition.update, 'update')
    return whereClause(builder, resolved, range).text(returnList)
  }
  const aliases = keyAliases(key)
  builder.text(`WITH mk_locked AS (SELECT ${keySelectAs(key)}, ${snapshotObject(resolved)} AS mk_old FROM ${table.quoted}`)
  whereClause(builder, resolved, range).text(` ORDER BY ${keyOrder(key)} FOR NO KEY UPDATE), `)
  builder.text(`mk_snapshot AS (INSERT INTO ${T.snapshots} AS s (backfill, key, old) SELECT `).param(resolved.name)
  builder.text(`, ${keyAsText(key, aliases)}, mk_old FROM mk_locked ${SNAPSHOT_CONFLICT}) `)
  builder.text(`UPDATE ${table.quoted} SET `).fragment(definition.update, 'update')
  return builder.text(` WHERE ${keyTuple(key)} IN (SELECT ${aliases.join(', ')} FROM mk_locked)`).text(returnList)
}

/**
 * The rows process() or compute() gets, locked for the batch (FOR NO KEY UPDATE still lets the app insert rows
 * referencing them), in key order. With a snapshot, the same statement copies the old values of exactly those rows.
 * For compute(), each row also carries its key's exact text (compute.ts), for the write.
 */
export function selectForProcess(resolved: ResolvedBackfill, range: KeyRange): StatementBuilder {
  const { key, table } = resolved
  const selected = isComputeBackfill(resolved.definition) ? `*, ${keyTextsSelect(resolved)}` : '*'
  if (resolved.snapshotColumns.length === 0) {
    const builder = new StatementBuilder().text(`SELECT ${selected} FROM ${table.quoted}`)
    return whereClause(builder, resolved, range).text(` ORDER BY ${keyOrder(key)} FOR NO KEY UPDATE`)
  }
  const builder = new StatementBuilder().text(`WITH mk_locked AS (SELECT * FROM ${table.quoted}`)
  whereClause(builder, resolved, range).text(` ORDER BY ${keyOrder(key)} FOR NO KEY UPDATE), `)
  builder.text(`mk_snapshot AS (INSERT INTO ${T.snapshots} AS s (backfill, key, old) SELECT `).param(resolved.name)
  builder.text(`, ${keyAsText(key)}, ${snapshotObject(resolved)} FROM mk_locked ${SNAPSHOT_CONFLICT}) `)
  return builder.text(`SELECT ${selected} FROM mk_locked ORDER BY ${keyOrder(key)}`)
}
