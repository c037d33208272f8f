/**
 * Cache key patterns of `invalidate`. A pattern is a Redis key or a Redis glob (`db:user:*`); `{column}` is replaced by
 * the value of that column in each changed row (`user:{id}` deletes exactly the keys of the rows the batch changed,
 * with UNLINK and no SCAN). `{{` and `}}` are literal braces (Redis Cluster hash tags).
 */

import { valueText } from '../text'

export type PatternPart = { literal: string } | { column: string }

export interface CachePattern {
  source: string
  parts: PatternPart[]
  /** The columns it names, in order of first use. */
  columns: string[]
  /** Whether it matches many keys (SCAN + UNLINK) rather than naming one (UNLINK). */
  glob: boolean
}

const GLOB = /[*?[\\]/

export function parsePattern(source: string): CachePattern {
  const parts: PatternPart[] = []
  let literal = ''
  for (let index = 0; index < source.length; index++) {
    const char = source[index]
    const next = source[index + 1]
    if ((char === '{' && next === '{') || (char === '}' && next === '}')) {
      literal += char
      index++
    } else if (char === '{') {
      const close = source.indexOf('}', index)
      const column = close === -1 ? '' : source.slice(index + 1, close)
      if (close === -1 || column === '' || column.includes('{')) {
        throw new Error(`"${source}": unclosed or empty {column} placeholder (write {{ for a literal brace)`)
      }
      if (literal) parts.push({ literal })
      literal = ''
      parts.push({ column })
      index = close
    } else if (char === '}') {
      throw new Error(`"${source}": a lone } (write }} for a literal brace)`)
    } else {
      literal += char
    }
  }
  if (literal) parts.push({ literal })
  const columns = [...new Set(parts.flatMap((part) => ('column' in part ? [part.column] : [])))]
  const glob = parts.some((part) => 'literal' in part && GLOB.test(part.literal))
  return { source, parts, columns, glob }
}

export function parsePatterns(sources: readonly string[]): CachePattern[] {
  return sources.map(parsePattern)
}

/** A value put into a glob must match itself only. */
function escapeGlob(value: string): string {
  return value.replace(/[*?[\]\\]/g, '\\$&')
}

function expand(pattern: CachePattern, row: Record<string, unknown> | undefined): string {
  return pattern.parts
    .map((part) => {
      if ('literal' in part) return part.literal
      const value = keyText(row?.[part.column])
      return pattern.glob ? escapeGlob(value) : value
    })
    .join('')
}

/** What one batch asks Redis to drop: exact keys (UNLINK) and globs (SCAN MATCH + UNLINK), without duplicates. */
export interface Invalidation {
  keys: string[]
  patterns: string[]
}

export function invalidationFor(patterns: CachePattern[], rows: ReadonlyArray<Record<string, unknown>>): Invalidation {
  const keys = new Set<string>()
  const globs = new Set<string>()
  for (const pattern of patterns) {
    const targets = pattern.columns.length === 0 ? [undefined] : rows
    for (const row of targets) (pattern.glob ? globs : keys).add(expand(pattern, row))
  }
  return { keys: [...keys], patterns: [...globs] }
}

/** Columns a batch must return from the rows it changed, to expand the placeholders. */
export function placeholderColumns(patterns: CachePattern[]): string[] {
  return [...new Set(patterns.flatMap((pattern) => pattern.columns))]
}

/** A column's value as it goes into a cache key; NULL as ''. */
function keyText(value: unknown): string {
  return value === null || value === undefined ? '' : valueText(value)
}
