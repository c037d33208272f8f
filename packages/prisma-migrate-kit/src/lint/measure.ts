import type { Finding } from './engine'
import { showTable, type TableRef } from './nodes'
import { sizeSentence, sizedLevel, type TableSize } from './table-size'

/** Sizes of the tables findings name, read from a database; undefined for a table it does not have. */
export type TableSizeLookup = (table: TableRef) => TableSize | undefined

/** Reads the sizes of the given tables (one query), for lintProject's `sizes` option. */
export type TableSizeReader = (tables: TableRef[]) => Promise<TableSizeLookup>

/** The tables whose size would set a finding's level. */
export function sizedTables(findings: Finding[]): TableRef[] {
  return findings.flatMap((finding) => (finding.sized ? [finding.sized.table] : []))
}

/**
 * A finding about work on every row says how many rows that is, and its level follows the size: a rewrite of a
 * small table is a warning, of a large one an error (thresholds: table-size.ts). A table the database does not have
 * (created by a migration not applied there) keeps the rule's level.
 */
export function measureFindings(findings: Finding[], sizeOf: TableSizeLookup): Finding[] {
  return findings.map((finding) => {
    const size = finding.sized && sizeOf(finding.sized.table)
    if (!finding.sized || !size) return finding
    return {
      ...finding,
      level: sizedLevel(finding.level, size),
      message: finding.message + sizeSentence(showTable(finding.sized.table), finding.sized.work, size),
      sized: { ...finding.sized, size },
    }
  })
}
