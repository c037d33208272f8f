import { createHash } from 'node:crypto'
import type { Finding } from './engine'
import type { Level } from './rule'

/**
 * Findings in the formats CI tools read, shared by `lint` and `check`: SARIF 2.1.0 (GitHub code scanning and other
 * SARIF viewers), GitHub workflow commands (annotations on the migration's lines in a pull request) and GitLab's Code
 * Quality report. Each names files relative to the repository root, which is what those tools resolve against.
 */
export const REPORT_FORMATS = ['text', 'json', 'sarif', 'github', 'gitlab'] as const
export type ReportFormat = (typeof REPORT_FORMATS)[number]

export function isReportFormat(value: string): value is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(value)
}

export interface RuleDescription {
  name: string
  level: Level
  summary: string
}

export interface FormatOptions {
  /** The project root relative to the repository root, with a trailing slash ('' when they are the same folder). */
  pathPrefix: string
  /** Rules to describe in SARIF (lint's catalogue); a finding of a rule not in it is described by its name. */
  catalogue: readonly RuleDescription[]
  toolVersion: string
}

const INFORMATION_URI = 'https://www.npmjs.com/package/prisma-migrate-kit'

/** The finding's text for tools that show one message: what happens, then what to do. */
function fullText(finding: Finding): string {
  return `${finding.message}\n\nHow to fix it:\n${finding.help}`
}

/**
 * A fingerprint that survives lines moving (rule, file, message, and which occurrence of those it is), as SARIF's
 * partialFingerprints and GitLab's fingerprint expect: the same finding in the next pipeline is recognised as known.
 */
function fingerprints(findings: Finding[], pathPrefix: string): string[] {
  const seen = new Map<string, number>()
  return findings.map((finding) => {
    const identity = `${finding.rule}\u0000${pathPrefix}${finding.file}\u0000${finding.message}`
    const occurrence = seen.get(identity) ?? 0
    seen.set(identity, occurrence + 1)
    return createHash('sha256').update(`${identity}\u0000${occurrence}`).digest('hex').slice(0, 32)
  })
}

/** SARIF 2.1.0: one run of the migrate-kit driver, with the rules the results name. */
export function sarifLog(findings: Finding[], options: FormatOptions): object {
  const described = new Map(options.catalogue.map((rule) => [rule.name, rule]))
  const ruleIds = [...new Set(findings.map((finding) => finding.rule))].sort()
  const rules = ruleIds.map((id) => {
    const rule = described.get(id)
    return {
      id,
      name: id,
      shortDescription: { text: rule?.summary ?? id },
      defaultConfiguration: { level: rule?.level ?? 'error' },
      helpUri: `${INFORMATION_URI}#migration-lint`,
    }
  })
  const prints = fingerprints(findings, options.pathPrefix)
  const results = findings.map((finding, index) => ({
    ruleId: finding.rule,
    ruleIndex: ruleIds.indexOf(finding.rule),
    level: finding.level,
    message: { text: fullText(finding) },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: encodeURI(`${options.pathPrefix}${finding.file}`), uriBaseId: '%SRCROOT%' },
          region: { startLine: finding.line, ...(finding.column === undefined ? {} : { startColumn: finding.column }) },
        },
      },
    ],
    partialFingerprints: { 'migrateKitFinding/v1': prints[index] },
  }))
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'migrate-kit', version: options.toolVersion, informationUri: INFORMATION_URI, rules } },
        results,
        columnKind: 'unicodeCodePoints',
      },
    ],
  }
}

/** GitHub workflow commands' escaping: the message loses no line; a property's value cannot end the property. */
function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C')
}

/** `::error file=…,line=…,title=…::message`: GitHub Actions shows each on the line of the pull request's diff. */
export function githubAnnotations(findings: Finding[], options: Pick<FormatOptions, 'pathPrefix'>): string[] {
  return findings.map((finding) => {
    const properties = [
      `file=${escapeProperty(`${options.pathPrefix}${finding.file}`)}`,
      `line=${finding.line}`,
      ...(finding.column === undefined ? [] : [`col=${finding.column}`]),
      `title=${escapeProperty(`migrate-kit ${finding.rule}`)}`,
    ]
    return `::${finding.level} ${properties.join(',')}::${escapeData(fullText(finding))}`
  })
}

/** GitLab's severities: an error blocks the change, a warning is worth a look. */
const GITLAB_SEVERITY: Record<Level, 'critical' | 'minor'> = { error: 'critical', warning: 'minor' }

/** GitLab Code Quality (the Code Climate subset GitLab reads): shown in the merge request's widget and diff. */
export function gitlabCodeQuality(findings: Finding[], options: Pick<FormatOptions, 'pathPrefix'>): object[] {
  const prints = fingerprints(findings, options.pathPrefix)
  return findings.map((finding, index) => ({
    type: 'issue',
    check_name: finding.rule,
    description: `${finding.rule}: ${finding.message}`,
    content: { body: finding.help },
    categories: ['Bug Risk'],
    severity: GITLAB_SEVERITY[finding.level],
    fingerprint: prints[index],
    location: { path: `${options.pathPrefix}${finding.file}`, lines: { begin: finding.line } },
  }))
}
