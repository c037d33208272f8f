import type { LoadedBackfill } from '../backfill/loader'
import type { Effect, EffectKind } from '../lint'
import type { BackfillColumns } from './backfill-columns'
import { namesMigration, type HistoryEntry } from './history'

/** A backfill as the gate matches it: the file, and the columns it touches. */
export interface GateBackfill {
  loaded: LoadedBackfill
  columns: BackfillColumns
}

/** Why a migration waits for a backfill. */
export type WaitReason =
  { kind: 'before' } | { kind: 'columns'; effect: EffectKind; description: string; line: number; table: string; columns: string[] }

export interface Dependency {
  backfill: string
  reasons: WaitReason[]
}

/** Changes that fail, or lose data, if a backfill over those columns has not finished: removing and tightening. */
const COLUMN_KINDS: ReadonlySet<EffectKind> = new Set<EffectKind>([
  'drop_column',
  'rename_column',
  'alter_type',
  'set_not_null',
  'drop_default',
  'add_check',
  'add_foreign_key',
  'add_unique',
  'add_primary_key',
  'add_exclusion',
  'validate_constraint',
])
/** Changes to a whole table: every backfill over it is concerned. */
const TABLE_KINDS: ReadonlySet<EffectKind> = new Set<EffectKind>(['drop_table', 'rename_table', 'truncate'])

/**
 * The backfills a migration waits for: those whose `before:` names it, and those over a column it drops or tightens
 * (a column the backfill writes, or reads in its update or where). The second rule is what catches a contract nobody
 * remembered to name in `before:`. Only tightening effects count (a CHECK on a column the migration adds, or a
 * widening type change, holds nothing up), and only backfills that can run before the migration: one whose `after:`
 * is this migration or a later one cannot be waited for.
 */
export function dependenciesOf(entry: HistoryEntry, history: HistoryEntry[], backfills: GateBackfill[]): Dependency[] {
  const dependencies: Dependency[] = []
  for (const backfill of backfills) {
    const reasons: WaitReason[] = []
    const { before, after } = backfill.loaded
    if (before !== undefined && namesMigration(before, entry.migration.name)) reasons.push({ kind: 'before' })
    if (runsBefore(after, entry, history)) {
      for (const effect of entry.analysis.effects) {
        const touched = touchedColumns(effect, backfill.columns)
        if (touched) {
          reasons.push({
            kind: 'columns',
            effect: effect.kind,
            description: effect.description,
            line: effect.line,
            table: effect.table ?? backfill.columns.table,
            columns: touched,
          })
        }
      }
    }
    if (reasons.length > 0) dependencies.push({ backfill: backfill.loaded.name, reasons })
  }
  return dependencies
}

/** A backfill without `after:` runs any time; one whose `after:` names no migration on disk never runs, so never gates. */
function runsBefore(after: string | undefined, entry: HistoryEntry, history: HistoryEntry[]): boolean {
  if (after === undefined) return true
  const afterEntry = history.find((candidate) => namesMigration(after, candidate.migration.name))
  return afterEntry !== undefined && afterEntry.index < entry.index
}

/** The backfill's columns the effect drops or tightens; undefined when it touches none of them. */
function touchedColumns(effect: Effect, columns: BackfillColumns): string[] | undefined {
  if (effect.table === undefined || (effect.phase !== 'contract' && effect.phase !== 'breaking')) return undefined
  const touched = new Set<string>()
  const onTable = (table: string) => sameTable(table, effect.table!)
  if (TABLE_KINDS.has(effect.kind)) {
    if (onTable(columns.table)) columns.writes.forEach((column) => touched.add(column))
    for (const read of columns.reads) if (onTable(read.table)) touched.add(read.column)
    return touched.size > 0 || onTable(columns.table) ? [...touched] : undefined
  }
  if (!COLUMN_KINDS.has(effect.kind)) return undefined
  const effectColumns = effect.columns ?? (effect.column === undefined ? [] : [effect.column])
  for (const column of effectColumns) {
    if (onTable(columns.table) && columns.writes.includes(column)) touched.add(column)
    if (columns.reads.some((read) => onTable(read.table) && read.column === column)) touched.add(column)
  }
  return touched.size > 0 ? [...touched] : undefined
}

/** `users` and `public.users` are the same table. */
function sameTable(a: string, b: string): boolean {
  const plain = (name: string) => (name.startsWith('public.') ? name.slice('public.'.length) : name)
  return plain(a) === plain(b)
}
