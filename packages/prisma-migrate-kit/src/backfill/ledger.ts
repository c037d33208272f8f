import type { ClientBase } from 'pg'
import { StatementBuilder } from './sql'
import { compareKey, displayKey, keyAliases, keyAsText, keyFromText, keyOrder, keySelectAs, type BackfillKey } from './key'
import { rangeCondition } from './statements'
import { T, inTransaction } from './state'
import { appendFrontierMove, extendBound, recordFailure, recordReset } from './store'
import type { ResolvedBackfill } from './validate'

/**
 * The range ledger. Keys are cut into ranges (after, upTo] in key order, each written once as a row of
 * migrate_kit.backfill_ranges. Exactly-once comes from one rule: a range is claimed with FOR UPDATE SKIP LOCKED
 * inside the very transaction that changes its rows and flips it to done. A crash rolls all three back together;
 * a commit makes all three durable together; a second runner never sees a range another one holds.
 */

/** Keys greater than `after` (null: from the first key) up to and including `upTo`, as text. */
export interface KeyRange {
  after: string | null
  upTo: string
}

/** `up to 100` or `(100, 200]`, or `((7, 'a'), (9, 'c')]` on a composite key: a range as messages show it. */
export function describeRange(key: BackfillKey, range: KeyRange): string {
  const upTo = displayKey(key, range.upTo)
  return range.after === null ? `up to ${upTo}` : `(${displayKey(key, range.after)}, ${upTo}]`
}

export interface LedgerRange extends KeyRange {
  id: string
  /** Keys in the range when it was cut. */
  rows: number
  attempts: number
}

interface RangeRow {
  id: string
  lower: string | null
  upper: string
  rows: number
  attempts: number
}

const toRange = (row: RangeRow): LedgerRange => ({
  id: row.id,
  after: row.lower,
  upTo: row.upper,
  rows: row.rows,
  attempts: row.attempts,
})

/**
 * Inside the batch transaction: the oldest pending range nobody holds, now held by this transaction. Ranges this
 * runner is letting cool down after a lock conflict are passed over, so the rest of the table goes on meanwhile.
 */
export async function claimRange(client: ClientBase, backfill: string, skip: readonly string[] = []): Promise<LedgerRange | undefined> {
  const { rows } = await client.query<RangeRow>(
    `SELECT id, lower, upper, rows, attempts FROM ${T.ranges}
      WHERE backfill = $1 AND status = 'pending' AND id <> ALL($2::bigint[]) ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`,
    [backfill, skip],
  )
  return rows[0] ? toRange(rows[0]) : undefined
}

/** Inside the batch transaction, last: the range is done, with what it did. */
export async function completeRange(
  client: ClientBase,
  range: LedgerRange,
  result: { rowsChanged: number; batchMs: number; doneBy: string },
): Promise<void> {
  await client.query(
    `UPDATE ${T.ranges} SET status = 'done', rows_changed = $2, batch_ms = $3, done_by = $4, done_at = now(), last_error = NULL
      WHERE id = $1`,
    [range.id, result.rowsChanged, Math.round(result.batchMs), result.doneBy],
  )
}

/**
 * The end of a full range: the key `size` steps after the range's start in index order, found by one index walk that
 * builds nothing on the way (OFFSET inside the keyset: the walk starts at the frontier, not at the table's first key).
 * No row when fewer than `size` keys are left in the range.
 */
function fullRangeEnd(builder: StatementBuilder, resolved: ResolvedBackfill, range: KeyRange, size: number): StatementBuilder {
  const { key } = resolved
  const aliases = keyAliases(key)
  builder
    .text(`SELECT `)
    .param(size)
    .text(`::int AS rows, ${keyAsText(key, aliases)} AS upper FROM (SELECT ${keySelectAs(key)} FROM ${resolved.table.quoted} WHERE `)
  return rangeCondition(builder, resolved, range)
    .text(` ORDER BY ${keyOrder(key)} OFFSET `)
    .param(size - 1)
    .text(' LIMIT 1) keys')
}

/**
 * A subquery walking up to $size keys of a range in index order (`keys`, its columns mk_k1…), and the ledger text of
 * the greatest of them: array_agg with ORDER BY works for every key type and width (there is no max(uuid)).
 */
function walkKeys(builder: StatementBuilder, resolved: ResolvedBackfill, range: KeyRange, size: number): StatementBuilder {
  const { key } = resolved
  const aliases = keyAliases(key)
  builder.text(
    `SELECT count(*)::int AS rows, (array_agg(${keyAsText(key, aliases)} ORDER BY ${keyOrder(key, ' DESC', aliases)}))[1] AS upper`,
  )
  builder.text(` FROM (SELECT ${keySelectAs(key)} FROM ${resolved.table.quoted} WHERE `)
  return rangeCondition(builder, resolved, range)
    .text(` ORDER BY ${keyOrder(key)} LIMIT `)
    .param(size)
    .text(') keys')
}

export type CarveResult =
  | { kind: 'carved'; range: KeyRange; rows: number }
  /** The cutting bound moved up to the key's current max: rows inserted since the last pass. */
  | { kind: 'extended'; catchUp: boolean }
  | { kind: 'exhausted' }

/**
 * Cuts the next range of up to `size` keys after the frontier, in its own short transaction. The backfill's row
 * lock serialises cutting between workers and runners; batches never wait on it. The boundary is found by walking
 * the key's index for `size` entries from the frontier (keyset: never from the table's first key).
 *
 * When the frontier reaches the bound, the bound moves to the key's current max (the catch-up pass that covers rows
 * inserted while the backfill ran), at most maxCatchUpPasses times, so an insert-heavy table cannot keep it running.
 */
export async function carveRange(
  client: ClientBase,
  resolved: ResolvedBackfill,
  size: number,
  maxCatchUpPasses: number,
): Promise<CarveResult> {
  const { key } = resolved
  const table = resolved.table.quoted
  return inTransaction(
    client,
    async () => {
      const { rows } = await client.query<{ frontier: string | null; upper_bound: string | null; catch_up_passes: number }>(
        `SELECT frontier, upper_bound, catch_up_passes FROM ${T.backfills} WHERE name = $1 FOR UPDATE`,
        [resolved.name],
      )
      const state = rows[0]
      if (!state) throw new Error(`backfill "${resolved.name}" has no state row`)
      if (state.upper_bound !== null) {
        const range = { after: state.frontier, upTo: state.upper_bound }
        // A full range (nearly every cut), else the fewer keys left before the bound, counted (once per pass).
        const found =
          (await cut(client, resolved, state.frontier, (query) => fullRangeEnd(query, resolved, range, size))) ??
          (await cut(client, resolved, state.frontier, (query) => walkKeys(query, resolved, range, size)))
        if (found) return { kind: 'carved', range: { after: state.frontier, upTo: found.upper }, rows: found.rows }
      }
      const catchUp = state.upper_bound !== null
      if (catchUp && state.catch_up_passes >= maxCatchUpPasses) return { kind: 'exhausted' }
      // ORDER BY … DESC LIMIT 1 rather than max(): one step of a backward index scan, and it works for every key type
      // (PostgreSQL has no max(uuid)) and width.
      const last = new StatementBuilder().text(`SELECT ${keyAsText(key)} AS max FROM ${table}`)
      if (state.upper_bound !== null) compareKey(last.text(' WHERE '), key, '>', state.upper_bound)
      const lastQuery = last.text(` ORDER BY ${keyOrder(key, ' DESC')} LIMIT 1`).build()
      const max = await client.query<{ max: string | null }>(lastQuery.text, lastQuery.values)
      const newBound = max.rows[0]?.max ?? null
      if (newBound === null) return { kind: 'exhausted' }
      await extendBound(client, resolved.name, newBound, catchUp)
      return { kind: 'extended', catchUp }
    },
    // A cut only matters to the batch that claims it, whose own (synchronous) commit makes the cut durable with it:
    // WAL is flushed in order. A crash that loses a cut loses nothing done; the same range is cut again. So the cut
    // does not wait for its own disk flush.
    'BEGIN; SET LOCAL synchronous_commit = off',
  )
}

/**
 * One statement finds the range's end (`ends` gives its rows and upper key), records the range and moves the frontier:
 * every batch pays for a cut, so it is one round trip. Undefined when `ends` found no key.
 */
async function cut(
  client: ClientBase,
  resolved: ResolvedBackfill,
  frontier: string | null,
  ends: (query: StatementBuilder) => StatementBuilder,
): Promise<{ rows: number; upper: string } | undefined> {
  const query = ends(new StatementBuilder().text('WITH mk_cut AS (')).text('), ')
  query.text(`mk_range AS (INSERT INTO ${T.ranges} (backfill, lower, upper, rows) SELECT `).param(resolved.name)
  query.text(', ').param(frontier).text('::text, upper, rows FROM mk_cut WHERE rows > 0 RETURNING upper, rows), ')
  const { text, values } = appendFrontierMove(query, resolved.name).text(') SELECT upper, rows FROM mk_range').build()
  const result = await client.query<{ rows: number; upper: string }>(text, values)
  return result.rows[0]
}

/** Counts a conflict against a range nobody holds; undefined when another worker has it now. */
export async function recordAttempt(client: ClientBase, id: string, error: string): Promise<number | undefined> {
  const { rows } = await client.query<{ attempts: number }>(
    `UPDATE ${T.ranges} SET attempts = attempts + 1, last_error = $2
      WHERE id IN (SELECT id FROM ${T.ranges} WHERE id = $1 AND status = 'pending' FOR UPDATE SKIP LOCKED)
      RETURNING attempts`,
    [id, error],
  )
  return rows[0]?.attempts
}

export type SplitResult = 'split' | 'single-row' | 'busy'

/**
 * Halves a range that keeps failing (GitLab's batch splitting): two ranges with half the keys each replace it, in
 * one transaction. A range of one row cannot be halved: the caller records it as failed.
 */
export async function splitRange(client: ClientBase, resolved: ResolvedBackfill, id: string): Promise<SplitResult> {
  const table = resolved.table.quoted
  return inTransaction(client, async () => {
    const { rows } = await client.query<RangeRow>(
      `SELECT id, lower, upper, rows, attempts FROM ${T.ranges} WHERE id = $1 AND status = 'pending' FOR UPDATE SKIP LOCKED`,
      [id],
    )
    const row = rows[0]
    if (!row) return 'busy'
    const range: KeyRange = { after: row.lower, upTo: row.upper }
    const counting = rangeCondition(
      new StatementBuilder().text(`SELECT count(*)::int AS rows FROM ${table} WHERE `),
      resolved,
      range,
    ).build()
    const count = await client.query<{ rows: number }>(counting.text, counting.values)
    const total = count.rows[0]?.rows ?? 0
    if (total <= 1) return 'single-row'
    const half = Math.floor(total / 2)
    const { text, values } = walkKeys(new StatementBuilder(), resolved, range, half).build()
    const middle = await client.query<{ upper: string | null }>(text, values)
    const mid = middle.rows[0]?.upper
    if (mid === undefined || mid === null) return 'single-row'
    await client.query(`DELETE FROM ${T.ranges} WHERE id = $1`, [id])
    await client.query(`INSERT INTO ${T.ranges} (backfill, lower, upper, rows) VALUES ($1, $2, $3, $4), ($1, $3, $5, $6)`, [
      resolved.name,
      row.lower,
      mid,
      half,
      row.upper,
      total - half,
    ])
    return 'split'
  })
}

/** A range that fails on its own single row: it, and the backfill, are failed, with the error and the key range. */
export async function failRange(client: ClientBase, backfill: string, range: KeyRange & { id: string }, error: string): Promise<void> {
  await inTransaction(client, async () => {
    await client.query(`UPDATE ${T.ranges} SET status = 'failed', last_error = $2 WHERE id = $1`, [range.id, error])
    await recordFailure(client, backfill, error, { after: range.after, upTo: range.upTo })
  })
}

export interface LedgerTotals {
  rowsDone: number
  rowsChanged: number
  rangesDone: number
  rangesPending: number
  rangesFailed: number
}

export async function ledgerTotals(client: ClientBase, backfill: string): Promise<LedgerTotals> {
  const { rows } = await client.query<{
    rows_done: string
    rows_changed: string
    done: number
    pending: number
    failed: number
  }>(
    `SELECT coalesce(sum(rows) FILTER (WHERE status = 'done'), 0)::bigint AS rows_done,
            coalesce(sum(rows_changed) FILTER (WHERE status = 'done'), 0)::bigint AS rows_changed,
            count(*) FILTER (WHERE status = 'done')::int AS done,
            count(*) FILTER (WHERE status = 'pending')::int AS pending,
            count(*) FILTER (WHERE status = 'failed')::int AS failed
       FROM ${T.ranges} WHERE backfill = $1`,
    [backfill],
  )
  const row = rows[0]
  return {
    rowsDone: Number(row?.rows_done ?? 0),
    rowsChanged: Number(row?.rows_changed ?? 0),
    rangesDone: row?.done ?? 0,
    rangesPending: row?.pending ?? 0,
    rangesFailed: row?.failed ?? 0,
  }
}

/**
 * The cursor: every key up to it is done. The lower bound of the first range not done, or the frontier when every
 * range cut so far is done. Null while the first range is not done.
 */
export async function lowWaterCursor(client: ClientBase, backfill: string, key: BackfillKey): Promise<string | null> {
  // A null lower bound (the first range) comes first; the rest in the key's own order.
  const open = await client.query<{ lower: string | null }>(
    `SELECT lower FROM ${T.ranges} WHERE backfill = $1 AND status <> 'done' ORDER BY lower IS NOT NULL, ${keyFromText(key, 'lower')} LIMIT 1`,
    [backfill],
  )
  if (open.rows.length > 0) return open.rows[0].lower
  const state = await client.query<{ frontier: string | null }>(`SELECT frontier FROM ${T.backfills} WHERE name = $1`, [backfill])
  return state.rows[0]?.frontier ?? null
}

/** Before a new run: failed ranges get another chance (the operator fixed the data or the definition). */
export async function retryFailedRanges(client: ClientBase, backfill: string): Promise<number> {
  const { rowCount } = await client.query(
    `UPDATE ${T.ranges} SET status = 'pending', attempts = 0 WHERE backfill = $1 AND status = 'failed'`,
    [backfill],
  )
  return rowCount ?? 0
}

/** Forgets every range (restore, --restart): the backfill starts over from the first key. */
export async function forgetRanges(client: ClientBase, backfill: string): Promise<void> {
  await client.query(`DELETE FROM ${T.ranges} WHERE backfill = $1`, [backfill])
  await recordReset(client, backfill)
}
