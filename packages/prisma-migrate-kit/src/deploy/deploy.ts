import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import type { ClientBase } from 'pg'
import { loadAllBackfills, type LoadedBackfill } from '../backfill/loader'
import { runBackfill } from '../backfill/runner'
import type { RunEvent } from '../backfill/run-types'
import { loadCheckFiles } from '../checks/check-files'
import { runIntegrityChecks, type CheckResult } from '../checks/integrity'
import { withConnection } from '../db/connect'
import { listMigrations } from '../prisma/migrations'
import { relativePath, type Project } from '../project'
import { withDeployLock } from './lock'
import {
  backfillCommand,
  buildPlan,
  DEPLOY_COMMAND,
  type BackfillStep,
  type ChecksStep,
  type DeployPlan,
  type DeployStep,
  type GateStep,
  type MigrateStep,
  type PlanOptions,
} from './plan'
import { plural } from '../text'
import type { RunTuning } from '../backfill/options'
import { describeBlockingSession } from '../db/locks'
import { sleep } from '../backfill/retry'
import { deploySetting, lockRetryDelayMs, type DeployTuning } from './options'
import { prismaDeployUpTo, prismaResolveRolledBack, type PrismaDeployResult } from './prisma-step'
import { describeWait, readWaits, type Wait } from './readiness'
import { assertDeployable } from './refusals'
import { readDeployState, type DeployState } from './state'

export type StepStatus = 'done' | 'skipped' | 'blocked' | 'failed' | 'not_executed'

/** What one step did, Kysely-style: partial progress is never hidden inside an exception. */
export interface StepResult {
  status: StepStatus
  seconds: number
  /** One line for people: what was done, or why not. */
  detail: string
  /** migrate: the migrations applied by this step. */
  applied?: string[]
  /** gate: the readiness read when the run got there. */
  waits?: Wait[]
  /** checks: each check's result. */
  checks?: CheckResult[]
}

export type DeployOutcome = 'done' | 'blocked' | 'failed' | 'interrupted'

export interface DeployRun {
  plan: DeployPlan
  results: StepResult[]
  outcome: DeployOutcome
  /** What happened, in one sentence (for stderr). */
  message: string
  /** The commands to run next, in order. */
  next: string[]
}

export interface DeployOptions extends PlanOptions, DeployTuning {
  databaseUrl: string
  /** Stops before the next step (an inline backfill stops after its batches in flight, paused). */
  signal?: AbortSignal
  redisUrl?: string
  /** The settings of the backfills deploy runs (--run-backfills); defaults from backfill/options.ts. */
  backfillSettings?: RunTuning
  onStepStart?(step: DeployStep, index: number): void
  onStepDone?(step: DeployStep, result: StepResult, index: number): void
  onBackfillEvent?(backfill: string, event: RunEvent): void
  /** Something an operator should read while the deploy goes on (a lock wait, a retry). */
  onNotice?(message: string): void
}

/** The plan from the database as it is: read-only, no lock. What `plan` and `deploy --dry-run` print. */
export async function planDeploy(project: Project, options: PlanOptions & { databaseUrl: string }): Promise<DeployPlan> {
  const loaded = await loadAllBackfills(project)
  return withConnection(options.databaseUrl, async (client) => (await prepare(project, client, loaded, options)).plan, {
    applicationName: 'migrate-kit plan',
  })
}

/**
 * Applies pending migrations with the real `prisma migrate deploy`, up to the first migration whose backfills are not
 * done and verified (or up to `until`), then runs the integrity checks. Holds the deploy lock throughout; refuses
 * before anything runs when the database or the files are not what a deploy can safely continue from.
 */
export async function deploy(project: Project, options: DeployOptions): Promise<DeployRun> {
  const loaded = await loadAllBackfills(project)
  return withDeployLock(options.databaseUrl, async (client) => {
    const { plan } = await prepare(project, client, loaded, options)
    return executePlan(project, client, plan, loaded, options)
  })
}

async function prepare(
  project: Project,
  client: ClientBase,
  loaded: LoadedBackfill[],
  options: PlanOptions,
): Promise<{ state: DeployState; plan: DeployPlan }> {
  const state = await readDeployState(client, project, loaded)
  const untilEntry = assertDeployable(project, state.history, options.until)
  const checks = (await loadCheckFiles(project)).map((check) => check.file)
  return { state, plan: buildPlan(state, checks, options, untilEntry) }
}

interface Execution {
  project: Project
  client: ClientBase
  plan: DeployPlan
  backfills: Map<string, LoadedBackfill>
  options: DeployOptions
}

/** Executes the plan's steps in order; the first one that does not end `done` or `skipped` stops the run. */
async function executePlan(
  project: Project,
  client: ClientBase,
  plan: DeployPlan,
  loaded: LoadedBackfill[],
  options: DeployOptions,
): Promise<DeployRun> {
  const run: Execution = { project, client, plan, backfills: new Map(loaded.map((backfill) => [backfill.name, backfill])), options }
  const results: StepResult[] = plan.steps.map(() => ({ status: 'not_executed', seconds: 0, detail: 'not executed' }))
  for (const [index, step] of plan.steps.entries()) {
    if (options.signal?.aborted) {
      return finish(plan, results, 'interrupted', 'interrupted before the next step; what ran is kept', [DEPLOY_COMMAND])
    }
    options.onStepStart?.(step, index)
    const started = performance.now()
    const outcome = await executeStep(run, step)
    results[index] = { ...outcome.result, seconds: (performance.now() - started) / 1000 }
    options.onStepDone?.(step, results[index], index)
    if (outcome.stop) return finish(plan, results, outcome.stop.outcome, outcome.stop.message, outcome.stop.next)
  }
  const applied = plan.migrations.length
  const message =
    plan.later.length > 0
      ? `applied ${plural(applied, 'migration')} up to ${plan.until}; ${plural(plan.later.length, 'migration')} left for later`
      : applied > 0
        ? `applied ${plural(applied, 'migration')}; every migration is applied and the integrity checks pass`
        : 'nothing to apply: every migration is applied, and the integrity checks pass'
  return finish(plan, results, 'done', message, plan.later.length > 0 ? [DEPLOY_COMMAND] : [])
}

function finish(plan: DeployPlan, results: StepResult[], outcome: DeployOutcome, message: string, next: string[]): DeployRun {
  return { plan, results, outcome, message, next }
}

interface StepOutcome {
  result: Omit<StepResult, 'seconds'>
  stop?: { outcome: DeployOutcome; message: string; next: string[] }
}

function executeStep(run: Execution, step: DeployStep): Promise<StepOutcome> {
  switch (step.kind) {
    case 'migrate':
      return migrate(run, step)
    case 'backfill':
      return backfill(run, step)
    case 'gate':
      return gate(run, step)
    case 'checks':
      return checks(run, step)
  }
}

/** Prisma's P3005: a database with tables and no _prisma_migrations; running deploy again fails the same way. */
const HAS_SCHEMA_BUT_NO_HISTORY = /\bP3005\b/

/** A migration that controls its own transactions may have committed part of itself before a lock wait failed. */
const TRANSACTION_CONTROL = /^\s*(BEGIN|COMMIT|END|ROLLBACK|START\s+TRANSACTION)\b/im
/** A migration that sets its own lock_timeout: it, not --lock-timeout, bounds its waits after that line. */
const OWN_LOCK_TIMEOUT = /\bSET\s+(LOCAL\s+)?lock_timeout\b/i

/**
 * Applies the step's migrations with Prisma, each statement waiting at most --lock-timeout for a lock. A migration
 * that gave up on a lock (an app transaction held the table) left nothing behind, its one transaction rolled back:
 * it is marked rolled back and tried again after a backoff, up to --lock-retries times, as strong_migrations does,
 * instead of queueing every query of the table behind it. The session it waited for is named each time.
 */
async function migrate(run: Execution, step: MigrateStep): Promise<StepOutcome> {
  const names = step.migrations.map((migration) => migration.name)
  const history = listMigrations(run.project)
  const lockTimeoutMs = deploySetting(run.options, 'lockTimeoutMs')
  const retries = deploySetting(run.options, 'lockRetries')
  for (let attempt = 1; ; attempt++) {
    const result = await prismaDeployUpTo(run.project, run.client, run.options.databaseUrl, history, names, {
      lockTimeoutMs,
      onNotice: (message) => run.options.onNotice?.(message),
    })
    if (result.ok) {
      const retried = attempt > 1 ? ` (after ${plural(attempt - 1, 'lock timeout')})` : ''
      return { result: { status: 'done', detail: `applied ${names.join(', ')}${retried}`, applied: result.applied } }
    }
    const failed = result.failed
    const migration = failed ? history.find((entry) => entry.name === failed) : undefined
    const script = result.lockTimeout && migration ? readFileSync(migration.sqlFile, 'utf8') : undefined
    if (!failed || script === undefined || TRANSACTION_CONTROL.test(script)) return prismaFailure(result)
    await prismaResolveRolledBack(run.project, run.options.databaseUrl, history, failed)
    const holder =
      result.blockers.length > 0
        ? `held by ${result.blockers.map(describeBlockingSession).join('; ')}`
        : 'its holder was gone before deploy could see it'
    const ownTimeout = OWN_LOCK_TIMEOUT.test(script) ? ' or the SET lock_timeout in its migration.sql' : ''
    const waited = `migration ${failed} gave up waiting for a lock (lock_timeout: --lock-timeout ${lockTimeoutMs} ms${ownTimeout}; ${holder}); nothing of it was applied`
    if (attempt > retries || run.options.signal?.aborted) {
      return {
        result: { status: 'failed', detail: `${waited}, ${plural(attempt, 'time')}`, applied: result.applied },
        stop: {
          outcome: 'failed',
          message: `${waited}, ${plural(attempt, 'time')}; it is marked rolled back, so the next deploy applies it`,
          next: ['# let the session holding the lock finish (or end it), then:', DEPLOY_COMMAND],
        },
      }
    }
    const delay = lockRetryDelayMs(attempt)
    run.options.onNotice?.(`${waited}; trying again in ${delay / 1000} s (attempt ${attempt + 1} of ${retries + 1}).`)
    await sleep(delay)
  }
}

/** Prisma failed for another reason than a lock wait: what it said, and what to do. */
function prismaFailure(result: PrismaDeployResult): StepOutcome {
  const where = result.failed ? ` at ${result.failed}` : ''
  const detail = `prisma migrate deploy failed (exit ${result.code})${where}:\n${result.output}`
  const next = result.failed
    ? [
        `# fix ${result.failed}/migration.sql or the data, then:`,
        `npx migrate-kit prisma migrate resolve --rolled-back ${result.failed}`,
        DEPLOY_COMMAND,
      ]
    : HAS_SCHEMA_BUT_NO_HISTORY.test(result.output)
      ? [
          '# the database has tables but no migration history (Prisma P3005). If it already holds your schema up to a',
          '# migration, baseline it: mark each migration it already has as applied (oldest first), then deploy:',
          'npx migrate-kit prisma migrate resolve --applied <migration>',
          DEPLOY_COMMAND,
          '# otherwise deploy to an empty database.',
        ]
      : [DEPLOY_COMMAND]
  return {
    result: { status: 'failed', detail, applied: result.applied },
    stop: {
      outcome: 'failed',
      message: `prisma migrate deploy failed${where}${result.applied.length > 0 ? ` (applied before it: ${result.applied.join(', ')})` : ''}`,
      next,
    },
  }
}

async function backfill(run: Execution, step: BackfillStep): Promise<StepOutcome> {
  if (step.runBy === 'operator') {
    const why =
      step.unblocks.length > 0 ? `${step.unblocks.join(', ')} wait${step.unblocks.length === 1 ? 's' : ''} for it` : 'nothing waits for it'
    return { result: { status: 'skipped', detail: `not run by deploy (${why}): ${step.command}` } }
  }
  const loaded = run.backfills.get(step.backfill)!
  const result = await runBackfill(run.options.databaseUrl, loaded, {
    ...run.options.backfillSettings,
    ...(run.options.signal ? { signal: run.options.signal } : {}),
    ...(run.options.redisUrl ? { redisUrl: run.options.redisUrl } : {}),
    onEvent: (event) => run.options.onBackfillEvent?.(step.backfill, event),
  })
  if (result.status === 'done') {
    const what = result.alreadyDone ? 'already done' : `${result.rowsDone} rows, ${result.rowsChanged} changed`
    return { result: { status: 'done', detail: `ran ${step.backfill}: ${what}${result.verify ? ', verified' : ''}` } }
  }
  if (result.status === 'paused') {
    return {
      result: {
        status: 'failed',
        detail: `${step.backfill} paused at ${result.cursor ?? 'its first range'} (${result.rowsDone} rows done)`,
      },
      stop: {
        outcome: 'interrupted',
        message: `interrupted while backfill ${step.backfill} ran; it is paused and resumes where it stopped`,
        next: [DEPLOY_COMMAND],
      },
    }
  }
  const error = result.lastError ?? result.status
  return {
    result: { status: 'failed', detail: `${step.backfill} ${result.status}: ${error}` },
    stop: { outcome: 'failed', message: `backfill ${step.backfill} ${result.status}: ${error}`, next: [step.command, DEPLOY_COMMAND] },
  }
}

async function gate(run: Execution, step: GateStep): Promise<StepOutcome> {
  const waits = await readWaits(
    run.client,
    step.waits.map((wait) => ({ backfill: wait.backfill, reasons: wait.reasons })),
    run.backfills,
  )
  const summary = waits.map((wait) => `${wait.backfill} ${describeWait(wait)}`).join('; ')
  const blocking = waits.filter((wait) => !wait.ready)
  if (blocking.length === 0) return { result: { status: 'done', detail: `open: ${summary}`, waits } }
  const names = blocking.map((wait) => wait.backfill)
  const redeploy = run.plan.until ? `${DEPLOY_COMMAND} --until ${run.plan.until}` : DEPLOY_COMMAND
  return {
    result: { status: 'blocked', detail: `closed: ${summary}`, waits },
    stop: {
      outcome: 'blocked',
      message:
        `${step.migration} (${step.phase}) waits for backfill ${names.join(', ')}, which ${blocking.length === 1 ? 'is' : 'are'} ` +
        `${blocking.map(describeWait).join(', ')}; nothing after it was applied`,
      next: [...blocking.map((wait) => backfillCommand(wait.backfill)), redeploy],
    },
  }
}

async function checks(run: Execution, step: ChecksStep): Promise<StepOutcome> {
  const results = await runIntegrityChecks(run.client, await loadCheckFiles(run.project))
  const failing = results.filter((result) => result.status !== 'ok')
  if (failing.length === 0) {
    return {
      result: {
        status: 'done',
        detail:
          results.length === 0
            ? `no integrity checks in ${relativePath(run.project, run.project.checksDir)}`
            : `${plural(results.length, 'integrity check')} pass`,
        checks: results,
      },
    }
  }
  const what = failing
    .map((result) =>
      result.status === 'error'
        ? `${result.name} could not run (${result.file}:${result.error?.line})`
        : `${result.name}: ${plural(result.violations, 'violation')}`,
    )
    .join('; ')
  return {
    result: { status: 'failed', detail: `${failing.length} of ${results.length} integrity checks failed: ${what}`, checks: results },
    stop: {
      outcome: 'failed',
      message: `the migrations are applied, but ${plural(failing.length, 'integrity check')} failed: ${what}`,
      next: [`${step.command}   # shows the offending rows`],
    },
  }
}
