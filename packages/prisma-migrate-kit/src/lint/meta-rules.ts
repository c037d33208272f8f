import type { Level } from './rule'

/** Findings the engine itself reports, about the file rather than about a statement's effect. */
export interface MetaRule {
  name: string
  level: Level
  summary: string
}

export const SYNTAX_ERROR: MetaRule = {
  name: 'syntax-error',
  level: 'error',
  summary: 'PostgreSQL cannot parse the statement: the migration would fail when applied.',
}

export const INVALID_IGNORE: MetaRule = {
  name: 'invalid-ignore-comment',
  level: 'warning',
  summary: 'A migrate-kit-ignore comment without a reason, or naming a rule that does not exist: it is not applied.',
}

export const UNLINTED_CODE: MetaRule = {
  name: 'unlinted-code',
  level: 'warning',
  summary: 'SQL inside a DO block that the linter cannot see (EXECUTE of a string built at run time, another language): review it by hand.',
}

export const OUTDATED_BASELINE: MetaRule = {
  name: 'outdated-baseline',
  level: 'warning',
  summary:
    'An entry of the lint baseline accepts more findings than the migration it names has (or names no migration): the file should be written again.',
}

export const META_RULES: readonly MetaRule[] = [SYNTAX_ERROR, INVALID_IGNORE, UNLINTED_CODE, OUTDATED_BASELINE]
