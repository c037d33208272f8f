import { performance } from 'node:perf_hooks'
import type { Client, ClientBase } from 'pg'
import { connect } from '../db/connect'
import { createScratchDatabase, type ScratchDatabase } from '../db/scratch'
import { errorMessage, UsageError } from '../errors'
import { InProcessSchemaEngine, SchemaEngineCallError } from '../prisma/engine/in-process'
import { findMigration, listMigrations, type MigrationOnDisk } from '../prisma/migrations'
import type { Project } from '../project'
import type { AcceptedFailures } from './accepted'
import { MissingRollbacksError, RollbackSqlError } from './errors'
import { hasRollback, relativePath, rollbackFile } from './files'
import { rollbackMigrations } from './rollback'
import { diffSchemas, type SchemaDifference } from './schema-diff'
import { captureSchema, type SchemaSnapshot } from './snapshot'

/** Where a round trip went wrong: Prisma applying it, the rollback, or Prisma applying it again. */
export type RoundTripStage = 'apply' | 'rollback' | 'reapply'

/**
 * One migration's verdict. `skipped`: applied on the way but outside --from/--only; `not_executed`: never reached
 * (the run was interrupted, or a migration before it does not apply, so nothing after it can be built).
 */
export type RoundTripStatus = 'ok' | 'differs' | 'error' | 'not_executed' | 'skipped'

export interface RoundTripResult {
  migration: string
  rollbackFile: string
  status: RoundTripStatus
  stage?: RoundTripStage
  /** For `differs`: what the schema after the stage has that the reference has not, or the other way round. */
  differences: SchemaDifference[]
  error?: { message: string; file?: string; line?: number; column?: number; code?: string }
  /** A failure listed in rollbacks/accepted-failures.json: reported, and it does not fail the run. */
  accepted?: { reason: string }
  /** For `not_executed`: why. */
  note?: string
  seconds?: number
}

export interface VerifyRollbacksReport {
  ok: boolean
  /** The first scratch database used (after a failure the run goes on in a fresh one); all are dropped by now. */
  database: string
  /** Every scratch database the run made, in order. */
  databases: string[]
  results: RoundTripResult[]
  /** Accepted failures that passed this time: the file must lose them (the run fails until it does). */
  acceptedNowPassing: string[]
  /** Stopped by Ctrl-C / SIGTERM before the end. */
  interrupted: boolean
}

export interface VerifyRollbacksOptions {
  /** The server the scratch databases are made on, with its credentials (DATABASE_URL, or --scratch-url). */
  databaseUrl: string
  /** Verify this migration and every later one; the ones before it are only applied. */
  from?: string
  /** Verify only these; the others before them are only applied. */
  only?: string[]
  /** Known failures; default: none. */
  accepted?: AcceptedFailures
  /** Stops after the step under way; the scratch database is dropped either way. */
  signal?: AbortSignal
  /** Before the first round trip: `drop` removes whichever scratch database is in use (a second Ctrl-C's cleanup). */
  onStart?(scratch: Pick<ScratchDatabase, 'name' | 'drop'>, migrations: number): void
  /** A round trip begins (its migration's earlier ones are applied first). */
  onStarting?(migration: string): void
  onResult?(result: RoundTripResult, index: number): void
}

/**
 * The proof that every rollback works: on a scratch database, migration by migration and in order, Prisma applies
 * it, its rollback.sql runs through `rollback` itself (the same plan, transaction and bookkeeping as production), the
 * schema must then equal the schema before the migration, and Prisma must apply it again to the same schema as the
 * first time (which also proves Prisma took the bookkeeping as "not applied"). A failure does not end the run: a
 * fresh scratch database is built up to and including the failed migration, and the next one is verified.
 */
export async function verifyRollbacks(project: Project, options: VerifyRollbacksOptions): Promise<VerifyRollbacksReport> {
  const history = listMigrations(project)
  const selected = selection(history, options)
  if ((options.from !== undefined || (options.only?.length ?? 0) > 0) && !selected.includes(true)) {
    // "0 rollbacks verified" would read as a pass.
    throw new UsageError('--from and --only together select no migration: nothing would be verified', {
      hint: 'Name migrations in --only that come at or after --from, or drop one of the two.',
    })
  }
  const missing = history
    .filter((migration, index) => selected[index] && !hasRollback(project, migration.name))
    .map((migration) => migration.name)
  if (missing.length > 0) throw new MissingRollbacksError(missing)
  const results: RoundTripResult[] = history.map((migration, index) => ({
    migration: migration.name,
    rollbackFile: relativePath(project, rollbackFile(project, migration.name)),
    status: selected[index] ? 'not_executed' : 'skipped',
    differences: [],
  }))
  const scratch = await ScratchHistory.open(project, options.databaseUrl)
  const firstDatabase = scratch.name
  let interrupted = false
  const stopAt = (index: number, note: string) => {
    for (const result of results.slice(index)) if (result.status === 'not_executed') result.note = note
  }
  try {
    options.onStart?.({ name: scratch.name, drop: () => scratch.dispose() }, selected.filter(Boolean).length)
    for (const [index, migration] of history.entries()) {
      if (!selected[index]) continue
      if (options.signal?.aborted) {
        interrupted = true
        break
      }
      options.onStarting?.(migration.name)
      const started = performance.now()
      const notBuilt = await scratch.applyBefore(history, index)
      if (notBuilt) {
        stopAt(index, `the migrations before it do not apply: ${notBuilt}`)
        break
      }
      const result = await roundTrip(scratch, migration, history)
      results[index] = { ...result, seconds: (performance.now() - started) / 1000 }
      options.onResult?.(results[index], index)
      if (result.status === 'ok') continue
      if (result.stage === 'apply') {
        stopAt(index + 1, `${migration.name} does not apply, so nothing after it can be built`)
        break
      }
      // The failed round trip left the scratch database somewhere between two versions: start again from empty.
      const notRebuilt = await scratch.rebuild(history, index)
      if (notRebuilt) {
        stopAt(index + 1, `the scratch database could not be built again up to ${migration.name}: ${notRebuilt}`)
        break
      }
    }
    interrupted ||= options.signal?.aborted ?? false
  } finally {
    await scratch.dispose()
  }
  const acceptedNowPassing = judgeAccepted(results, options.accepted)
  const passed = (result: RoundTripResult) => result.status === 'ok' || result.status === 'skipped' || result.accepted !== undefined
  return {
    ok: !interrupted && results.every(passed) && acceptedNowPassing.length === 0,
    database: firstDatabase,
    databases: scratch.made,
    results,
    acceptedNowPassing,
    interrupted,
  }
}

/** Which migrations this run verifies (--from, --only; both: the ones in --only from --from on). */
function selection(history: MigrationOnDisk[], options: Pick<VerifyRollbacksOptions, 'from' | 'only'>): boolean[] {
  const from = options.from === undefined ? 0 : history.indexOf(findMigration(history, options.from))
  const only =
    options.only && options.only.length > 0 ? new Set(options.only.map((reference) => findMigration(history, reference).name)) : undefined
  return history.map((migration, index) => index >= from && (only === undefined || only.has(migration.name)))
}

/** Marks the failures the file accepts; returns the accepted ones that passed. Migrations not verified are not judged. */
function judgeAccepted(results: RoundTripResult[], accepted: AcceptedFailures | undefined): string[] {
  const nowPassing: string[] = []
  if (!accepted) return nowPassing
  for (const result of results) {
    const entry = accepted.byMigration.get(result.migration)
    if (!entry) continue
    if (result.status === 'ok') nowPassing.push(result.migration)
    else if (result.status === 'differs' || result.status === 'error') result.accepted = { reason: entry.reason }
  }
  return nowPassing
}

/**
 * The scratch database, the part of the history deployed to it (the first `staged` migrations), and Prisma's schema
 * engine working on it. A rebuild replaces the database with a fresh one.
 */
class ScratchHistory {
  /** The migrations Prisma is given on each deploy: the history up to the one under test. */
  private readonly staged: MigrationOnDisk[] = []
  /** See remember(). */
  private snapshot: { staged: number; database: string; snapshot: SchemaSnapshot } | undefined
  /** Every scratch database made, for the report. */
  readonly made: string[] = []

  private constructor(
    readonly project: Project,
    private readonly serverUrl: string,
    private scratch: ScratchDatabase,
    private connection: Client,
    private engine: InProcessSchemaEngine,
  ) {
    this.made.push(scratch.name)
  }

  static async open(project: Project, serverUrl: string): Promise<ScratchHistory> {
    const parts = await ScratchHistory.fresh(project, serverUrl)
    return new ScratchHistory(project, serverUrl, parts.scratch, parts.connection, parts.engine)
  }

  /** An empty scratch database, its connection, and Prisma's engine on it. */
  private static async fresh(project: Project, serverUrl: string) {
    const scratch = await createScratchDatabase(serverUrl)
    let connection: Client | undefined
    try {
      connection = await connect(scratch.url, { applicationName: 'migrate-kit verify-rollbacks' })
      const engine = await InProcessSchemaEngine.open(project, { databaseUrl: scratch.url })
      return { scratch, connection, engine }
    } catch (error) {
      await connection?.end().catch(() => undefined)
      await scratch.drop()
      throw error
    }
  }

  get name(): string {
    return this.scratch.name
  }

  get client(): ClientBase {
    return this.connection
  }

  /** Stages one more migration (the next deploy applies it). */
  stage(migration: MigrationOnDisk): void {
    this.staged.push(migration)
  }

  /**
   * The schema a round trip that passed left behind, taken as the next one's "before" while nothing was applied
   * since: one catalog read less per migration, and those reads grow with the schema.
   */
  remember(snapshot: SchemaSnapshot): void {
    this.snapshot = { staged: this.staged.length, database: this.scratch.name, snapshot }
  }

  currentSnapshot(): SchemaSnapshot | undefined {
    const known = this.snapshot
    return known && known.staged === this.staged.length && known.database === this.scratch.name ? known.snapshot : undefined
  }

  /** Brings the database to just before history[index]; the error text, or undefined. */
  async applyBefore(history: MigrationOnDisk[], index: number): Promise<string | undefined> {
    if (this.staged.length >= index) return undefined
    const pending = history.slice(this.staged.length, index)
    for (const migration of pending) this.stage(migration)
    return this.deploy(pending.map((migration) => migration.name))
  }

  /** A fresh scratch database with history[0..index] applied; the error text, or undefined. */
  async rebuild(history: MigrationOnDisk[], index: number): Promise<string | undefined> {
    await this.dispose()
    const parts = await ScratchHistory.fresh(this.project, this.serverUrl)
    ;({ scratch: this.scratch, connection: this.connection, engine: this.engine } = parts)
    this.made.push(this.scratch.name)
    this.staged.length = 0
    return this.applyBefore(history, index + 1)
  }

  /**
   * What `prisma migrate deploy` of the staged migrations does: Prisma's engine compares them with _prisma_migrations
   * and applies the ones not recorded as applied, which must be `expected` exactly (a deploy that applies nothing
   * while it should would make every later check compare a schema with itself). The error text, or undefined.
   */
  async deploy(expected: string[]): Promise<string | undefined> {
    try {
      const applied = await this.engine.applyMigrations(this.staged)
      if (applied.join('\n') === expected.join('\n')) return undefined
      return `Prisma's migrate deploy applied ${applied.join(', ') || 'nothing'} where ${expected.join(', ')} was pending`
    } catch (error) {
      if (!(error instanceof SchemaEngineCallError)) throw error
      return `Prisma's migrate deploy failed${error.code ? ` (${error.code})` : ''}:\n${error.message.split('\n').slice(0, 15).join('\n')}`
    }
  }

  /** Closes the connections and drops the database in use; safe to call again. */
  async dispose(): Promise<void> {
    await this.connection.end().catch(() => undefined)
    await this.scratch.drop()
  }
}

async function roundTrip(trip: ScratchHistory, migration: MigrationOnDisk, history: MigrationOnDisk[]): Promise<RoundTripResult> {
  const project = trip.project
  const base = { migration: migration.name, rollbackFile: relativePath(project, rollbackFile(project, migration.name)), differences: [] }
  const fail = (stage: RoundTripStage, error: RoundTripResult['error']): RoundTripResult => ({ ...base, status: 'error', stage, error })
  const before = trip.currentSnapshot() ?? (await captureSchema(trip.client))
  trip.stage(migration)

  const applyError = await trip.deploy([migration.name])
  if (applyError) return fail('apply', { message: applyError })
  const applied = await captureSchema(trip.client)

  try {
    const run = await rollbackMigrations(trip.client, project, { migration: migration.name, history })
    if (run.error) {
      const report = run.error instanceof RollbackSqlError ? run.error.report : undefined
      return fail('rollback', {
        message: report ? report.text : run.error.message,
        ...(report ? { file: report.file, line: report.line, column: report.column, code: report.code } : {}),
      })
    }
  } catch (error) {
    return fail('rollback', { message: errorMessage(error), file: base.rollbackFile })
  }
  const rolledBack = await captureSchema(trip.client)
  const undone = diffSchemas(rolledBack, before, { actual: 'after rollback', expected: 'before' })
  if (undone.length > 0) return { ...base, status: 'differs', stage: 'rollback', differences: undone }

  const reapplyError = await trip.deploy([migration.name])
  if (reapplyError) return fail('reapply', { message: reapplyError })
  const reapplied = await captureSchema(trip.client)
  const redone = diffSchemas(reapplied, applied, { actual: 'after re-applying', expected: 'after the first apply' })
  if (redone.length > 0) return { ...base, status: 'differs', stage: 'reapply', differences: redone }
  trip.remember(reapplied)
  return { ...base, status: 'ok' }
}
