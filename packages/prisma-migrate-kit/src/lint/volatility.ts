import type { Node } from 'libpg-query'
import { descendants, nodeAs, names } from './nodes'

/**
 * How often PostgreSQL evaluates an expression, which decides whether `ADD COLUMN … DEFAULT <expr>` rewrites the
 * table on PostgreSQL 11+: a non-volatile default (a constant, `now()`, `CURRENT_TIMESTAMP`) is evaluated once and
 * stored in the catalog; a volatile one (`random()`, `gen_random_uuid()`, `nextval()`) is evaluated per row, which
 * means writing every row.
 */
export type Volatility = 'constant' | 'stable' | 'volatile' | 'unknown'

/** Built-in functions that return a new value on every call (pg_proc.provolatile = 'v'), the ones seen in schemas. */
const VOLATILE_FUNCTIONS = new Set([
  'random',
  'random_normal',
  'setseed',
  'gen_random_uuid',
  'gen_random_bytes',
  'uuid_generate_v1',
  'uuid_generate_v1mc',
  'uuid_generate_v4',
  'uuidv4',
  'uuidv7',
  'clock_timestamp',
  'timeofday',
  'nextval',
  'txid_current',
  'pg_current_xact_id',
])

/** Built-in functions that are immutable or stable: evaluated once for a default. `now()` is STABLE, not volatile. */
const NON_VOLATILE_FUNCTIONS = new Set([
  'now',
  'transaction_timestamp',
  'statement_timestamp',
  'current_date',
  'lower',
  'upper',
  'trim',
  'btrim',
  'concat',
  'concat_ws',
  'length',
  'abs',
  'round',
  'floor',
  'ceil',
  'make_date',
  'make_interval',
  'to_jsonb',
  'to_json',
  'jsonb_build_object',
  'jsonb_build_array',
  'json_build_object',
  'json_build_array',
  'array_fill',
  'current_setting',
  'current_user',
  'current_schema',
  'md5',
])

export interface VolatilityVerdict {
  volatility: Volatility
  /** The call that decided it, for messages: `gen_random_uuid()`. */
  culprit?: string
}

/** The most volatile thing an expression calls (`unknown` for a function these lists do not know). */
export function volatilityOf(expression: Node | undefined): VolatilityVerdict {
  const rank: Record<Volatility, number> = { constant: 0, stable: 1, unknown: 2, volatile: 3 }
  let verdict: VolatilityVerdict = { volatility: 'constant' }
  const raise = (volatility: Volatility, culprit: string) => {
    if (rank[volatility] > rank[verdict.volatility]) verdict = { volatility, culprit }
  }
  for (const node of descendants(expression)) {
    if (nodeAs(node, 'SQLValueFunction')) raise('stable', 'CURRENT_TIMESTAMP')
    const call = nodeAs(node, 'FuncCall')
    if (!call) continue
    const parts = names(call.funcname)
    const name = parts[parts.length - 1]?.toLowerCase() ?? ''
    const culprit = `${parts.join('.')}()`
    if (VOLATILE_FUNCTIONS.has(name)) raise('volatile', culprit)
    else if (NON_VOLATILE_FUNCTIONS.has(name)) raise('stable', culprit)
    else raise('unknown', culprit)
  }
  return verdict
}
