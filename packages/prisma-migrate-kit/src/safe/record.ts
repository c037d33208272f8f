import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { errorMessage, InputError, UsageError } from '../errors'
import { relativePath, type Project } from '../project'
import type { SplitChange } from './changes'

/**
 * The plan of one split change, committed next to the migrations (safe-changes/<name>.json): which migrations made
 * the expand, which backfills fill the data, and the contract still to write. This module is the only writer of it.
 */
export interface SafeChangePlan {
  version: 1
  name: string
  /**
   * `expanded`: the expand step is written, the contract is not; `contracted`: the contract is written (and, when the
   * plan has a drop step, that is not); `dropped`: every step is written.
   */
  stage: 'expanded' | 'contracted' | 'dropped'
  createdAt: string
  changes: SplitChange[]
  /** Migration folders of the expand step, in order. */
  expand: string[]
  /** Backfill names (backfills/<name>.ts), each `after` the expand and `before` the contract. */
  backfills: string[]
  /**
   * The contract's migrations: their names after the timestamp while the contract is not written (what the
   * backfills' `before:` names), their folder names once it is.
   */
  contract: string[]
  contractedAt?: string
  /**
   * The drop step of a rename (the old column and its trigger), a release after the contract's: the contract's release
   * ignores the old field (`@ignore`), so the contract cannot break the release running while it deploys, and the
   * drop cannot break the contract's. Names after the timestamp until written, folder names once it is. None for
   * plans without a rename.
   */
  drop?: string[]
  droppedAt?: string
}

/** The drop step's migrations still to write: a contracted plan with a rename. */
export function dropToWrite(plan: SafeChangePlan): boolean {
  return plan.stage === 'contracted' && (plan.drop?.length ?? 0) > 0
}

export function planFile(project: Project, name: string): string {
  return path.join(project.safeChangesDir, `${name}.json`)
}

export function writePlan(project: Project, plan: SafeChangePlan): string {
  const file = planFile(project, plan.name)
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, `${JSON.stringify(plan, null, 2)}\n`)
  return file
}

export function readPlan(project: Project, name: string): SafeChangePlan {
  const file = planFile(project, name)
  if (!existsSync(file)) {
    const known = listPlans(project).map((plan) => plan.name)
    throw new UsageError(`no split change named "${name}" (${relativePath(project, file)} does not exist)`, {
      hint: known.length > 0 ? `Split changes of this project: ${known.join(', ')}` : 'Start one with: npx migrate-kit new <name> --safe',
    })
  }
  return parsePlan(project, file)
}

/** Every recorded plan, oldest first. */
export function listPlans(project: Project): SafeChangePlan[] {
  if (!existsSync(project.safeChangesDir)) return []
  return readdirSync(project.safeChangesDir)
    .filter((entry) => entry.endsWith('.json'))
    .map((entry) => parsePlan(project, path.join(project.safeChangesDir, entry)))
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name))
}

function parsePlan(project: Project, file: string): SafeChangePlan {
  let value: unknown
  try {
    value = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new InputError(`cannot read ${relativePath(project, file)}: ${errorMessage(error)}`, relativePath(project, file), undefined, {
      hint: 'It is written by `migrate-kit new --safe`: restore it from version control.',
    })
  }
  const plan = value as Partial<SafeChangePlan> | null
  const valid =
    plan !== null &&
    typeof plan === 'object' &&
    plan.version === 1 &&
    typeof plan.name === 'string' &&
    (plan.stage === 'expanded' || plan.stage === 'contracted' || plan.stage === 'dropped') &&
    Array.isArray(plan.changes) &&
    [plan.expand, plan.backfills, plan.contract, plan.drop ?? []].every(
      (list) => Array.isArray(list) && list.every((item) => typeof item === 'string'),
    )
  if (!valid) {
    throw new InputError(
      `${relativePath(project, file)} is not a plan of migrate-kit new --safe (version 1)`,
      relativePath(project, file),
      undefined,
      {
        hint: 'Restore it from version control; it is written by `migrate-kit new --safe` and read by `new --continue`, `plan` and `status`.',
      },
    )
  }
  return plan as SafeChangePlan
}
