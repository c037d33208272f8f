/**
 * The `sql` tagged template of backfill files. Interpolations are never spliced into the text: each becomes a bound
 * parameter ($n) of whatever statement the fragment ends up in, so a value can never change the statement's shape.
 */
const SQL_FRAGMENT = Symbol.for('prisma-migrate-kit.sql')

/** A value that can be bound as a parameter, or a nested fragment that is inlined. */
export type SqlValue = string | number | bigint | boolean | null | Date | Buffer | SqlFragment | readonly SqlValue[]

export interface SqlFragment {
  readonly [SQL_FRAGMENT]: true
  readonly strings: readonly string[]
  readonly values: readonly SqlValue[]
}

export function sql(strings: TemplateStringsArray, ...values: SqlValue[]): SqlFragment {
  values.forEach((value, index) => {
    // Only reachable from plain JavaScript or a cast: TypeScript already refuses undefined.
    if (value === undefined) throw new TypeError(`sql\`…\`: interpolation ${index + 1} is undefined`)
  })
  return Object.freeze({ [SQL_FRAGMENT]: true as const, strings: Object.freeze([...strings]), values: Object.freeze([...values]) })
}

export function isSqlFragment(value: unknown): value is SqlFragment {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[SQL_FRAGMENT] === true
}

const PLACEHOLDER = Symbol.for('prisma-migrate-kit.placeholder')

/**
 * A part of a backfill only its developer can write (how to convert a value, which duplicate to keep), left by
 * `migrate-kit new --safe` where it cannot derive one. It is never run: the loader reports every backfill holding
 * one, so `check`, `deploy` and `backfill run` fail naming it until it is replaced by real SQL.
 */
export function placeholder(what: string): SqlFragment {
  if (typeof what !== 'string' || what.trim() === '') throw new TypeError('placeholder(what): say what to write in its place')
  return Object.freeze({
    [SQL_FRAGMENT]: true as const,
    strings: Object.freeze([`/* placeholder: ${what.replace(/\*\//g, '* /')} */`]),
    values: Object.freeze([]),
    [PLACEHOLDER]: what,
  })
}

/** What a placeholder asks for; undefined for real SQL. */
export function placeholderOf(value: unknown): string | undefined {
  if (!isSqlFragment(value)) return undefined
  const what = (value as unknown as Record<symbol, unknown>)[PLACEHOLDER]
  return typeof what === 'string' ? what : undefined
}

/** Where one labelled fragment sits in a statement's text, to point a PostgreSQL error back at the definition field. */
export interface FragmentSpan {
  label: string
  /** 0-based offsets into the statement text, end exclusive. */
  start: number
  end: number
}

/**
 * Builds one statement from fixed SQL and fragments, numbering parameters in order. The fixed SQL is ours (quoted
 * identifiers); fragments come from backfill files and only ever add parameters.
 */
export class StatementBuilder {
  private parts: string[] = []
  private length = 0
  readonly params: unknown[] = []
  readonly spans: FragmentSpan[] = []

  /** Appends trusted SQL text (identifiers already quoted). */
  text(text: string): this {
    this.parts.push(text)
    this.length += text.length
    return this
  }

  /** Binds values as the next parameters without text: for SQL that already says $1…$n (a deparsed expression). */
  reserve(values: readonly unknown[]): this {
    this.params.push(...values)
    return this
  }

  /** Appends `$n` bound to value. */
  param(value: unknown): this {
    this.params.push(value)
    return this.text(`$${this.params.length}`)
  }

  /** Appends a fragment from a definition, remembering where it is when label is given. */
  fragment(fragment: SqlFragment, label?: string): this {
    const start = this.length
    fragment.strings.forEach((piece, index) => {
      this.text(piece)
      if (index < fragment.values.length) {
        const value = fragment.values[index]
        if (isSqlFragment(value)) this.fragment(value)
        else this.param(value)
      }
    })
    if (label) this.spans.push({ label, start, end: this.length })
    return this
  }

  build(): { text: string; values: unknown[] } {
    return { text: this.parts.join(''), values: [...this.params] }
  }

  /** The span a 1-based PostgreSQL error position falls in. */
  spanAt(position: number): FragmentSpan | undefined {
    const offset = position - 1
    return this.spans.find((span) => offset >= span.start && offset < span.end)
  }
}

/** A fragment alone as a statement: what `tx.query(sql\`…\`)` and verify queries run. */
export function renderStatement(fragment: SqlFragment): { text: string; values: unknown[] } {
  return new StatementBuilder().fragment(fragment).build()
}

/** The fragment's text with $n placeholders, for messages. */
export function fragmentText(fragment: SqlFragment): string {
  return renderStatement(fragment).text
}
