import { findingCounts, findingsJson, phasesJson } from '../lint/report'
import { plural } from '../text'
import type { CheckReport } from './check'

/**
 * `check --json`: exactly the shape of `lint --json` ({ ok, findings, phases }), with fields added (summary, the
 * outcome of each section, drift, integrity), never renamed.
 */
export function checkJson(report: CheckReport): object {
  return {
    ok: report.ok,
    findings: findingsJson(report.findings),
    phases: phasesJson(report.phases),
    summary: findingCounts(report.findings),
    sections: report.sections.map(({ name, title, summary, findings }) => ({ name, title, summary, ...findingCounts(findings) })),
    drift: report.drift,
    schemaChange: report.schemaChange,
    integrity: report.integrity.map(({ name, file, description, status, violations, sample, error, seconds }) => ({
      name,
      file,
      description,
      status,
      violations,
      sample,
      ...(error ? { error } : {}),
      seconds: Number(seconds.toFixed(3)),
    })),
  }
}

/** Grouped like lint's output: per section a title with its outcome, then its findings as `file:line rule level`. */
export function checkLines(report: CheckReport): string[] {
  const lines: string[] = []
  for (const section of report.sections) {
    const mark = section.findings.some((finding) => finding.level === 'error') ? 'FAIL' : section.findings.length > 0 ? 'warn' : 'ok'
    lines.push(`${mark.padEnd(4)}  ${section.title}: ${section.summary}`)
    for (const finding of section.findings) {
      const position = finding.column === undefined ? `${finding.line}` : `${finding.line}:${finding.column}`
      lines.push(`      ${finding.file}:${position} ${finding.rule} ${finding.level}`)
      finding.message.split('\n').forEach((line) => lines.push(`        ${line}`))
      finding.help.split('\n').forEach((line, index) => lines.push(`${index === 0 ? '        help: ' : '              '}${line}`))
    }
  }
  const { errors, warnings } = findingCounts(report.findings)
  lines.push('')
  lines.push(`check ${report.ok ? 'passed' : 'failed'}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}.`)
  return lines
}
