import type { BackfillStatus } from '../backfill/status'
import type { Project } from '../project'
import type { MigrationStatus } from '../status/status'
import { listPlans, type SafeChangePlan } from './record'

/**
 * Where each split change of the repository (safe-changes/*.json) stands on one database, and what must happen
 * next: the release to ship, the backfill to run, the contract to write. `status` and `plan` show it.
 */
export type SplitChangeState =
  /** The expand migrations are not all applied: the release that writes both shapes ships with them. */
  | 'expand-pending'
  /** Expanded; a backfill is not done. */
  | 'backfilling'
  /** Backfilled; the contract is not written yet (`new --continue`). */
  | 'contract-to-write'
  /** The contract is written, not applied here yet. */
  | 'contract-pending'
  /** A rename's contract is applied; the drop of its old column is not written yet (`new --continue`). */
  | 'drop-to-write'
  /** The drop is written, not applied here yet. */
  | 'drop-pending'
  | 'done'

export interface SplitChangeStatus {
  name: string
  state: SplitChangeState
  expand: Array<{ migration: string; state: string }>
  backfills: Array<{ name: string; status: string }>
  /** The contract's migrations once written; before that, the names they will have after the timestamp. */
  contract: Array<{ migration: string; state: string }>
  /** The drop step of renames (none without a rename): names after the timestamp until written. */
  drop: Array<{ migration: string; state: string }>
  /** What to do next, with its command. */
  next: string
}

export function splitChangeStatuses(project: Project, migrations: MigrationStatus[], backfills: BackfillStatus[]): SplitChangeStatus[] {
  return listPlans(project).map((plan) => statusOf(plan, migrations, backfills))
}

function statusOf(plan: SafeChangePlan, migrations: MigrationStatus[], backfills: BackfillStatus[]): SplitChangeStatus {
  const stateOf = (migration: string) => migrations.find((candidate) => candidate.name === migration)?.state ?? 'missing'
  const expand = plan.expand.map((migration) => ({ migration, state: stateOf(migration) }))
  const backfillStates = plan.backfills.map((name) => ({
    name,
    status: backfills.find((candidate) => candidate.name === name)?.status ?? 'pending',
  }))
  const written = plan.stage !== 'expanded'
  const contract = plan.contract.map((migration) => ({ migration, state: written ? stateOf(migration) : 'not written' }))
  const dropWritten = plan.stage === 'dropped'
  const drop = (plan.drop ?? []).map((migration) => ({ migration, state: dropWritten ? stateOf(migration) : 'not written' }))
  const firstBackfill = backfillStates.find((backfill) => backfill.status !== 'done')
  let state: SplitChangeState
  let next: string
  if (expand.some((step) => step.state !== 'applied')) {
    state = 'expand-pending'
    next = 'ship the release of the expand schema (it writes both shapes) and deploy it: npx migrate-kit deploy'
  } else if (firstBackfill) {
    state = 'backfilling'
    next = `run the backfill: npx migrate-kit backfill run ${firstBackfill.name}`
  } else if (!written) {
    state = 'contract-to-write'
    next = `once no release of the old shape runs, write the contract: npx migrate-kit new --continue ${plan.name}`
  } else if (contract.some((step) => step.state !== 'applied')) {
    state = 'contract-pending'
    next =
      drop.length > 0
        ? "ship the release of the contract's schema (the old field ignored) and deploy the contract with it: npx migrate-kit deploy"
        : 'ship the release of the final schema and deploy the contract with it: npx migrate-kit deploy'
  } else if (drop.length > 0 && !dropWritten) {
    state = 'drop-to-write'
    next = `once no release older than the contract's runs, write the drop of the old columns: npx migrate-kit new --continue ${plan.name}`
  } else if (drop.some((step) => step.state !== 'applied')) {
    state = 'drop-pending'
    next = 'deploy the drop (no running release reads the old columns): npx migrate-kit deploy'
  } else {
    state = 'done'
    next = `nothing: every step is applied (backfills/${plan.backfills[0] ?? plan.name}.ts and safe-changes/${plan.name}.json are history now)`
  }
  return { name: plan.name, state, expand, backfills: backfillStates, contract, drop, next }
}

/** The lines `status` and `plan` print: one per split change, with the step under way and the next one. */
export function splitChangeLines(statuses: SplitChangeStatus[]): string[] {
  if (statuses.length === 0) return []
  const lines = ['Split changes (new --safe):']
  for (const status of statuses) {
    const steps = [
      `expand ${summary(status.expand.map((step) => step.state))}`,
      ...(status.backfills.length > 0 ? [`backfill ${summary(status.backfills.map((backfill) => backfill.status))}`] : []),
      `contract ${summary(status.contract.map((step) => step.state))}`,
      ...(status.drop.length > 0 ? [`drop ${summary(status.drop.map((step) => step.state))}`] : []),
    ]
    lines.push(`  ${status.name}  ${status.state}  (${steps.join(', ')})`)
    lines.push(`    next: ${status.next}`)
  }
  return lines
}

/** `applied`, `2 pending`, `done, running`: the states of a step's parts, counted when they repeat. */
function summary(states: string[]): string {
  if (states.length === 0) return 'none'
  const counts = new Map<string, number>()
  for (const state of states) counts.set(state, (counts.get(state) ?? 0) + 1)
  return [...counts].map(([state, count]) => (count > 1 ? `${count} ${state}` : state)).join(', ')
}
