import type { A_Const, Node } from 'libpg-query'
import { names, nodeAs } from './nodes'

type Constant = number | string | boolean

/** A literal's value; protobuf leaves zero values out (`ival: {}` is 0, `boolval: {}` is false). */
function constantValue(constant: A_Const | undefined): Constant | undefined {
  if (!constant || constant.isnull) return undefined
  if (constant.ival !== undefined) return constant.ival.ival ?? 0
  if (constant.fval !== undefined) return Number(constant.fval.fval ?? 0)
  if (constant.boolval !== undefined) return constant.boolval.boolval ?? false
  if (constant.sval !== undefined) return constant.sval.sval ?? ''
  return undefined
}

function literal(node: Node | undefined): Constant | undefined {
  const cast = nodeAs(node, 'TypeCast')
  if (cast) {
    const value = literal(cast.arg)
    const type = names(cast.typeName?.names).pop()
    // 'true'::boolean, 't'::bool
    if (typeof value === 'string' && (type === 'bool' || type === 'boolean'))
      return ['true', 't', 'yes', 'on', '1'].includes(value.toLowerCase())
    return value
  }
  return constantValue(nodeAs(node, 'A_Const'))
}

const COMPARISONS: Record<string, (a: Constant, b: Constant) => boolean> = {
  '=': (a, b) => a === b,
  '<>': (a, b) => a !== b,
  '!=': (a, b) => a !== b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
}

/** A condition that holds for every row whatever its values: `TRUE`, `1 = 1`, `'a' <> 'b'`, `NOT FALSE`, `x OR TRUE`. */
export function isAlwaysTrue(node: Node | undefined): boolean {
  return evaluate(node) === true
}

function evaluate(node: Node | undefined): boolean | undefined {
  const value = literal(node)
  if (typeof value === 'boolean') return value
  const bool = nodeAs(node, 'BoolExpr')
  if (bool) {
    const args = (bool.args ?? []).map(evaluate)
    if (bool.boolop === 'NOT_EXPR') return args[0] === undefined ? undefined : !args[0]
    if (bool.boolop === 'AND_EXPR') return args.every((arg) => arg === true) ? true : args.some((arg) => arg === false) ? false : undefined
    if (bool.boolop === 'OR_EXPR') return args.some((arg) => arg === true) ? true : args.every((arg) => arg === false) ? false : undefined
  }
  const expression = nodeAs(node, 'A_Expr')
  if (expression?.kind === 'AEXPR_OP') {
    const operator = names(expression.name).pop() ?? ''
    const left = literal(expression.lexpr)
    const right = literal(expression.rexpr)
    const compare = COMPARISONS[operator]
    if (compare && left !== undefined && right !== undefined && typeof left === typeof right) return compare(left, right)
  }
  return undefined
}

/**
 * The names a condition's column references are qualified with (`u.id` → `u`), outside subqueries; `''` for an
 * unqualified column. What tells a filter on the target (`u.active`) from a join condition (`u.orgId = o.id`).
 */
export function qualifiers(node: Node): Set<string> {
  const found = new Set<string>()
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit)
    if (value === null || typeof value !== 'object') return
    // A subquery's columns belong to its own FROM.
    if ('SubLink' in value) return
    const fields = names(nodeAs(value as Node, 'ColumnRef')?.fields)
    if (fields.length > 0) {
      found.add(fields.length > 1 ? (fields[fields.length - 2] ?? '') : '')
      return
    }
    Object.values(value).forEach(visit)
  }
  visit(node)
  return found
}
