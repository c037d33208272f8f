import { performance } from 'node:perf_hooks'
import type { ClientBase } from 'pg'
import { connect } from '../db/connect'
import { errorMessage } from '../errors'
import { runPrisma } from '../prisma/cli'
import { listMigrations, type MigrationOnDisk } from '../prisma/migrations'
import type { Project } from '../project'
import { DEPLOY_URL_VARIABLE, writeDeployConfig } from './deploy-config'
import { MissingRollbacksError, RollbackSqlError } from './errors'
import { hasRollback, relativePath, rollbackFile } from './files'
import { rollbackMigrations } from './rollback'
import { createScratchDatabase, type ScratchDatabase } from '../db/scratch'
import { diffSchemas, type SchemaDifference } from './schema-diff'
import { captureSchema } from './snapshot'
import { stageMigrations, type StagedMigrations } from './staging'

/** Where a round trip went wrong: Prisma applying it, the rollback, or Prisma applying it again. */
export type RoundTripStage = 'apply' | 'rollback' | 'reapply'

/** One migration's round trip, Kysely-style: after the first failure the rest are `not_executed`. */
export interface RoundTripResult {
  migration: string
  rollbackFile: string
  status: 'ok' | 'differs' | 'error' | 'not_executed'
  stage?: RoundTripStage
  /** For `differs`: what the schema after the stage has that the reference has not, or the other way round. */
  differences: SchemaDifference[]
  error?: { message: string; file?: string; line?: number; column?: number; code?: string }
  seconds?: number
}

export interface VerifyRollbacksReport {
  ok: boolean
  /** The scratch database used (dropped by now). */
  database: string
  results: RoundTripResult[]
  /** Stopped by Ctrl-C / SIGTERM before the end. */
  interrupted: boolean
}

export interface VerifyRollbacksOptions {
  /** DATABASE_URL: the scratch database is made on its server, with its credentials. */
  databaseUrl: string
  /** Stops after the step under way; the scratch database is dropped either way. */
  signal?: AbortSignal
  /** The scratch database is made: `drop` lets a caller's own cleanup (a second Ctrl-C) remove it too. */
  onStart?(scratch: Pick<ScratchDatabase, 'name' | 'drop'>, migrations: number): void
  onResult?(result: RoundTripResult, index: number): void
}

/**
 * The proof that every rollback works: on a scratch database, migration by migration and in order, Prisma applies
 * it, its rollback.sql runs through `rollback` itself (the same plan, transaction and bookkeeping as production), the
 * schema must then equal the schema before the migration, and Prisma must apply it again to the same schema as the
 * first time (which also proves Prisma took the bookkeeping as "not applied").
 */
export async function verifyRollbacks(project: Project, options: VerifyRollbacksOptions): Promise<VerifyRollbacksReport> {
  const history = listMigrations(project)
  const missing = history.filter((migration) => !hasRollback(project, migration.name)).map((migration) => migration.name)
  if (missing.length > 0) throw new MissingRollbacksError(missing)
  const results: RoundTripResult[] = history.map((migration) => ({
    migration: migration.name,
    rollbackFile: relativePath(project, rollbackFile(project, migration.name)),
    status: 'not_executed',
    differences: [],
  }))
  const scratch = await createScratchDatabase(options.databaseUrl)
  let interrupted = false
  const staged = stageMigrations(project, [], 'verify')
  try {
    options.onStart?.(scratch, history.length)
    const config = writeDeployConfig(project, staged.dir, staged.root)
    const client = await connect(scratch.url, { applicationName: 'migrate-kit verify-rollbacks' })
    try {
      const trip: RoundTrip = { project, client, staged, config, url: scratch.url }
      for (const [index, migration] of history.entries()) {
        if (options.signal?.aborted) {
          interrupted = true
          break
        }
        const started = performance.now()
        results[index] = { ...(await roundTrip(trip, migration)), seconds: (performance.now() - started) / 1000 }
        options.onResult?.(results[index]!, index)
        if (results[index]!.status !== 'ok') break
      }
      interrupted ||= options.signal?.aborted ?? false
    } finally {
      await client.end().catch(() => undefined)
    }
  } finally {
    staged.remove()
    await scratch.drop()
  }
  return { ok: !interrupted && results.every((result) => result.status === 'ok'), database: scratch.name, results, interrupted }
}

interface RoundTrip {
  project: Project
  client: ClientBase
  staged: StagedMigrations
  config: string
  url: string
}

async function roundTrip(trip: RoundTrip, migration: MigrationOnDisk): Promise<RoundTripResult> {
  const base = { migration: migration.name, rollbackFile: relativePath(trip.project, rollbackFile(trip.project, migration.name)), differences: [] }
  const fail = (stage: RoundTripStage, error: RoundTripResult['error']): RoundTripResult => ({ ...base, status: 'error', stage, error })
  const before = await captureSchema(trip.client)
  trip.staged.add(migration)

  const applyError = await deploy(trip)
  if (applyError) return fail('apply', { message: applyError })
  const applied = await captureSchema(trip.client)

  try {
    const run = await rollbackMigrations(trip.client, trip.project, { migration: migration.name })
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

  const reapplyError = await deploy(trip)
  if (reapplyError) return fail('reapply', { message: reapplyError })
  const reapplied = await captureSchema(trip.client)
  const redone = diffSchemas(reapplied, applied, { actual: 'after re-applying', expected: 'after the first apply' })
  if (redone.length > 0) return { ...base, status: 'differs', stage: 'reapply', differences: redone }
  return { ...base, status: 'ok' }
}

/** `prisma migrate deploy` of the staged folder; the error text, or undefined when Prisma succeeded. */
async function deploy(trip: RoundTrip): Promise<string | undefined> {
  const result = await runPrisma(trip.project, ['migrate', 'deploy', '--config', trip.config], {
    databaseUrl: trip.url,
    env: { [DEPLOY_URL_VARIABLE]: trip.url },
  })
  if (result.code === 0) return undefined
  const output = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-15).join('\n')
  return `prisma migrate deploy failed (exit ${result.code}):\n${output}`
}
