import { ALL_RULES, FOREIGN_MARKERS, parseForeignIgnore, type ForeignIgnore } from './foreign-ignores'
import { commentBody, type SqlComment } from './parser'
import type { SourceText } from '../sql/source'

/** Files without this text have no ignore comments, so the engine skips scanning them for comments. */
export const IGNORE_MARKER = 'migrate-kit-ignore'

/** Whether the file may hold an ignore comment of ours or of another linter (else comments are not scanned). */
export function mayHoldIgnores(sql: string): boolean {
  return sql.includes(IGNORE_MARKER) || FOREIGN_MARKERS.some((marker) => sql.includes(marker))
}
const FILE_MARKER = 'migrate-kit-ignore-file'

/** `-- migrate-kit-ignore <rule>[, <rule>]: <reason>` or `-- migrate-kit-ignore-file <rule>: <reason>`. */
export interface IgnoreComment {
  scope: 'statement' | 'file'
  rules: string[]
  /** Empty when the comment gives none, which makes the comment invalid. */
  reason: string
  /** Byte offset of the comment. */
  offset: number
}

export function parseIgnoreComment(comment: SqlComment): IgnoreComment | undefined {
  const body = commentBody(comment)
  const scope = body.startsWith(FILE_MARKER) ? 'file' : body.startsWith(IGNORE_MARKER) ? 'statement' : undefined
  if (!scope) return undefined
  const rest = body.slice(scope === 'file' ? FILE_MARKER.length : IGNORE_MARKER.length)
  // `migrate-kit-ignored` or `migrate-kit-ignore-all` are other words, not this directive.
  if (rest !== '' && !/^[\s:]/.test(rest)) return undefined
  const colon = rest.indexOf(':')
  const list = colon === -1 ? rest : rest.slice(0, colon)
  const reason = colon === -1 ? '' : rest.slice(colon + 1).trim()
  const rules = list.split(/[\s,]+/).filter(Boolean)
  return { scope, rules, reason, offset: comment.start }
}

/** A span of the file that findings belong to: a parsed statement or an unparseable piece. */
export interface Unit {
  start: number
  end: number
}

/** Why a rule is acknowledged, and the other linter's comment it came from, if it did. */
export interface Acknowledgement {
  reason: string
  foreign?: ForeignIgnore
}

export interface Suppressions {
  /** Rules acknowledged for the whole file: rule → why. */
  file: Map<string, Acknowledgement>
  /** Rules acknowledged per unit (index into the units): rule → why (ALL_RULES: every rule of the unit). */
  units: Map<number, Map<string, Acknowledgement>>
  /** Ignore comments that are not applied, with why. */
  invalid: Array<{ offset: number; message: string }>
  /** The other linters' comments that were applied: each must end up acknowledging a finding, or it is reported. */
  foreign: ForeignIgnore[]
}

/** The acknowledgement covering a finding of `rule` in `unit`, if any: ours first, then the other linters'. */
export function acknowledgementOf(suppressions: Suppressions, rule: string, unit: number): Acknowledgement | undefined {
  const own = suppressions.units.get(unit)
  return suppressions.file.get(rule) ?? own?.get(rule) ?? own?.get(ALL_RULES)
}

/**
 * Which statement each ignore comment belongs to: the statement it sits inside; else the statement that ends on
 * the comment's line (`ALTER …; -- migrate-kit-ignore …`); else the next statement (the comment is on the lines
 * before it).
 */
function unitOf(comment: { offset: number }, units: Unit[], source: SourceText): number | undefined {
  const inside = units.findIndex((unit) => comment.offset >= unit.start && comment.offset < unit.end)
  if (inside !== -1) return inside
  const line = source.lineAt(comment.offset)
  const trailing = units.findLastIndex((unit) => unit.end <= comment.offset && source.lineAt(unit.end) === line)
  if (trailing !== -1) return trailing
  const next = units.findIndex((unit) => unit.start >= comment.offset)
  return next === -1 ? undefined : next
}

export function readSuppressions(comments: SqlComment[], units: Unit[], source: SourceText, knownRules: ReadonlySet<string>): Suppressions {
  const suppressions: Suppressions = { file: new Map(), units: new Map(), invalid: [], foreign: [] }
  for (const comment of comments) {
    const foreign = parseForeignIgnore(comment)
    if (foreign) {
      applyForeign(suppressions, foreign, foreign.scope === 'file' ? undefined : unitOf(foreign, units, source))
      continue
    }
    const directive = parseIgnoreComment(comment)
    if (!directive) continue
    const marker = directive.scope === 'file' ? FILE_MARKER : IGNORE_MARKER
    if (directive.rules.length === 0) {
      const message = `${marker} names no rule: write \`-- ${marker} <rule>: <reason>\`.`
      suppressions.invalid.push({ offset: directive.offset, message })
      continue
    }
    const unknown = directive.rules.filter((rule) => !knownRules.has(rule))
    if (unknown.length > 0) {
      suppressions.invalid.push({
        offset: directive.offset,
        message: `${marker} names unknown rule${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: nothing is ignored by it.`,
      })
      continue
    }
    if (directive.reason === '') {
      suppressions.invalid.push({
        offset: directive.offset,
        message:
          `${marker} ${directive.rules.join(', ')} gives no reason, so it is not applied: ` +
          `write \`-- ${marker} ${directive.rules.join(', ')}: <why this is safe here>\`.`,
      })
      continue
    }
    const unit = directive.scope === 'file' ? undefined : unitOf(directive, units, source)
    if (directive.scope === 'statement' && unit === undefined) {
      const message = `${marker} is followed by no statement: nothing is ignored by it.`
      suppressions.invalid.push({ offset: directive.offset, message })
      continue
    }
    const target = unit === undefined ? suppressions.file : ensure(suppressions.units, unit)
    for (const rule of directive.rules) target.set(rule, { reason: directive.reason })
  }
  return suppressions
}

/**
 * Another linter's comment acknowledges its mapped rules like ours would (a comment of ours for the same rule keeps
 * its own reason). One that maps to nothing, or is followed by no statement, is reported at once; the engine reports
 * the ones that end up acknowledging no finding.
 */
function applyForeign(suppressions: Suppressions, foreign: ForeignIgnore, unit: number | undefined): void {
  if (foreign.rules.length === 0 || (foreign.scope === 'statement' && unit === undefined)) {
    suppressions.invalid.push({ offset: foreign.offset, message: unmatchedForeign(foreign) })
    return
  }
  const target = unit === undefined ? suppressions.file : ensure(suppressions.units, unit)
  const reason = `acknowledged by -- ${foreign.text}`
  for (const rule of foreign.rules) if (!target.has(rule)) target.set(rule, { reason, foreign })
  suppressions.foreign.push(foreign)
}

/** What to say about another linter's comment that acknowledges nothing here. */
export function unmatchedForeign(foreign: ForeignIgnore): string {
  const unmapped =
    foreign.unmapped.length > 0
      ? ` (${foreign.unmapped.join(', ')}: no migrate-kit rule checks the same thing)`
      : foreign.rules.length === 0
        ? ' (it names no rule)'
        : ''
  return `-- ${foreign.text} acknowledges no finding of migrate-kit here${unmapped}: remove it, or name the migrate-kit rule with -- migrate-kit-ignore <rule>: <reason>.`
}

function ensure(map: Map<number, Map<string, Acknowledgement>>, key: number): Map<string, Acknowledgement> {
  let value = map.get(key)
  if (!value) {
    value = new Map()
    map.set(key, value)
  }
  return value
}
