import type { Node } from 'libpg-query'
import { descendants, names, nodeAs, stringConstant } from './nodes'

/** The two timeouts a migration sets for itself. */
export type TimeoutName = 'lock_timeout' | 'statement_timeout'

export interface TimeoutSetting {
  name: TimeoutName
  /** Milliseconds; 0 turns the timeout off. Undefined for a value PostgreSQL's units do not read (left unjudged). */
  ms: number | undefined
  /** As written: `'5s'`, `0`, `DEFAULT`. */
  text: string
  /** The value's node location inside the statement, for the finding's line. */
  location?: number
}

/** PostgreSQL's time units for settings whose bare number means milliseconds (guc.c). */
const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1_000, min: 60_000, h: 3_600_000, d: 86_400_000 }

/** `'5s'` → 5000, `5000` → 5000, `'1.5min'` → 90000; undefined when PostgreSQL would reject it. */
export function settingMs(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  if (!match) return undefined
  const unit = match[2] === '' ? 1 : UNIT_MS[match[2]]
  return unit === undefined ? undefined : Number(match[1]) * unit
}

/**
 * The timeouts a statement sets: `SET [LOCAL] lock_timeout = …`, `RESET`, `SET … TO DEFAULT`, and
 * `SELECT set_config('lock_timeout', '5s', false)`. RESET and DEFAULT give the server's default, taken as off (0),
 * which is PostgreSQL's own default for both.
 */
export function timeoutSettings(node: Node): TimeoutSetting[] {
  const set = nodeAs(node, 'VariableSetStmt')
  if (set?.kind === 'VAR_RESET_ALL') {
    return (['lock_timeout', 'statement_timeout'] as const).map((name) => ({ name, ms: 0, text: 'RESET ALL' }))
  }
  if (set && isTimeout(set.name)) {
    if (set.kind !== 'VAR_SET_VALUE') return [{ name: set.name, ms: 0, text: set.kind === 'VAR_RESET' ? 'RESET' : 'DEFAULT' }]
    const constant = nodeAs(set.args?.[0], 'A_Const')
    const text = constant?.sval?.sval ?? String(constant?.ival?.ival ?? constant?.fval?.fval ?? 0)
    return [{ name: set.name, ms: settingMs(text), text, ...(constant?.location === undefined ? {} : { location: constant.location }) }]
  }
  const found: TimeoutSetting[] = []
  for (const item of descendants(nodeAs(node, 'SelectStmt')?.targetList)) {
    const call = nodeAs(item, 'FuncCall')
    if (names(call?.funcname).pop() !== 'set_config') continue
    const [nameNode, valueNode] = call?.args ?? []
    const name = nameNode && stringConstant(nameNode)
    if (!isTimeout(name)) continue
    const text = (valueNode && stringConstant(valueNode)) ?? '0'
    found.push({ name, ms: settingMs(text), text, ...(call?.location === undefined ? {} : { location: call.location }) })
  }
  return found
}

function isTimeout(name: string | undefined): name is TimeoutName {
  return name === 'lock_timeout' || name === 'statement_timeout'
}
