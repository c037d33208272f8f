import { deparseSync, loadModule, parseSync } from 'pgsql-parser'

/** One `column = expression` of an update's SET list, the expression as SQL text (parameters stay $n). */
export interface Assignment {
  column: string
  expression: string
}

export interface SetList {
  /** Every column the SET list writes. */
  columns: string[]
  /**
   * Each assignment as a plain expression, so a dry run can compute the new values with a SELECT; undefined when one
   * of them has no such form (`(a, b) = (SELECT …)`, `a[1] = …`, `= DEFAULT`).
   */
  assignments?: Assignment[]
}

// The parse tree, narrowed to what is read here; pgsql-parser's own node types are a transitive dependency.
interface ResTargetNode {
  ResTarget: { name?: string; val?: Record<string, unknown>; indirection?: unknown[] }
}
interface ParsedUpdate {
  stmts: Array<{ stmt: { UpdateStmt?: { targetList?: ResTargetNode[] } } }>
}

let loaded: Promise<void> | undefined

/** Reads a SET list with PostgreSQL's own grammar; undefined when it does not parse (EXPLAIN then says why). */
export async function parseSetList(text: string): Promise<SetList | undefined> {
  loaded ??= loadModule()
  await loaded
  let parsed: ParsedUpdate
  try {
    parsed = parseSync(`UPDATE mk_t SET ${text}`) as unknown as ParsedUpdate
  } catch {
    return undefined
  }
  const targets = parsed.stmts.length === 1 ? parsed.stmts[0]?.stmt.UpdateStmt?.targetList : undefined
  if (!targets) return undefined
  const columns: string[] = []
  const assignments: Assignment[] = []
  let plain = true
  for (const { ResTarget: target } of targets) {
    if (!target.name) return undefined
    columns.push(target.name)
    const value = target.val
    if (!value || target.indirection?.length || 'MultiAssignRef' in value || 'SetToDefault' in value) {
      plain = false
      continue
    }
    try {
      assignments.push({ column: target.name, expression: deparseSync(value) })
    } catch {
      plain = false
    }
  }
  return { columns: [...new Set(columns)], assignments: plain ? assignments : undefined }
}
