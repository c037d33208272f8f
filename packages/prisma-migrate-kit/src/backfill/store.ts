import type { ClientBase } from 'pg'
import { MigrateKitError, ExitCode } from '../errors'
import { keyName, type BackfillKey } from './key'
import type { StatementBuilder } from './sql'
import { T, type BackfillStatusValue } from './state'

/**
 * The only writer of migrate_kit.backfills (one row per backfill: its status, its owner, its progress columns and the
 * ledger's frontier). Every status change goes through `transition`, which names the states it may start from and
 * writes only when the row is in one of them: a change from anywhere else is a bug or a race, and says so instead of
 * overwriting what another session recorded. `tests/repository.test.ts` keeps every other module from writing the row.
 */

/** A status change of the row, by what causes it. */
export type Transition =
  | 'start' // a run takes the backfill (created, resumed, restarted, or joined)
  | 'pause' // `backfill pause`
  | 'resume' // `backfill resume`
  | 'cancel' // `backfill cancel` with no runner, or the runner concluding a cancel
  | 'interrupt' // the last runner leaves on a signal
  | 'fail' // a range failed on its row, verify found rows, or the run met an error it cannot go on after
  | 'finish' // every range done and verify clean
  | 'reset' // the ledger forgotten: --restart, a reset table, the end of a restore

const ANY: readonly BackfillStatusValue[] = ['pending', 'running', 'paused', 'failed', 'cancelled', 'done']

/**
 * Where each transition may start. 'running' on the row may be stale (its runner died): the commands that act on an
 * idle backfill (cancel, restore) accept it, having checked there is no live runner.
 */
export const ALLOWED_FROM: Record<Transition, readonly BackfillStatusValue[]> = {
  start: ANY,
  pause: ['pending', 'running', 'paused'],
  resume: ['running', 'paused'],
  cancel: ['pending', 'running', 'paused', 'failed', 'cancelled'],
  interrupt: ['running'],
  fail: ['running', 'paused', 'failed'],
  finish: ['running', 'paused'],
  reset: ANY,
}

export function transitionAllowed(transition: Transition, from: BackfillStatusValue): boolean {
  return ALLOWED_FROM[transition].includes(from)
}

/** A status change found the row in a state it may not start from (or found no row). Exit 1: nothing was written. */
export class BackfillStateError extends MigrateKitError {
  readonly exitCode = ExitCode.failed
  constructor(
    readonly backfill: string,
    readonly transition: Transition,
    readonly found: BackfillStatusValue | undefined,
  ) {
    super(
      found === undefined
        ? `backfill "${backfill}" has no state row to ${transition}: it was forgotten while this command ran`
        : `backfill "${backfill}" is ${found}, which cannot ${transition} (only from ${ALLOWED_FROM[transition].join(', ')}); another session changed it meanwhile`,
      { hint: `See what it is now: migrate-kit backfill status ${backfill}` },
    )
  }
}

/**
 * Writes `assignments` ($1 is the name, the values follow) when the row's status allows `transition`; otherwise
 * throws BackfillStateError and writes nothing. `quiet`: a refused change returns false instead (a conditional write).
 */
async function transition(
  client: ClientBase,
  name: string,
  change: Transition,
  assignments: string,
  values: unknown[] = [],
  options: { quiet?: boolean } = {},
): Promise<boolean> {
  const allowed = ALLOWED_FROM[change]
  const { rowCount } = await client.query(
    `UPDATE ${T.backfills} SET ${assignments}, updated_at = now() WHERE name = $1 AND status = ANY($${values.length + 2}::text[])`,
    [name, ...values, allowed],
  )
  if ((rowCount ?? 0) > 0) return true
  if (options.quiet) return false
  const { rows } = await client.query<{ status: BackfillStatusValue }>(`SELECT status FROM ${T.backfills} WHERE name = $1`, [name])
  throw new BackfillStateError(name, change, rows[0]?.status)
}

export interface RunStart {
  file: string
  checksum: string
  tableName: string
  tableOid: number
  key: BackfillKey
  batchSize: number
  snapshotColumns: string[]
  afterMigrationId: string | null
  /** The runner holding the lock owns the row: it lifts a pause and becomes the owner. A joined runner does neither. */
  owner: { host: string; pid: number } | null
}

/** A run takes the backfill: the row is created, or updated for this run (status running; a joiner keeps a pause). */
export async function startRun(client: ClientBase, name: string, start: RunStart): Promise<void> {
  const primary = start.owner !== null
  await client.query(
    `INSERT INTO ${T.backfills} AS b (name, file, checksum, table_name, key_column, key_type, status, batch_size,
            snapshot_columns, started_at, owner_host, owner_pid, owner_since, table_oid, after_migration_id, key_columns, key_types)
     VALUES ($1, $2, $3, $4, $5, $6, 'running', $7, $8, now(), $9, $10, CASE WHEN $11 THEN now() END, $12, $13, $14, $15)
     ON CONFLICT (name) DO UPDATE SET
       file = EXCLUDED.file, checksum = EXCLUDED.checksum, table_name = EXCLUDED.table_name, table_oid = EXCLUDED.table_oid,
       after_migration_id = EXCLUDED.after_migration_id,
       key_column = EXCLUDED.key_column, key_type = EXCLUDED.key_type,
       key_columns = EXCLUDED.key_columns, key_types = EXCLUDED.key_types, batch_size = EXCLUDED.batch_size,
       snapshot_columns = (SELECT coalesce(array_agg(DISTINCT c), '{}') FROM unnest(b.snapshot_columns || EXCLUDED.snapshot_columns) c),
       -- A joined runner does not lift a pause someone asked for; a plain run (the lock holder) does.
       status = CASE WHEN $11 OR b.status <> 'paused' THEN 'running' ELSE b.status END,
       requested = CASE WHEN $11 THEN NULL ELSE b.requested END,
       started_at = coalesce(b.started_at, now()), finished_at = NULL,
       last_error = NULL, failed_after = NULL, failed_up_to = NULL,
       owner_host = CASE WHEN $11 THEN EXCLUDED.owner_host ELSE b.owner_host END,
       owner_pid = CASE WHEN $11 THEN EXCLUDED.owner_pid ELSE b.owner_pid END,
       owner_since = CASE WHEN $11 THEN now() ELSE b.owner_since END,
       updated_at = now()`,
    [
      name,
      start.file,
      start.checksum,
      start.tableName,
      keyName(start.key),
      start.key.columns.map((column) => column.type).join(', '),
      start.batchSize,
      start.snapshotColumns,
      start.owner?.host ?? null,
      start.owner?.pid ?? null,
      primary,
      start.tableOid,
      start.afterMigrationId,
      start.key.columns.map((column) => column.name),
      start.key.columns.map((column) => column.type),
    ],
  )
}

/** A runner holds the batches by itself for the database's health (why), or goes on (null). */
export async function recordThrottle(client: ClientBase, name: string, why: string | null): Promise<void> {
  await client.query(`UPDATE ${T.backfills} SET throttled = $2 WHERE name = $1`, [name, why])
}

export async function setRowsTotal(client: ClientBase, name: string, rowsTotal: number): Promise<void> {
  await client.query(`UPDATE ${T.backfills} SET rows_total = $2 WHERE name = $1`, [name, rowsTotal])
}

/** pause / resume / cancel from any session: the status to show and the request the runners act on. */
export async function recordRequest(
  client: ClientBase,
  name: string,
  change: 'pause' | 'resume' | 'cancel',
  request: { status: BackfillStatusValue; requested: 'pause' | 'cancel' | null; by: string },
): Promise<void> {
  await transition(client, name, change, 'status = $2, requested = $3, requested_by = $4, requested_at = now()', [
    request.status,
    request.requested,
    request.by,
  ])
}

/** The backfill failed: on a range (its keys are kept for the next run to retry) or as a whole (range null). */
export async function recordFailure(
  client: ClientBase,
  name: string,
  error: string,
  range: { after: string | null; upTo: string } | null,
): Promise<void> {
  await transition(
    client,
    name,
    'fail',
    range ? 'status = $2, last_error = $3, failed_after = $4, failed_up_to = $5' : 'status = $2, last_error = $3',
    range ? ['failed', error, range.after, range.upTo] : ['failed', error],
  )
}

/** The runner concluded a cancel request. */
export async function recordCancelled(client: ClientBase, name: string): Promise<void> {
  await transition(client, name, 'cancel', `status = $2, requested = NULL`, ['cancelled'])
}

/** The last runner left on a signal: the backfill is paused, unless something else was recorded meanwhile. */
export async function recordInterrupted(client: ClientBase, name: string): Promise<boolean> {
  return transition(client, name, 'interrupt', 'status = $2', ['paused'], { quiet: true })
}

export interface Progress {
  rowsDone: number
  rowsChanged: number
  cursor: string | null
  batchSize: number
  lastBatchMs: number | null
  /** Runner time since the last save, added to run_ms (summed over runners). */
  runMsSinceSave: number
}

/** The progress columns, copied from the ledger for `status` readers. Never changes the status. */
export async function saveProgress(client: ClientBase, name: string, progress: Progress): Promise<void> {
  await client.query(
    `UPDATE ${T.backfills} SET rows_done = $2, rows_changed = $3, cursor = $4, batch_size = $5, last_batch_ms = $6,
            rows_total = greatest(rows_total, $2), run_ms = run_ms + $7, updated_at = now()
      WHERE name = $1`,
    [name, progress.rowsDone, progress.rowsChanged, progress.cursor, progress.batchSize, progress.lastBatchMs, progress.runMsSinceSave],
  )
}

export interface Conclusion {
  /** Null: verify found nothing (or there is none) and the backfill is done; otherwise why it failed. */
  failure: string | null
  verified: boolean
  verifyFailures: number | null
  progress: Omit<Progress, 'lastBatchMs'>
}

/** Every range is done: the backfill is done, or failed on what verify found. */
export async function recordConclusion(client: ClientBase, name: string, end: Conclusion): Promise<void> {
  const done = end.failure === null
  await transition(
    client,
    name,
    done ? 'finish' : 'fail',
    `status = $2, last_error = $3, finished_at = CASE WHEN $2 = 'done' THEN now() END,
     verified_at = CASE WHEN $4 THEN now() END, verify_failures = $5,
     rows_done = $6, rows_changed = $7, rows_total = CASE WHEN $2 = 'done' THEN $6 ELSE greatest(rows_total, $6) END,
     cursor = $8, batch_size = $9, run_ms = run_ms + $10, requested = NULL`,
    [
      done ? 'done' : 'failed',
      end.failure,
      end.verified,
      end.verifyFailures,
      end.progress.rowsDone,
      end.progress.rowsChanged,
      end.progress.cursor,
      end.progress.batchSize,
      end.progress.runMsSinceSave,
    ],
  )
}

/** The ledger was forgotten: the backfill is pending, from the first key, with nothing done or failed. */
export async function recordReset(client: ClientBase, name: string): Promise<void> {
  await transition(
    client,
    name,
    'reset',
    `frontier = NULL, upper_bound = NULL, catch_up_passes = 0, cursor = NULL, rows_done = 0, rows_changed = 0,
     status = $2, last_error = NULL, failed_after = NULL, failed_up_to = NULL, finished_at = NULL, verified_at = NULL,
     verify_failures = NULL`,
    ['pending'],
  )
}

/** A restore began: until it ends, a run refuses to start on half-restored rows. */
export async function recordRestoreStarted(client: ClientBase, name: string): Promise<void> {
  await client.query(`UPDATE ${T.backfills} SET restoring_since = coalesce(restoring_since, now()), updated_at = now() WHERE name = $1`, [
    name,
  ])
}

/** The restore ended (with recordReset in the same transaction): the row count is estimated again at the next run. */
export async function recordRestoreEnded(client: ClientBase, name: string): Promise<void> {
  await client.query(`UPDATE ${T.backfills} SET restoring_since = NULL, restored_at = now(), rows_total = NULL WHERE name = $1`, [name])
}

/** `backfill forget`: the row goes (its ranges, snapshot and outbox are deleted by the caller in the same transaction). */
export async function deleteBackfillRow(client: ClientBase, name: string): Promise<void> {
  await client.query(`DELETE FROM ${T.backfills} WHERE name = $1`, [name])
}

// The ledger's frontier and bound, on the same row: written while a cut holds the row locked.

/** Appends to a cut's statement the CTE that moves the frontier to the range just recorded (mk_range). */
export function appendFrontierMove(query: StatementBuilder, name: string): StatementBuilder {
  return query.text(`mk_moved AS (UPDATE ${T.backfills} SET frontier = mk_range.upper FROM mk_range WHERE name = `).param(name)
}

/** The key range grows to a new bound (rows inserted since the start: a catch-up pass when `catchUp`). */
export async function extendBound(client: ClientBase, name: string, bound: string, catchUp: boolean): Promise<void> {
  await client.query(`UPDATE ${T.backfills} SET upper_bound = $2, catch_up_passes = catch_up_passes + $3 WHERE name = $1`, [
    name,
    bound,
    catchUp ? 1 : 0,
  ])
}
