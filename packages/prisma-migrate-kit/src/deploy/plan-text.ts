import { formatRow } from '../checks/integrity'
import type { DeployRun, StepResult } from './deploy'
import type { DeployPlan, DeployStep } from './plan'
import { describeReasons, describeWait, type Wait } from './readiness'
import { plural } from '../text'

/**
 * How a plan and a run read, on a terminal and in JSON. The dry run and `plan` print `planLines` of the very plan
 * object the real run executes; the real run prints `resultLines` of each step as it finishes.
 */

const KIND_WIDTH = 9

/** `3 migrations to apply (2 expand, 1 contract); 1 backfill to run first; integrity checks at the end`. */
export function planSummary(plan: DeployPlan): string {
  const migrations = plan.steps.flatMap((step) => (step.kind === 'migrate' ? step.migrations : []))
  const phases = new Map<string, number>()
  for (const migration of migrations) phases.set(migration.phase, (phases.get(migration.phase) ?? 0) + 1)
  const byPhase = [...phases].map(([phase, n]) => `${n} ${phase}`).join(', ')
  const backfills = plan.steps.filter((step) => step.kind === 'backfill')
  const waited = backfills.filter((step) => step.unblocks.length > 0).length
  const gates = plan.steps.filter((step) => step.kind === 'gate')
  const parts = [
    migrations.length === 0
      ? 'nothing to apply: every migration is applied'
      : `${plural(migrations.length, 'migration')} to apply (${byPhase})`,
    waited > 0 ? `${plural(waited, 'backfill')} a migration waits for` : '',
    gates.length > 0 ? `${plural(gates.length, 'gate')}` : '',
    plan.later.length > 0 ? `${plural(plan.later.length, 'migration')} left after ${plan.until}` : '',
  ]
  return parts.filter(Boolean).join('; ')
}

/** The plan, one block per step, each ending with the command that does it by hand. */
export function planLines(plan: DeployPlan): string[] {
  const lines: string[] = [`Plan: ${planSummary(plan)}.`, '']
  plan.steps.forEach((step, index) => lines.push(...stepLines(step, index, plan)))
  if (plan.steps.length === 0) lines.push('Nothing to do.')
  return lines
}

function head(index: number, kind: string, text: string): string {
  return `${String(index + 1).padStart(2)}. ${kind.padEnd(KIND_WIDTH)} ${text}`
}

const INDENT = ' '.repeat(4 + KIND_WIDTH + 1)

function stepLines(step: DeployStep, index: number, plan: DeployPlan): string[] {
  switch (step.kind) {
    case 'migrate': {
      const width = Math.max(...step.migrations.map((migration) => migration.name.length))
      return [
        head(
          index,
          'migrate',
          `apply ${plural(step.migrations.length, 'migration')} with prisma migrate deploy (Prisma sees the history up to the last one only):`,
        ),
        ...step.migrations.map(
          (migration) =>
            `${INDENT}  ${migration.name.padEnd(width)}  ${migration.phase}${migration.waitsFor.length > 0 ? `  (waits for ${migration.waitsFor.join(', ')})` : ''}`,
        ),
        `${INDENT}$ ${step.command}`,
      ]
    }
    case 'backfill': {
      const progress =
        step.status === 'pending' && step.rowsDone === 0
          ? 'not run yet'
          : `${step.status}, ${step.rowsDone}${step.rowsTotal === null ? '' : ` of ${step.rowsTotal}`} rows done`
      const why =
        step.unblocks.length > 0
          ? `${step.unblocks.join(' and ')} wait${step.unblocks.length === 1 ? 's' : ''} for it`
          : 'nothing waits for it: run it when convenient'
      const who = step.runBy === 'deploy' ? 'deploy runs it (--run-backfills)' : 'run by a person, not by deploy'
      return [head(index, 'backfill', `${step.backfill} (${progress}): ${why}; ${who}`), `${INDENT}$ ${step.command}`]
    }
    case 'gate': {
      const then = step.open
        ? 'every one is done and verified: deploy goes on (it checks again when it gets here)'
        : plan.runBackfills
          ? 'deploy goes on once the backfills above, run by deploy, are done and verified'
          : `deploy stops here (exit 3) unless ${step.waits
              .filter((wait) => !wait.ready)
              .map((wait) => wait.backfill)
              .join(', ')} ${step.waits.filter((wait) => !wait.ready).length === 1 ? 'is' : 'are'} done and verified by then`
      return [
        head(index, 'gate', `${step.migration} (${step.phase}) waits for:`),
        ...step.waits.map((wait) => `${INDENT}  ${wait.backfill}: ${describeWait(wait)} — ${describeReasons(wait.reasons)}`),
        `${INDENT}${then}`,
      ]
    }
    case 'checks':
      return [
        head(
          index,
          'checks',
          step.files.length === 0
            ? 'no integrity checks (no .sql file in the checks folder)'
            : `run ${plural(step.files.length, 'integrity check')}: ${step.files.join(', ')}`,
        ),
        `${INDENT}$ ${step.command}`,
      ]
  }
}

const STATUS_WORD: Record<StepResult['status'], string> = {
  done: 'ok',
  skipped: 'skipped',
  blocked: 'BLOCKED',
  failed: 'FAILED',
  not_executed: 'not run',
}

/** One step's outcome as the run prints it when the step ends: status, what it did, how long it took. */
export function resultLines(step: DeployStep, result: StepResult, index: number): string[] {
  const [first, ...rest] = result.detail.split('\n')
  const lines = [`${STATUS_WORD[result.status].padEnd(8)} ${head(index, step.kind, first ?? '')} (${result.seconds.toFixed(1)} s)`]
  for (const line of rest) lines.push(`${' '.repeat(9)}${INDENT}${line}`)
  for (const check of result.checks ?? []) {
    if (check.status === 'ok') continue
    lines.push(
      `${' '.repeat(9)}${INDENT}${check.name}: ${check.error ? check.error.text.split('\n')[0] : `${plural(check.violations, 'violation')}, e.g. ${formatRow(check.sample[0] ?? {})}`}`,
    )
  }
  return lines
}

/** What did not run after the run stopped, one line. */
export function notExecutedLine(run: DeployRun): string | undefined {
  const skipped = run.plan.steps.flatMap((step, index) =>
    run.results[index]?.status === 'not_executed' ? [`${index + 1}. ${step.kind}`] : [],
  )
  return skipped.length > 0 ? `Not executed: ${skipped.join(', ')}.` : undefined
}

export function waitJson(wait: Wait): object {
  return {
    backfill: wait.backfill,
    file: wait.file,
    status: wait.status,
    done: wait.done,
    verified: wait.verified,
    ready: wait.ready,
    ...(wait.verify && wait.verify.failures > 0 ? { verifyFailures: wait.verify.failures } : {}),
    reasons: wait.reasons,
    why: describeReasons(wait.reasons),
  }
}

export function stepJson(step: DeployStep): object {
  return step.kind === 'gate' ? { ...step, waits: step.waits.map(waitJson) } : { ...step }
}

/** `plan --json` and `deploy --dry-run --json`: the plan's steps, the same objects the real run executes. */
export function planJson(plan: DeployPlan): object {
  return {
    summary: planSummary(plan),
    migrations: plan.migrations,
    later: plan.later,
    ...(plan.until ? { until: plan.until } : {}),
    runBackfills: plan.runBackfills,
    steps: plan.steps.map(stepJson),
  }
}

/** `deploy --json`: the plan's steps, each with what happened to it. */
export function runJson(run: DeployRun): object {
  return {
    ok: run.outcome === 'done',
    outcome: run.outcome,
    message: run.message,
    next: run.next,
    ...planJson(run.plan),
    steps: run.plan.steps.map((step, index) => {
      const result = run.results[index]
      return {
        ...stepJson(step),
        result: {
          status: result.status,
          seconds: Number(result.seconds.toFixed(2)),
          detail: result.detail,
          ...(result.applied ? { applied: result.applied } : {}),
          ...(result.waits ? { waits: result.waits.map(waitJson) } : {}),
          ...(result.checks ? { checks: result.checks } : {}),
        },
      }
    }),
  }
}
