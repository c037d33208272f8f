import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { InputError } from '../errors'
import { relativePath, type Project } from '../project'
import type { Finding, MigrationAnalysis } from './engine'
import { OUTDATED_BASELINE } from './meta-rules'

/**
 * Lint findings a team accepted in migrations written before it adopted the linter (they are applied everywhere and
 * cannot change), so that `lint` and `check` fail on new problems only. Committed next to the Prisma config. An entry
 * accepts up to `count` findings of one rule in one migration: lines are not recorded, so a release of the linter
 * that reports a statement on another line does not turn the history red; a migration edited to add another such
 * statement does (one more than the count).
 */
export interface BaselineEntry {
  migration: string
  rule: string
  count: number
}

export interface LintBaseline {
  /** Relative to the project root, for messages. */
  file: string
  entries: BaselineEntry[]
}

export const LINT_BASELINE_FILE = 'migrate-kit.lint-baseline.json'

export function lintBaselinePath(project: Project): string {
  return path.join(project.root, LINT_BASELINE_FILE)
}

const EXAMPLE = '{ "accepted": [{ "migration": "20240101000000_init", "rule": "require-concurrent-index-creation", "count": 2 }] }'
const REWRITE = 'npx migrate-kit lint --baseline'

/** Reads the baseline (none: undefined). A wrong file is refused (exit 2), never half-read. */
export function readLintBaseline(project: Project): LintBaseline | undefined {
  const file = lintBaselinePath(project)
  if (!existsSync(file)) return undefined
  const shown = relativePath(project, file)
  const refuse = (why: string) =>
    new InputError(`${shown}: ${why}`, shown, undefined, {
      hint: `The file reads: ${EXAMPLE}; write it again from today's findings with: ${REWRITE}`,
    })
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw refuse(`not valid JSON (${(error as Error).message})`)
  }
  const list = (parsed as { accepted?: unknown } | null)?.accepted
  if (!Array.isArray(list)) throw refuse('it must be an object with an "accepted" list')
  const seen = new Set<string>()
  const entries = list.map((item: unknown, index): BaselineEntry => {
    const { migration, rule, count } = (item ?? {}) as { migration?: unknown; rule?: unknown; count?: unknown }
    if (typeof migration !== 'string' || migration === '') throw refuse(`entry ${index + 1} has no "migration"`)
    if (typeof rule !== 'string' || rule === '') throw refuse(`entry ${index + 1} (${migration}) has no "rule"`)
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
      throw refuse(`entry ${index + 1} (${migration}, ${rule}) needs "count": the number of findings it accepts, 1 or more`)
    }
    const key = `${migration}\n${rule}`
    if (seen.has(key)) throw refuse(`${migration}, ${rule} is listed twice`)
    seen.add(key)
    return { migration, rule, count }
  })
  return { file: shown, entries }
}

/** The entries that accept every finding of these analyses (history order, then rule). */
export function baselineEntries(analyses: MigrationAnalysis[]): BaselineEntry[] {
  return analyses.flatMap((analysis) => {
    const counts = new Map<string, number>()
    for (const finding of analysis.findings) counts.set(finding.rule, (counts.get(finding.rule) ?? 0) + 1)
    return [...counts.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([rule, count]) => ({ migration: analysis.migration, rule, count }))
  })
}

export function writeLintBaseline(project: Project, entries: BaselineEntry[]): string {
  const file = lintBaselinePath(project)
  const document = {
    about:
      'Lint findings accepted in migrations that were written before migrate-kit lint: `lint` and `check` skip up to ' +
      `"count" findings of "rule" in "migration" and fail on any other. Written by \`${REWRITE}\`; commit it.`,
    accepted: entries,
  }
  writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`)
  return file
}

export interface BaselineOutcome {
  /** The findings left: the ones the baseline does not accept, then one per entry that no longer holds. */
  findings: Finding[]
  /** How many findings the baseline accepted. */
  skipped: number
}

/**
 * Takes out of each analysis's findings what the baseline accepts (the first `count` of a rule, in line order), and
 * reports each entry that accepts more than it finds, among the migrations linted (one named in no migration of the
 * history always): the file must stay true.
 */
export function applyBaseline(baseline: LintBaseline, analyses: MigrationAnalysis[], history: string[]): BaselineOutcome {
  const byKey = new Map(baseline.entries.map((entry) => [`${entry.migration}\n${entry.rule}`, entry]))
  const used = new Map<string, number>()
  const findings: Finding[] = []
  let skipped = 0
  for (const analysis of analyses) {
    for (const finding of [...analysis.findings].sort((a, b) => a.line - b.line)) {
      const key = `${analysis.migration}\n${finding.rule}`
      const entry = byKey.get(key)
      const taken = used.get(key) ?? 0
      if (entry && taken < entry.count) {
        used.set(key, taken + 1)
        skipped++
      } else {
        findings.push(finding)
      }
    }
  }
  const linted = new Set(analyses.map((analysis) => analysis.migration))
  const known = new Set(history)
  for (const entry of baseline.entries) {
    if (known.has(entry.migration) && !linted.has(entry.migration)) continue
    const found = used.get(`${entry.migration}\n${entry.rule}`) ?? 0
    if (found >= entry.count) continue
    findings.push({
      level: OUTDATED_BASELINE.level,
      rule: OUTDATED_BASELINE.name,
      file: baseline.file,
      line: 1,
      message: known.has(entry.migration)
        ? `accepts ${entry.count} ${entry.rule} finding${entry.count === 1 ? '' : 's'} in ${entry.migration}, which has ${found === 0 ? 'none' : found} now`
        : `accepts ${entry.rule} findings in ${entry.migration}, which is not a migration of this project (a renamed or deleted folder?)`,
      help: `Write it again from today's findings and review its diff before committing: ${REWRITE}`,
    })
  }
  return { findings, skipped }
}
