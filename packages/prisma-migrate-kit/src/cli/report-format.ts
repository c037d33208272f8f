import path from 'node:path'
import { UsageError } from '../errors'
import { META_RULES, RULES, type Finding } from '../lint'
import { REPORT_FORMATS, githubAnnotations, gitlabCodeQuality, isReportFormat, sarifLog, type ReportFormat } from '../lint/report-formats'
import { repositoryRoot } from '../init/workflow'
import { packageVersion } from '../version'
import { printJson, type CliIO } from './io'

export interface FormatFlags {
  json?: boolean
  format?: string
}

/** The flag's help line, one text for `lint` and `check`. */
export const FORMAT_FLAG_HELP =
  'text (default), json, sarif (GitHub code scanning), github (annotations in a workflow), gitlab (Code Quality report)'

/** `--format x`, or `--json` (which is `--format json`); refused when unknown or when the two disagree. */
export function chooseFormat(flags: FormatFlags): ReportFormat {
  const format = flags.format ?? (flags.json ? 'json' : 'text')
  if (!isReportFormat(format)) {
    throw new UsageError(`--format must be one of ${REPORT_FORMATS.join(', ')}, not "${format}"`)
  }
  if (flags.json && format !== 'json') throw new UsageError(`--json and --format ${format} ask for two formats: give one`)
  return format
}

/**
 * The project root as a path inside its git repository (`apps/api/`), '' at the top or outside any repository: CI
 * tools resolve file paths against the repository root, not against the folder the command ran in.
 */
export function repositoryPrefix(projectRoot: string): string {
  const root = repositoryRoot(projectRoot)
  const relative = root === undefined ? '' : path.relative(root, path.resolve(projectRoot)).split(path.sep).join('/')
  return relative === '' ? '' : `${relative}/`
}

/** Prints findings in a CI format (sarif, github, gitlab); text and json stay with each command's own report. */
export function printCiFormat(io: CliIO, format: Exclude<ReportFormat, 'text' | 'json'>, findings: Finding[], projectRoot: string): void {
  const pathPrefix = repositoryPrefix(projectRoot)
  if (format === 'github') {
    for (const line of githubAnnotations(findings, { pathPrefix })) io.out(line)
    return
  }
  if (format === 'gitlab') {
    printJson(io, gitlabCodeQuality(findings, { pathPrefix }))
    return
  }
  const catalogue = [...RULES, ...META_RULES].map(({ name, level, summary }) => ({ name, level, summary }))
  printJson(io, sarifLog(findings, { pathPrefix, catalogue, toolVersion: packageVersion() }))
}
