import type { ClientBase } from 'pg'
import { pendingInvalidations } from './invalidation'
import { keyColumnsOf } from './definition'
import { displayKey, keyName, keyNameOf } from './key'
import { describeRange, ledgerTotals, lowWaterCursor } from './ledger'
import { liveRunners, type RunnerInfo } from './lock'
import { resetSince } from './reset'
import { readMigrationRecords, type MigrationRecord } from '../prisma/migrations'
import type { LoadedBackfill } from './loader'
import { T, backfillStateExists, readAllBackfillRecords, readBackfillRecord, type BackfillRecord, type BackfillStatusValue } from './state'
import { runVerify, type VerifyResult } from './verify'

/** What `backfill status` shows and `--json` prints. The first seven fields are the documented contract. */
export interface BackfillStatus {
  name: string
  status: BackfillStatusValue
  rowsDone: number
  rowsTotal: number | null
  batchSize: number | null
  /** Every key up to the cursor is done (text form of the key). */
  cursor: string | null
  lastError: string | null
  /** The cursor as messages show it: `42`, or `(37, 4)` for a composite key. */
  cursorShown: string | null
  /** The key range of the row that failed, when a row failed (ledger text: a composite key is a JSON array). */
  failedRange: { after: string | null; upTo: string } | null
  /** That range as messages show it: `(41, 42]`, `((7, 'a'), (7, 'b')]`. */
  failedKeys: string | null
  rowsChanged: number
  /** backfills/<file>, or null for a backfill known only to the database (its file was removed). */
  file: string | null
  table: string | null
  /** The key as messages name it: `id`, `(order_id, line_no)`. */
  key: string | null
  /** Its columns in index order (null: not known yet, the definition names none and it never ran). */
  keyColumns: string[] | null
  /** The state row says running but no runner is connected: it was killed or lost its connection. */
  interrupted: boolean
  runners: RunnerInfo[]
  /** Runners whose session is open but whose heartbeat is older than STALE_HEARTBEAT_MS (lock.ts). */
  staleRunners: number
  /** Why its runner holds the batches by itself now (replica lag over --max-replica-lag), or null. */
  throttled: string | null
  requested: 'pause' | 'cancel' | null
  startedAt: string | null
  updatedAt: string | null
  finishedAt: string | null
  verifiedAt: string | null
  pendingInvalidations: number
  snapshotRows: number
  /** Roughly what the snapshot takes on disk (its share of the snapshot table with its indexes), in bytes. */
  snapshotBytes: number
  /** The database knows the backfill but no file defines it any more: `backfill forget` removes it. */
  orphaned: boolean
  /** Why the rows it did are gone (its table dropped and created again, or emptied): it is pending again. */
  reset: string | null
}

/** The key a definition names, before any run resolved it. */
function definedKey(loaded: LoadedBackfill): { key: string | null; keyColumns: string[] | null } {
  const columns = keyColumnsOf(loaded.definition) ?? null
  return { key: columns && keyNameOf(columns), keyColumns: columns }
}

function neverRun(loaded: LoadedBackfill): BackfillStatus {
  return {
    name: loaded.name,
    status: 'pending',
    rowsDone: 0,
    rowsTotal: null,
    batchSize: null,
    cursor: null,
    lastError: null,
    cursorShown: null,
    failedRange: null,
    failedKeys: null,
    rowsChanged: 0,
    file: loaded.relativeFile,
    table: loaded.definition.table,
    ...definedKey(loaded),
    interrupted: false,
    runners: [],
    staleRunners: 0,
    throttled: null,
    requested: null,
    startedAt: null,
    updatedAt: null,
    finishedAt: null,
    verifiedAt: null,
    pendingInvalidations: 0,
    snapshotRows: 0,
    snapshotBytes: 0,
    orphaned: false,
    reset: null,
  }
}

/**
 * The status as it really is: the ledger for progress (exact even right after kill -9), live sessions for whether it
 * runs. A row left at "running" by a runner that died is shown as paused (interrupted): `run` picks it up.
 */
async function statusOf(
  client: ClientBase,
  record: BackfillRecord,
  loaded: LoadedBackfill | undefined,
  migrations?: () => Promise<MigrationRecord[]>,
): Promise<BackfillStatus> {
  const runners = await liveRunners(client, record.name)
  const totals = await ledgerTotals(client, record.name)
  const cursor = await lowWaterCursor(client, record.name, record.key)
  const failedRange = record.failedUpTo === null ? null : { after: record.failedAfter, upTo: record.failedUpTo }
  const interrupted = record.status === 'running' && runners.length === 0
  const snapshot = await snapshotSize(client, record.name)
  // A runner at work has its table; a reset is looked for only when none is.
  const reset = runners.length === 0 ? ((await resetSince(client, record, loaded?.after, migrations)) ?? null) : null
  return {
    name: record.name,
    status: reset ? 'pending' : interrupted ? 'paused' : record.status,
    rowsDone: totals.rowsDone,
    rowsTotal: record.rowsTotal === null ? null : Math.max(record.rowsTotal, totals.rowsDone),
    batchSize: record.batchSize,
    cursor,
    lastError: record.lastError,
    cursorShown: cursor && displayKey(record.key, cursor),
    failedRange,
    failedKeys: failedRange && describeRange(record.key, failedRange),
    rowsChanged: totals.rowsChanged,
    file: loaded?.relativeFile ?? record.file,
    table: record.tableName,
    key: keyName(record.key),
    keyColumns: record.key.columns.map((column) => column.name),
    interrupted,
    runners,
    staleRunners: runners.filter((runner) => runner.stale).length,
    throttled: runners.length > 0 ? record.throttled : null,
    requested: record.requested,
    startedAt: record.startedAt?.toISOString() ?? null,
    updatedAt: record.updatedAt.toISOString(),
    finishedAt: record.finishedAt?.toISOString() ?? null,
    verifiedAt: record.verifiedAt?.toISOString() ?? null,
    pendingInvalidations: await pendingInvalidations(client, record.name),
    snapshotRows: snapshot.rows,
    snapshotBytes: snapshot.bytes,
    orphaned: loaded === undefined,
    reset,
  }
}

/** The backfill's snapshot rows, and their share of the snapshot table's size on disk (indexes and dead rows in it). */
async function snapshotSize(client: ClientBase, name: string): Promise<{ rows: number; bytes: number }> {
  const { rows } = await client.query<{ mine: number }>(`SELECT count(*)::int AS mine FROM ${T.snapshots} WHERE backfill = $1`, [name])
  const mine = rows[0]?.mine ?? 0
  if (mine === 0) return { rows: 0, bytes: 0 }
  const table = await client.query<{ total: number; bytes: string }>(
    `SELECT count(*)::int AS total, pg_total_relation_size('${T.snapshots}')::text AS bytes FROM ${T.snapshots}`,
  )
  const all = Math.max(table.rows[0]?.total ?? mine, mine)
  return { rows: mine, bytes: Math.round((Number(table.rows[0]?.bytes ?? 0) * mine) / all) }
}

/**
 * Every backfill of the project's files and every one the database knows, by name. Read-only: without the
 * migrate_kit tables, files are pending and nothing is created.
 */
export async function readBackfillStatuses(client: ClientBase, loaded: LoadedBackfill[]): Promise<BackfillStatus[]> {
  const byName = new Map(loaded.map((backfill) => [backfill.name, backfill]))
  const records = (await backfillStateExists(client)) ? await readAllBackfillRecords(client) : []
  const statuses: BackfillStatus[] = []
  // Prisma's history is read once for all of them (for the ones whose `after` migration may be rolled back), if at all.
  let history: Promise<MigrationRecord[]> | undefined
  const migrations = () => (history ??= readMigrationRecords(client))
  // One after the other: a pg client runs one query at a time.
  for (const record of records) statuses.push(await statusOf(client, record, byName.get(record.name), migrations))
  const known = new Set(records.map((record) => record.name))
  for (const backfill of loaded) if (!known.has(backfill.name)) statuses.push(neverRun(backfill))
  return statuses.sort((a, b) => a.name.localeCompare(b.name))
}

/** One backfill's status, or undefined when neither a file nor the database knows it. */
export async function readBackfillStatus(
  client: ClientBase,
  name: string,
  loaded: LoadedBackfill | undefined,
): Promise<BackfillStatus | undefined> {
  const record = (await backfillStateExists(client)) ? await readBackfillRecord(client, name) : undefined
  if (record) return statusOf(client, record, loaded)
  return loaded ? neverRun(loaded) : undefined
}

export interface BackfillReadiness {
  name: string
  status: BackfillStatusValue
  /** Every range done and the run finished. */
  done: boolean
  /** The verify query, run now, returned no row; null when the definition has none. */
  verified: boolean | null
  verify: VerifyResult | null
  /** done && verified !== false: what the deploy gate waits for before a contract migration. */
  ready: boolean
  /** Done once, but its table was reset since (BackfillStatus.reset): pending again. */
  reset: string | null
}

/**
 * For the deploy gate: is this backfill done, and does its verify query agree right now? Read-only; runs nothing
 * but the verify query (in a READ ONLY transaction), and only once the backfill is done.
 */
export async function backfillReadiness(client: ClientBase, loaded: LoadedBackfill): Promise<BackfillReadiness> {
  const status = await readBackfillStatus(client, loaded.name, loaded)
  const done = status?.status === 'done'
  const verify = done ? ((await runVerify(client, loaded.definition)) ?? null) : null
  const verified = loaded.definition.verify ? (verify ? verify.failures === 0 : false) : null
  return {
    name: loaded.name,
    status: status?.status ?? 'pending',
    done,
    verified,
    verify,
    ready: done && verified !== false,
    reset: status?.reset ?? null,
  }
}
