import { existsSync, statSync } from 'node:fs'
import { readSqlFile } from '../sql/read-sql-file'
import path from 'node:path'
import { InputError } from '../errors'
import { findMigration, listMigrations, type MigrationOnDisk } from '../prisma/migrations'
import { relativePath, type Project } from '../project'
import type { Phase } from './effects'
import { applyBaseline, readLintBaseline } from './baseline'
import { analyzeMigrations, type Finding, type MigrationAnalysis, type MigrationSource } from './engine'
import type { LintSettings } from './rule'
import { measureFindings, sizedTables, type TableSizeReader } from './measure'

/** What `lint` reports: the `lint --json` document plus the full analyses for library callers. */
export interface LintReport {
  ok: boolean
  findings: Finding[]
  phases: Array<{ migration: string; phase: Phase; file: string; reason: string }>
  analyses: MigrationAnalysis[]
  /** The committed baseline that was applied, and how many findings it accepted (left out of `findings`). */
  baseline?: { file: string; skipped: number }
}

/** What to lint: migrations of the history (by folder name) and files outside it, in the order given. */
export interface LintTargets {
  /** Every migration on disk, in order: the context. */
  history: MigrationOnDisk[]
  /** Names of the history's migrations to report on. */
  migrations: Set<string>
  /** Absolute paths of .sql files outside prisma/migrations, each linted as the next migration after the history. */
  files: string[]
}

function looksLikePath(reference: string): boolean {
  return reference.endsWith('.sql') || reference.includes('/') || reference.includes(path.sep) || reference.startsWith('.')
}

/**
 * Resolves `lint` arguments: a migration's folder name or its name without the timestamp, or a path to a .sql file
 * or a migration folder (relative to `from`, the folder the command runs in). A path inside the migrations folder is
 * that migration (so the history before it is the context). Refused before anything runs: unknown names, missing files (InputError, exit 2).
 */
export function resolveTargets(project: Project, references: string[], from: string = project.root): LintTargets {
  const history = listMigrations(project)
  if (references.length === 0) return { history, migrations: new Set(history.map((m) => m.name)), files: [] }
  const targets: LintTargets = { history, migrations: new Set(), files: [] }
  for (const reference of references) {
    if (!looksLikePath(reference)) {
      targets.migrations.add(findMigration(history, reference).name)
      continue
    }
    let file = path.resolve(from, reference)
    if (!existsSync(file)) {
      throw new InputError(`no such file: ${reference}`, reference, undefined, {
        hint: 'Give a path to a .sql file, or a migration name (`migrate-kit status` lists them).',
      })
    }
    if (statSync(file).isDirectory()) file = path.join(file, 'migration.sql')
    const inHistory = history.find((migration) => path.resolve(migration.sqlFile) === file)
    if (inHistory) targets.migrations.add(inHistory.name)
    else if (existsSync(file)) targets.files.push(file)
    else throw new InputError(`no migration.sql in ${reference}`, reference)
  }
  return targets
}

/**
 * Lints the targets, each in the context of the migrations before it. No database is involved. The project's lint
 * baseline, when there is one, takes out the findings it accepts (`useBaseline: false` keeps every finding).
 */
export async function lintProject(
  project: Project,
  targets: LintTargets,
  settings: Partial<LintSettings> = {},
  options: { useBaseline?: boolean; sizes?: TableSizeReader } = {},
): Promise<LintReport> {
  const lastWanted = targets.files.length > 0 ? targets.history.length : lastIndexWanted(targets)
  const history: MigrationSource[] = targets.history.slice(0, lastWanted).map((migration) => ({
    name: migration.name,
    file: relativePath(project, migration.sqlFile),
    sql: readSqlFile(migration.sqlFile, relativePath(project, migration.sqlFile)),
  }))
  const merged = { ...projectLintSettings(project), ...settings }
  const analysed = await analyzeMigrations(history, { settings: merged })
  const analyses = analysed.filter((analysis) => targets.migrations.has(analysis.migration))
  const schema = analysed[analysed.length - 1]?.schema
  for (const file of targets.files) {
    const relative = relativePath(project, file)
    const source = { name: relative, file: relative, sql: readSqlFile(file, relative) }
    analyses.push(...(await analyzeMigrations([source], { settings: merged, ...(schema ? { schema } : {}) })))
  }
  const baseline = options.useBaseline === false ? undefined : readLintBaseline(project)
  const applied = baseline
    ? applyBaseline(
        baseline,
        analyses,
        targets.history.map((migration) => migration.name),
      )
    : undefined
  const unsized = applied ? applied.findings : analyses.flatMap((analysis) => analysis.findings)
  const findings = options.sizes ? measureFindings(unsized, await options.sizes(sizedTables(unsized))) : unsized
  return {
    ok: !findings.some((finding) => finding.level === 'error'),
    findings,
    phases: analyses.map(({ migration, phase, file, phaseReason }) => ({ migration, phase, file, reason: phaseReason })),
    analyses,
    ...(baseline && applied ? { baseline: { file: baseline.file, skipped: applied.skipped } } : {}),
  }
}

/** The lint settings package.json's "migrateKit" gives; the command line's win over them. */
export function projectLintSettings(project: Project): Partial<LintSettings> {
  return {
    ...(project.maxLockTimeoutMs === undefined ? {} : { maxLockTimeoutMs: project.maxLockTimeoutMs }),
    ...(project.maxStatementTimeoutMs === undefined ? {} : { maxStatementTimeoutMs: project.maxStatementTimeoutMs }),
  }
}

function lastIndexWanted(targets: LintTargets): number {
  let last = 0
  targets.history.forEach((migration, index) => {
    if (targets.migrations.has(migration.name)) last = index + 1
  })
  return last
}
