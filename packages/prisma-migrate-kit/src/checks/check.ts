import { readFileSync } from 'node:fs'
import { loadBackfills, type LoadedBackfill } from '../backfill/loader'
import { withConnection } from '../db/connect'
import { readDeployState } from '../deploy/state'
import { lintProject, resolveTargets, type Finding, type LintReport, type LintSettings } from '../lint'
import type { TableSizeReader } from '../lint/measure'
import { relativePath, type Project } from '../project'
import { checkRollbackPairs } from '../rollback/check'
import { loadCheckFiles } from './check-files'
import { detectDrift, type DriftResult } from './drift'
import {
  backfillFindings,
  backfillProblemFindings,
  driftFindings,
  historyFindings,
  integrityFindings,
  schemaChangeFindings,
} from './findings'
import { detectSchemaChange, type SchemaChangeResult } from './schema-change'
import { runIntegrityChecks, type CheckResult } from './integrity'
import { findingCounts } from '../lint/report'
import { plural } from '../text'

export type SectionName = 'rollbacks' | 'lint' | 'drift' | 'schema' | 'migrations' | 'integrity' | 'backfills'

/** One group of the report, as the terminal shows it: a title, one line of outcome, its findings. */
export interface CheckSection {
  name: SectionName
  title: string
  summary: string
  findings: Finding[]
}

/** What `check` reports: the `lint --json` shape (ok, findings, phases) and, added, what each part found. */
export interface CheckReport {
  ok: boolean
  findings: Finding[]
  phases: LintReport['phases']
  sections: CheckSection[]
  drift: DriftResult
  schemaChange: SchemaChangeResult
  integrity: CheckResult[]
}

/**
 * Everything that can be wrong between the files and the database, in one pass that changes nothing: rollback pairs,
 * the lint of every migration, drift between the database and its applied migrations (Prisma's diff), a Prisma schema
 * asking for what no migration makes, applied
 * migrations edited since, failed ones, the integrity checks of prisma/checks, and backfills a pending migration
 * waits for that are not done and verified.
 */
export async function runChecks(
  project: Project,
  databaseUrl: string,
  options: { lintSettings?: Partial<LintSettings>; sizes?: TableSizeReader } = {},
): Promise<CheckReport> {
  const rollbackFindings = await checkRollbackPairs(project)
  const lint = await lintProject(project, resolveTargets(project, []), options.lintSettings, options.sizes ? { sizes: options.sizes } : {})
  const { backfills, problems } = await loadBackfills(project)
  const checkFiles = await loadCheckFiles(project)
  const { state, integrity } = await withConnection(
    databaseUrl,
    async (client) => {
      const state = await readDeployState(client, project, backfills)
      const pendingMigrations = state.history.entries.some((entry) => entry.state !== 'applied')
      return { state, integrity: await runIntegrityChecks(client, checkFiles, { pendingMigrations }) }
    },
    { applicationName: 'migrate-kit check' },
  )
  const applied = state.history.entries.filter((entry) => entry.state === 'applied')
  // Two Prisma processes, each replaying migrations in a shadow database: side by side.
  const [drift, schemaChange] = await Promise.all([
    detectDrift(
      project,
      databaseUrl,
      applied.map((entry) => entry.migration),
    ),
    detectSchemaChange(project, databaseUrl),
  ])

  const pending = state.history.entries.filter((entry) => entry.state === 'pending' || entry.state === 'rolled_back').length
  const sections: CheckSection[] = [
    section('rollbacks', 'Rollback pairs', rollbackFindings, `${state.history.entries.length} migrations, each with its rollback.sql`),
    section(
      'lint',
      'Lint',
      lint.findings,
      `${lint.phases.length} migrations: ${phaseCounts(lint)}`,
      lint.baseline ? `${plural(lint.baseline.skipped, 'known finding')} skipped (accepted in ${lint.baseline.file})` : undefined,
    ),
    section(
      'drift',
      'Drift (Prisma diff: applied migrations → database)',
      driftFindings(project, drift, applied),
      `none: the database is what its ${applied.length} applied migrations build${pending > 0 ? ` (${pending} pending, not expected yet)` : ''}`,
    ),
    section(
      'schema',
      `Schema (Prisma diff: every migration → ${relativePath(project, project.schemaPath)})`,
      schemaChangeFindings(project, schemaChange),
      `no change without its migration (${plural(schemaChange.migrations, 'migration')} build it)`,
    ),
    section(
      'migrations',
      'Applied migrations',
      historyFindings(project, state.history),
      `${applied.length} applied, none edited since or failed`,
    ),
    section(
      'integrity',
      `Integrity checks (${relativePath(project, project.checksDir)})`,
      integrityFindings(integrity),
      integrity.length === 0
        ? `none in ${relativePath(project, project.checksDir)}`
        : integrity.map((result) => `${result.name} ${result.status}`).join(', '),
    ),
    section(
      'backfills',
      'Backfills pending migrations wait for',
      [...backfillProblemFindings(problems), ...backfillFindings(state.gates, backfillLines(backfills))],
      state.gates.length === 0 ? 'no pending migration waits for a backfill' : 'every one is done and verified',
    ),
  ]
  const findings = sections.flatMap((part) => part.findings)
  return {
    ok: !findings.some((finding) => finding.level === 'error'),
    findings,
    phases: lint.phases,
    sections,
    drift,
    schemaChange,
    integrity,
  }
}

function section(name: SectionName, title: string, findings: Finding[], clean: string, note?: string): CheckSection {
  const { errors, warnings } = findingCounts(findings)
  const summary =
    findings.length === 0
      ? clean
      : [errors ? plural(errors, 'error') : '', warnings ? plural(warnings, 'warning') : ''].filter(Boolean).join(', ')
  return { name, title, summary: note ? `${summary}; ${note}` : summary, findings }
}

function phaseCounts(lint: LintReport): string {
  const counts = new Map<string, number>()
  for (const { phase } of lint.phases) counts.set(phase, (counts.get(phase) ?? 0) + 1)
  return [...counts].map(([phase, n]) => `${n} ${phase}`).join(', ') || 'none'
}

/** Where a person fixes a backfill: the line of its `before:` (or of its name), for the finding's file:line. */
function backfillLines(backfills: LoadedBackfill[]): Map<string, { file: string; line: number }> {
  return new Map(
    backfills.map((backfill) => {
      const lines = readFileSync(backfill.file, 'utf8').split('\n')
      const index = [/^\s*before\s*:/, /^\s*name\s*:/]
        .map((pattern) => lines.findIndex((line) => pattern.test(line)))
        .find((found) => found >= 0)
      return [backfill.name, { file: backfill.relativeFile, line: (index ?? 0) + 1 }]
    }),
  )
}
