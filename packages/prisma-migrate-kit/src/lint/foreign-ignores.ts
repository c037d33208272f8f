import { commentBody, type SqlComment } from './parser'

/**
 * Acknowledgements written for other PostgreSQL migration linters, honoured like `migrate-kit-ignore` so a team that
 * moves over keeps them: `-- squawk-ignore <rule>[, <rule>]`, `-- squawk-ignore-file <rule>`, `-- pgfence-ignore`
 * (every rule of the statement) and `-- pgfence-ignore: <rule>[, <rule>]`. Their rule names map to ours here; a name
 * with no counterpart, or a comment that ends up acknowledging nothing, is reported rather than silently kept.
 */
export type ForeignLinter = 'squawk' | 'pgfence'

/** Every rule of the statement (a bare `-- pgfence-ignore`). */
export const ALL_RULES = '*'

/** squawk's rule names (squawk 2.x's docs) → ours; rules it has that we do not are left out. */
const SQUAWK_RULES: Record<string, string> = {
  'adding-field-with-default': 'adding-field-with-default',
  'adding-foreign-key-constraint': 'adding-foreign-key-constraint',
  'adding-not-nullable-field': 'adding-not-nullable-field',
  'adding-primary-key-constraint': 'adding-primary-key-constraint',
  'adding-required-field': 'adding-required-field',
  'adding-serial-primary-key-field': 'adding-primary-key-constraint',
  'ban-alter-domain-with-add-constraint': 'adding-domain-constraint',
  'ban-concurrent-index-creation-in-transaction': 'ban-concurrently-in-transaction',
  'ban-drop-column': 'ban-drop-column',
  'ban-drop-database': 'ban-drop-database',
  'ban-drop-table': 'ban-drop-table',
  'ban-truncate-cascade': 'ban-truncate',
  'ban-uncommitted-transaction': 'transaction-control',
  'ban-disable-trigger': 'changing-trigger',
  'ban-drop-constraint': 'dropping-constraint',
  'ban-drop-schema': 'ban-drop-schema',
  'ban-drop-trigger': 'changing-trigger',
  'changing-column-type': 'changing-column-type',
  'constraint-missing-not-valid': 'constraint-missing-not-valid',
  'disallowed-unique-constraint': 'disallowed-unique-constraint',
  'renaming-column': 'renaming-column',
  'renaming-table': 'renaming-table',
  'require-concurrent-index-creation': 'require-concurrent-index-creation',
  'require-concurrent-index-deletion': 'require-concurrent-index-deletion',
  'require-concurrent-partition-detach': 'require-concurrent-partition-detach',
  'require-concurrent-reindex': 'require-concurrent-reindex',
  'prefer-repack': 'ban-vacuum-full-and-cluster',
  'require-timeout-settings': 'require-lock-timeout',
  'transaction-nesting': 'transaction-control',
}

/** pgfence's rule ids (@flvmnt/pgfence's analyzer) → ours. */
const PGFENCE_RULES: Record<string, string> = {
  'add-column-constant-default': 'adding-field-with-default',
  'add-column-default-pre-pg11': 'adding-field-with-default',
  'add-column-non-constant-default': 'adding-field-with-default',
  'add-column-stored-generated': 'adding-field-with-default',
  'add-column-serial': 'adding-field-with-default',
  'add-column-not-null-no-default': 'adding-required-field',
  'add-constraint-check-no-not-valid': 'constraint-missing-not-valid',
  'not-valid-validate-same-tx': 'constraint-missing-not-valid',
  'add-constraint-exclude': 'adding-exclusion-constraint',
  'add-constraint-fk-no-not-valid': 'adding-foreign-key-constraint',
  'add-constraint-unique': 'disallowed-unique-constraint',
  'add-pk-without-using-index': 'adding-primary-key-constraint',
  'add-pk-using-index': 'adding-primary-key-constraint',
  'alter-column-set-not-null': 'adding-not-nullable-field',
  'alter-column-type': 'changing-column-type',
  'concurrent-in-transaction': 'ban-concurrently-in-transaction',
  'create-index-not-concurrent': 'require-concurrent-index-creation',
  'drop-index-not-concurrent': 'require-concurrent-index-deletion',
  'delete-without-where': 'ban-full-table-write',
  'update-in-migration': 'ban-full-table-write',
  'drop-column': 'ban-drop-column',
  'drop-table': 'ban-drop-table',
  'missing-lock-timeout': 'require-lock-timeout',
  'rename-column': 'renaming-column',
  'rename-table': 'renaming-table',
  truncate: 'ban-truncate',
  'truncate-cascade': 'ban-truncate',
  'vacuum-full': 'ban-vacuum-full-and-cluster',
}

const MAPPINGS: Record<ForeignLinter, Record<string, string>> = { squawk: SQUAWK_RULES, pgfence: PGFENCE_RULES }

/** Texts that may start a foreign directive: files without any are not scanned for them. */
export const FOREIGN_MARKERS = ['squawk-ignore', 'pgfence-ignore'] as const

export interface ForeignIgnore {
  linter: ForeignLinter
  scope: 'statement' | 'file'
  /** Our rule names the comment acknowledges (ALL_RULES for every one). */
  rules: string[]
  /** Its rule names that have no counterpart here. */
  unmapped: string[]
  /** The comment as written, for messages. */
  text: string
  /** Byte offset of the comment. */
  offset: number
}

/** Reads `-- squawk-ignore …` or `-- pgfence-ignore …`; undefined for any other comment. */
export function parseForeignIgnore(comment: SqlComment): ForeignIgnore | undefined {
  const body = commentBody(comment)
  const match = /^(squawk|pgfence)-ignore(-file)?(?=$|[\s:])\s*:?\s*(.*)$/s.exec(body)
  if (!match) return undefined
  const linter = match[1] as ForeignLinter
  const scope = match[2] ? 'file' : 'statement'
  if (scope === 'file' && linter === 'pgfence') return undefined
  const names = match[3].split(/[\s,]+/).filter(Boolean)
  const text = `${linter}-ignore${match[2] ?? ''}${names.length > 0 ? ` ${names.join(', ')}` : ''}`
  if (names.length === 0) {
    // pgfence: every rule of the statement; squawk: a bare squawk-ignore names nothing, which squawk rejects too.
    return { linter, scope, rules: linter === 'pgfence' ? [ALL_RULES] : [], unmapped: [], text, offset: comment.start }
  }
  const mapping = MAPPINGS[linter]
  const rules = [...new Set(names.flatMap((name) => mapping[name] ?? []))]
  const unmapped = names.filter((name) => mapping[name] === undefined)
  return { linter, scope, rules, unmapped, text, offset: comment.start }
}
