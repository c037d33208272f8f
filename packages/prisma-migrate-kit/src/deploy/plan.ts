import type { BackfillStatusValue } from '../backfill/state'
import type { Phase } from '../lint'
import { namesMigration, pendingEntries, type HistoryEntry } from './history'
import type { Wait } from './readiness'
import type { BackfillState, DeployState, Gate } from './state'

export interface PlanOptions {
  /** Apply pending migrations up to and including this one (its folder name, or the name after the timestamp). */
  until?: string
  /** Run the backfills a migration waits for inside the deploy (development and throwaway CI databases). */
  runBackfills?: boolean
}

export interface PlannedMigration {
  name: string
  phase: Phase
  /** The backfills it waits for (checked by the gate step before it). */
  waitsFor: string[]
}

/** Pending migrations applied by one `prisma migrate deploy` of a folder that holds the history up to the last one. */
export interface MigrateStep {
  kind: 'migrate'
  migrations: PlannedMigration[]
  command: string
}

/** A backfill still to run before a migration that waits for it, or one nothing waits for (listed as a reminder). */
export interface BackfillStep {
  kind: 'backfill'
  backfill: string
  file: string
  status: BackfillStatusValue
  rowsDone: number
  rowsTotal: number | null
  /** Pending migrations of this plan that wait for it. */
  unblocks: string[]
  /** `deploy` with --run-backfills (and only for backfills something waits for); otherwise a person runs it. */
  runBy: 'deploy' | 'operator'
  command: string
}

/** Where deploy stops (exit 3) unless every backfill the migration waits for is done and verified. */
export interface GateStep {
  kind: 'gate'
  migration: string
  phase: Phase
  waits: Wait[]
  /** Every backfill was ready when the plan was made; the run checks again when it gets here. */
  open: boolean
}

/** The integrity checks of prisma/checks, once every migration is applied. */
export interface ChecksStep {
  kind: 'checks'
  files: string[]
  command: string
}

export type DeployStep = MigrateStep | BackfillStep | GateStep | ChecksStep

export interface DeployPlan {
  steps: DeployStep[]
  /** The pending migrations this plan applies, in order. */
  migrations: string[]
  /** Pending migrations after `until`, which this plan leaves alone. */
  later: string[]
  until?: string
  runBackfills: boolean
}

export const DEPLOY_COMMAND = 'npx migrate-kit deploy'
export const CHECK_COMMAND = 'npx migrate-kit check'
export const backfillCommand = (name: string): string => `npx migrate-kit backfill run ${name}`

/**
 * The steps from the database as it is to the end of the history (or `until`): pending migrations grouped between
 * gates, each gate preceded by the backfills it waits for that are not ready, then the integrity checks. Pure: the
 * dry run prints this list and the real run executes it, so what was reviewed is what runs.
 */
export function buildPlan(state: DeployState, checkFiles: string[], options: PlanOptions, untilEntry?: HistoryEntry): DeployPlan {
  const pending = pendingEntries(state.history)
  const inPlan = untilEntry ? pending.filter((entry) => entry.index <= untilEntry.index) : pending
  const planned = new Set(inPlan.map((entry) => entry.migration.name))
  const gates = new Map(
    state.gates.filter((gate) => planned.has(gate.entry.migration.name)).map((gate) => [gate.entry.migration.name, gate]),
  )
  const unblocks = (backfill: string) =>
    [...gates.values()].filter((gate) => gate.waits.some((wait) => wait.backfill === backfill)).map((gate) => gate.entry.migration.name)

  const steps: DeployStep[] = []
  const listed = new Set<string>()
  const gated = new Set<string>()
  const reminders = state.backfills.filter((backfill) => isReminder(backfill, unblocks(backfill.loaded.name)))
  const addBackfill = (backfill: BackfillState, waitedBy: string[]) => {
    if (listed.has(backfill.loaded.name)) return
    listed.add(backfill.loaded.name)
    steps.push(backfillStep(backfill, waitedBy, options.runBackfills === true && waitedBy.length > 0))
  }
  // Backfills nothing in this plan waits for are listed as reminders (run by a person), after the migration their
  // `after:` names and after the backfills the next gate waits for.
  const appliedSoFar = new Set(state.history.entries.filter((entry) => entry.state === 'applied').map((entry) => entry.migration.name))
  const remind = () => {
    for (const backfill of reminders) {
      const after = backfill.loaded.after
      if (after === undefined || [...appliedSoFar].some((name) => namesMigration(after, name))) addBackfill(backfill, [])
    }
  }
  let group: HistoryEntry[] = []
  const closeGroup = () => {
    if (group.length === 0) return
    const migrations = group.map((entry) => plannedMigration(entry, gates.get(entry.migration.name)))
    steps.push({ kind: 'migrate', migrations, command: `${DEPLOY_COMMAND} --until ${migrations.at(-1)!.name}` })
    for (const entry of group) appliedSoFar.add(entry.migration.name)
    group = []
  }
  for (const entry of inPlan) {
    const gate = gates.get(entry.migration.name)
    // A gate whose backfills an earlier gate of this plan already let through adds nothing: no second stop, and the
    // migrations stay in one `prisma migrate deploy`.
    if (gate && !gate.waits.every((wait) => gated.has(wait.backfill))) {
      closeGroup()
      for (const wait of gate.waits) {
        const backfill = state.backfills.find((candidate) => candidate.loaded.name === wait.backfill)
        if (backfill && !wait.ready) addBackfill(backfill, unblocks(wait.backfill))
        gated.add(wait.backfill)
      }
      remind()
      steps.push(gateStep(gate))
    }
    group.push(entry)
  }
  closeGroup()
  remind()
  const later = pending.filter((entry) => !planned.has(entry.migration.name)).map((entry) => entry.migration.name)
  if (later.length === 0) steps.push({ kind: 'checks', files: checkFiles, command: CHECK_COMMAND })
  return {
    steps,
    migrations: inPlan.map((entry) => entry.migration.name),
    later,
    ...(untilEntry ? { until: untilEntry.migration.name } : {}),
    runBackfills: options.runBackfills === true,
  }
}

function plannedMigration(entry: HistoryEntry, gate: Gate | undefined): PlannedMigration {
  return { name: entry.migration.name, phase: entry.analysis.phase, waitsFor: gate?.waits.map((wait) => wait.backfill) ?? [] }
}

/** Not done, still useful (its contract has not run), and nothing in this plan waits for it. */
function isReminder(backfill: BackfillState, waitedBy: string[]): boolean {
  return !backfill.obsolete && backfill.status.status !== 'done' && waitedBy.length === 0
}

function backfillStep(backfill: BackfillState, unblocks: string[], inline: boolean): BackfillStep {
  return {
    kind: 'backfill',
    backfill: backfill.loaded.name,
    file: backfill.loaded.relativeFile,
    status: backfill.status.status,
    rowsDone: backfill.status.rowsDone,
    rowsTotal: backfill.status.rowsTotal,
    unblocks,
    runBy: inline ? 'deploy' : 'operator',
    command: backfillCommand(backfill.loaded.name),
  }
}

function gateStep(gate: Gate): GateStep {
  return {
    kind: 'gate',
    migration: gate.entry.migration.name,
    phase: gate.entry.analysis.phase,
    waits: gate.waits,
    open: gate.waits.every((wait) => wait.ready),
  }
}
