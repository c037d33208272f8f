import type { Finding } from './engine'
import type { LintReport } from './project'
import { plural } from '../text'
import { plainTable } from './nodes'

/** The findings of a `--json` document, shared by `lint --json` and `check --json` so the two never drift apart. */
export function findingsJson(findings: Finding[]): object[] {
  return findings.map(({ level, rule, file, line, message, help, column, sized }) => ({
    level,
    rule,
    file,
    line,
    message,
    help,
    ...(column === undefined ? {} : { column }),
    // Measured sizes only: `table` with its estimated rows (null: never analyzed) and bytes.
    ...(sized?.size ? { table: { name: plainTable(sized.table), rows: sized.size.rows ?? null, bytes: sized.size.bytes } } : {}),
  }))
}

export function phasesJson(phases: LintReport['phases']): object[] {
  return phases.map(({ migration, phase, file, reason }) => ({ migration, phase, file, reason }))
}

export function findingCounts(findings: Finding[]): { errors: number; warnings: number } {
  const errors = findings.filter((finding) => finding.level === 'error').length
  return { errors, warnings: findings.length - errors }
}

/** The `lint --json` document (the README's `check --json` has its shape): fields may be added, never renamed. */
export function reportJson(report: LintReport): object {
  const ignored = report.analyses.reduce((count, analysis) => count + analysis.ignored.length, 0)
  return {
    ok: report.ok,
    findings: findingsJson(report.findings),
    phases: phasesJson(report.phases),
    summary: {
      migrations: report.phases.length,
      ...findingCounts(report.findings),
      ignored,
      ...(report.baseline ? { baselined: report.baseline.skipped, baselineFile: report.baseline.file } : {}),
    },
  }
}

/** Terminal lines, as squawk and graphile-migrate print them: `file:line rule level`, the message, the help. */
export function reportLines(report: LintReport): string[] {
  const lines: string[] = []
  for (const finding of report.findings) {
    const position = finding.column === undefined ? `${finding.line}` : `${finding.line}:${finding.column}`
    lines.push(`${finding.file}:${position} ${finding.rule} ${finding.level}`)
    lines.push(`  ${finding.message}`)
    finding.help.split('\n').forEach((line, index) => lines.push(`${index === 0 ? '  help: ' : '        '}${line}`))
    lines.push('')
  }
  if (report.phases.length > 0) {
    const width = Math.max(...report.phases.map((phase) => phase.migration.length))
    lines.push('Phases:')
    for (const { migration, phase, reason } of report.phases) {
      const why = phase === 'breaking' ? ` (${reason})` : ''
      lines.push(`  ${migration.padEnd(width)}  ${phase}${why}`)
    }
    lines.push('')
  }
  const ignored = report.analyses.reduce((count, analysis) => count + analysis.ignored.length, 0)
  const { errors, warnings } = findingCounts(report.findings)
  lines.push(
    `${plural(report.phases.length, 'migration')} linted: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}` +
      (ignored > 0 ? `, ${ignored} acknowledged by migrate-kit-ignore` : '') +
      (report.baseline ? `, ${plural(report.baseline.skipped, 'known finding')} skipped (accepted in ${report.baseline.file})` : '') +
      '.',
  )
  return lines
}
