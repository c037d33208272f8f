import type { Level } from './rule'
import { formatBytes } from '../text'

/** What the database says about a table: the planner's row estimate and its size on disk with indexes and TOAST. */
export interface TableSize {
  /** pg_class.reltuples; undefined when the table was never vacuumed or analyzed (PostgreSQL says -1). */
  rows?: number
  /** pg_total_relation_size. */
  bytes: number
}

/** What a sized finding makes PostgreSQL do to every row: the work that grows with the table. */
export type TableWork = 'rewrite' | 'scan' | 'build' | 'write'

/**
 * The one place the size thresholds live (README "Sized by the real table" documents them). A table under both
 * small limits is a warning whatever the rule (a rewrite of 200 rows takes milliseconds); one over either large limit
 * is an error whatever the rule; in between the rule's own level stands.
 */
export const SIZE_THRESHOLDS = {
  smallRows: 10_000,
  smallBytes: 16 * 1024 * 1024,
  largeRows: 1_000_000,
  largeBytes: 1024 * 1024 * 1024,
} as const

export type SizeClass = 'small' | 'medium' | 'large'

export function sizeClass(size: TableSize): SizeClass {
  const { smallRows, smallBytes, largeRows, largeBytes } = SIZE_THRESHOLDS
  if ((size.rows ?? 0) >= largeRows || size.bytes >= largeBytes) return 'large'
  // Without a row estimate only the bytes speak; a table never analyzed is small only if its bytes say so.
  if ((size.rows === undefined || size.rows < smallRows) && size.bytes < smallBytes) return 'small'
  return 'medium'
}

export function sizedLevel(level: Level, size: TableSize): Level {
  const kind = sizeClass(size)
  return kind === 'small' ? 'warning' : kind === 'large' ? 'error' : level
}

const WORK_WORDS: Record<TableWork, string> = {
  rewrite: 'rewrites',
  scan: 'reads',
  build: 'indexes',
  write: 'writes',
}

/** `The statement rewrites all of "users": about 12.3 million rows, 4.1 GB (pg_class, planner estimate).` */
export function sizeSentence(table: string, work: TableWork, size: TableSize): string {
  const rows = size.rows === undefined ? 'rows not counted yet (never analyzed)' : `about ${countText(size.rows)}`
  return ` Here it ${WORK_WORDS[work]} all of ${table}: ${rows}, ${formatBytes(size.bytes)} (pg_class estimate, ${sizeClass(size)} table).`
}

function countText(rows: number): string {
  if (rows >= 1_000_000) return `${(rows / 1_000_000).toFixed(1)} million rows`
  if (rows >= 10_000) return `${Math.round(rows / 1000)} thousand rows`
  return `${Math.round(rows)} row${Math.round(rows) === 1 ? '' : 's'}`
}
