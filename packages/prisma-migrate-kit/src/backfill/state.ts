import type { ClientBase } from 'pg'
import type { BackfillKey } from './key'
import { ensureState, stateExists, STATE_SCHEMA, type StateComponent } from '../state/schema'

/**
 * The backfill tables in schema migrate_kit. Append-only: a shipped step is never edited, a change is a new step.
 *
 * - backfills: one row per backfill. What an operator reads (status, progress, owner, last error) and the carving
 *   frontier. Batches never write it, so concurrent batches do not queue on one hot row; the runner refreshes its
 *   progress columns from the ledger every few seconds and at the end.
 * - backfill_ranges: the range ledger. A range (lower, upper] of keys is cut once, then done by exactly one batch
 *   transaction, which also flips its row to done. That row lock, taken with FOR UPDATE SKIP LOCKED, is the lease.
 * - backfill_runners: the processes working on a backfill, found alive through their session's backend.
 * - backfill_snapshots: old values of the snapshot columns, written in the batch's own transaction.
 * - backfill_invalidations: an outbox of Redis keys to delete, written in the batch's transaction, deleted once Redis
 *   took them.
 */
export const BACKFILL_STATE: StateComponent = {
  name: 'backfill',
  steps: [
    `CREATE TABLE backfills (
       name text PRIMARY KEY,
       file text,
       checksum text,
       table_name text NOT NULL,
       key_column text NOT NULL,
       key_type text NOT NULL,
       status text NOT NULL DEFAULT 'pending'
         CHECK (status IN ('pending', 'running', 'paused', 'failed', 'cancelled', 'done')),
       requested text CHECK (requested IN ('pause', 'cancel')),
       requested_by text,
       requested_at timestamptz,
       frontier text,
       upper_bound text,
       catch_up_passes integer NOT NULL DEFAULT 0,
       cursor text,
       rows_done bigint NOT NULL DEFAULT 0,
       rows_changed bigint NOT NULL DEFAULT 0,
       rows_total bigint,
       batch_size integer NOT NULL,
       last_batch_ms integer,
       run_ms bigint NOT NULL DEFAULT 0,
       snapshot_columns text[] NOT NULL DEFAULT '{}',
       created_at timestamptz NOT NULL DEFAULT now(),
       started_at timestamptz,
       updated_at timestamptz NOT NULL DEFAULT now(),
       finished_at timestamptz,
       last_error text,
       failed_after text,
       failed_up_to text,
       verified_at timestamptz,
       verify_failures integer,
       restored_at timestamptz,
       restoring_since timestamptz,
       owner_host text,
       owner_pid integer,
       owner_since timestamptz
     )`,
    `CREATE TABLE backfill_ranges (
       id bigserial PRIMARY KEY,
       backfill text NOT NULL REFERENCES backfills (name) ON DELETE CASCADE,
       lower text,
       upper text NOT NULL,
       rows integer NOT NULL,
       status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
       attempts integer NOT NULL DEFAULT 0,
       rows_changed integer,
       batch_ms integer,
       done_by text,
       done_at timestamptz,
       last_error text,
       created_at timestamptz NOT NULL DEFAULT now()
     )`,
    `CREATE INDEX backfill_ranges_open ON backfill_ranges (backfill, id) WHERE status <> 'done'`,
    `CREATE INDEX backfill_ranges_by_backfill ON backfill_ranges (backfill, status)`,
    `CREATE TABLE backfill_runners (
       id text PRIMARY KEY,
       backfill text NOT NULL REFERENCES backfills (name) ON DELETE CASCADE,
       host text NOT NULL,
       pid integer NOT NULL,
       role text NOT NULL CHECK (role IN ('primary', 'joined')),
       started_at timestamptz NOT NULL DEFAULT now(),
       heartbeat_at timestamptz NOT NULL DEFAULT now(),
       backend_pid integer NOT NULL,
       backend_start timestamptz NOT NULL
     )`,
    `CREATE TABLE backfill_snapshots (
       backfill text NOT NULL,
       key text NOT NULL,
       old jsonb NOT NULL,
       taken_at timestamptz NOT NULL DEFAULT now(),
       restored_at timestamptz,
       PRIMARY KEY (backfill, key)
     )`,
    `CREATE INDEX backfill_snapshots_unrestored ON backfill_snapshots (backfill, key) WHERE restored_at IS NULL`,
    `CREATE TABLE backfill_invalidations (
       id bigserial PRIMARY KEY,
       backfill text NOT NULL,
       keys text[] NOT NULL DEFAULT '{}',
       patterns text[] NOT NULL DEFAULT '{}',
       created_at timestamptz NOT NULL DEFAULT now(),
       attempts integer NOT NULL DEFAULT 0,
       last_error text
     )`,
    `CREATE INDEX backfill_invalidations_by_backfill ON backfill_invalidations (backfill, id)`,
    // The oid of the table when the backfill ran: a table dropped and created again (a database reset) has another.
    `ALTER TABLE backfills ADD COLUMN table_oid oid`,
    // The _prisma_migrations row of its \`after\` migration when it ran: rolled back and applied again, it has another.
    `ALTER TABLE backfills ADD COLUMN after_migration_id text`,
    // An outbox entry a flusher is delivering, until when: claimed in one statement, never under a transaction that
    // stays open across a Redis call. A flusher that died lets its claim lapse; delivering twice is harmless (UNLINK).
    `ALTER TABLE backfill_invalidations ADD COLUMN claimed_until timestamptz`,
    // Why a runner holds the batches by itself (the database's health: replica lag), for \`status\`; null otherwise.
    `ALTER TABLE backfills ADD COLUMN throttled text`,
    // The key's columns and their types, in index order (a composite key has several). key_column and key_type keep
    // the key's name and type as text for people reading the table; these two are what the code reads.
    `ALTER TABLE backfills ADD COLUMN key_columns text[], ADD COLUMN key_types text[]`,
  ],
}

/** Fully qualified names of our tables, for statements (search_path is never relied on). */
export const T = {
  backfills: `${STATE_SCHEMA}.backfills`,
  ranges: `${STATE_SCHEMA}.backfill_ranges`,
  runners: `${STATE_SCHEMA}.backfill_runners`,
  snapshots: `${STATE_SCHEMA}.backfill_snapshots`,
  invalidations: `${STATE_SCHEMA}.backfill_invalidations`,
} as const

export const ensureBackfillState = (client: ClientBase): Promise<void> => ensureState(client, BACKFILL_STATE)

/** For read-only commands: whether our tables exist, without creating them. */
export const backfillStateExists = (client: ClientBase): Promise<boolean> => stateExists(client, BACKFILL_STATE.name)

export type BackfillStatusValue = 'pending' | 'running' | 'paused' | 'failed' | 'cancelled' | 'done'

/** One row of migrate_kit.backfills, as the code uses it. */
export interface BackfillRecord {
  name: string
  file: string | null
  checksum: string | null
  tableName: string
  /** pg_class oid of the table when it last ran (null for a backfill recorded before it was kept). */
  tableOid: number | null
  /** The id of the _prisma_migrations row of its `after` migration when it last ran (null: none, or not kept yet). */
  afterMigrationId: string | null
  /** Why a runner holds the batches by itself right now (replica lag), or null. */
  throttled: string | null
  /** The key it walks (its columns and their types, in index order). */
  key: BackfillKey
  status: BackfillStatusValue
  requested: 'pause' | 'cancel' | null
  requestedBy: string | null
  requestedAt: Date | null
  frontier: string | null
  upperBound: string | null
  catchUpPasses: number
  cursor: string | null
  rowsDone: number
  rowsChanged: number
  rowsTotal: number | null
  batchSize: number
  lastBatchMs: number | null
  runMs: number
  snapshotColumns: string[]
  createdAt: Date
  startedAt: Date | null
  updatedAt: Date
  finishedAt: Date | null
  lastError: string | null
  failedAfter: string | null
  failedUpTo: string | null
  verifiedAt: Date | null
  verifyFailures: number | null
  restoredAt: Date | null
  /** Set while a restore is unfinished: a run must not start on half-restored rows. */
  restoringSince: Date | null
  ownerHost: string | null
  ownerPid: number | null
  ownerSince: Date | null
}

interface BackfillRow {
  name: string
  file: string | null
  checksum: string | null
  table_name: string
  table_oid: number | string | null
  after_migration_id: string | null
  throttled?: string | null
  key_column: string
  key_type: string
  key_columns?: string[] | null
  key_types?: string[] | null
  status: BackfillStatusValue
  requested: 'pause' | 'cancel' | null
  requested_by: string | null
  requested_at: Date | null
  frontier: string | null
  upper_bound: string | null
  catch_up_passes: number
  cursor: string | null
  rows_done: string
  rows_changed: string
  rows_total: string | null
  batch_size: number
  last_batch_ms: number | null
  run_ms: string
  snapshot_columns: string[]
  created_at: Date
  started_at: Date | null
  updated_at: Date
  finished_at: Date | null
  last_error: string | null
  failed_after: string | null
  failed_up_to: string | null
  verified_at: Date | null
  verify_failures: number | null
  restored_at: Date | null
  restoring_since: Date | null
  owner_host: string | null
  owner_pid: number | null
  owner_since: Date | null
}

/** The key as recorded: the column lists, or (a row written before they existed) the single key column. */
function recordedKey(row: BackfillRow): BackfillKey {
  const names = row.key_columns ?? [row.key_column]
  const types = row.key_types ?? [row.key_type]
  return { columns: names.map((name, index) => ({ name, type: types[index] ?? row.key_type })) }
}

function toRecord(row: BackfillRow): BackfillRecord {
  return {
    name: row.name,
    file: row.file,
    checksum: row.checksum,
    tableName: row.table_name,
    tableOid: row.table_oid === null ? null : Number(row.table_oid),
    afterMigrationId: row.after_migration_id ?? null,
    throttled: row.throttled ?? null,
    key: recordedKey(row),
    status: row.status,
    requested: row.requested,
    requestedBy: row.requested_by,
    requestedAt: row.requested_at,
    frontier: row.frontier,
    upperBound: row.upper_bound,
    catchUpPasses: row.catch_up_passes,
    cursor: row.cursor,
    rowsDone: Number(row.rows_done),
    rowsChanged: Number(row.rows_changed),
    rowsTotal: row.rows_total === null ? null : Number(row.rows_total),
    batchSize: row.batch_size,
    lastBatchMs: row.last_batch_ms,
    runMs: Number(row.run_ms),
    snapshotColumns: row.snapshot_columns,
    createdAt: row.created_at,
    startedAt: row.started_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
    lastError: row.last_error,
    failedAfter: row.failed_after,
    failedUpTo: row.failed_up_to,
    verifiedAt: row.verified_at,
    verifyFailures: row.verify_failures,
    restoredAt: row.restored_at,
    restoringSince: row.restoring_since,
    ownerHost: row.owner_host,
    ownerPid: row.owner_pid,
    ownerSince: row.owner_since,
  }
}

export async function readBackfillRecord(
  client: ClientBase,
  name: string,
  options: { forUpdate?: boolean } = {},
): Promise<BackfillRecord | undefined> {
  const { rows } = await client.query<BackfillRow>(
    `SELECT * FROM ${T.backfills} WHERE name = $1${options.forUpdate ? ' FOR UPDATE' : ''}`,
    [name],
  )
  return rows[0] ? toRecord(rows[0]) : undefined
}

export async function readAllBackfillRecords(client: ClientBase): Promise<BackfillRecord[]> {
  const { rows } = await client.query<BackfillRow>(`SELECT * FROM ${T.backfills} ORDER BY name`)
  return rows.map(toRecord)
}

/** Runs fn in one transaction on client: every write the toolkit makes commits whole or leaves nothing. */
export async function inTransaction<T>(client: ClientBase, fn: () => Promise<T>, begin = 'BEGIN'): Promise<T> {
  await client.query(begin)
  try {
    const result = await fn()
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  }
}
