import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

/** Rules of the code base that a reviewer would otherwise have to remember. */

const SRC = path.join(__dirname, '../packages/prisma-migrate-kit/src')

/** The source files a file imports at run time (`import type` left out: it is gone once compiled). */
function runtimeImports(file: string, text: string, known: Set<string>): string[] {
  const found: string[] = []
  for (const match of text.matchAll(/^(?:import|export)(?!\s+type\b)[^'"]*?from\s+'(\.[^']+)'/gm)) {
    const base = path.normalize(path.join(path.dirname(file), match[1]))
    const target = [`${base}.ts`, path.join(base, 'index.ts')].find((candidate) => known.has(candidate))
    if (target) found.push(target)
  }
  return found
}

/** Every import cycle between files (strongly connected groups of more than one file). */
function importCycles(graph: Map<string, string[]>): string[][] {
  let counter = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const cycles: string[][] = []
  const visit = (file: string): void => {
    index.set(file, counter)
    low.set(file, counter++)
    stack.push(file)
    onStack.add(file)
    for (const next of graph.get(file) ?? []) {
      if (!index.has(next)) {
        visit(next)
        low.set(file, Math.min(low.get(file)!, low.get(next)!))
      } else if (onStack.has(next)) low.set(file, Math.min(low.get(file)!, index.get(next)!))
    }
    if (low.get(file) !== index.get(file)) return
    const group: string[] = []
    for (let member = stack.pop()!; ; member = stack.pop()!) {
      onStack.delete(member)
      group.push(member)
      if (member === file) break
    }
    if (group.length > 1) cycles.push(group.sort())
  }
  for (const file of graph.keys()) if (!index.has(file)) visit(file)
  return cycles
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(full)
    return entry.name.endsWith('.ts') ? [full] : []
  })
}

describe('the repository', () => {
  const files = sourceFiles(SRC).map((file) => ({ file: path.relative(SRC, file), text: readFileSync(file, 'utf8') }))

  test('finds the sources it checks', () => {
    expect(files.length).toBeGreaterThan(50)
    expect(files.map((f) => f.file)).toContain(path.join('backfill', 'store.ts'))
  })

  test('only backfill/store.ts writes the backfill state row (migrate_kit.backfills)', () => {
    const write = /(UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+(\$\{T\.backfills\}|migrate_kit\.backfills\b)/g
    const writers = files.flatMap(({ file, text }) => [...text.matchAll(write)].map((match) => `${file}: ${match[0]}`))
    expect(writers.filter((writer) => !writer.startsWith(path.join('backfill', 'store.ts')))).toEqual([])
    // The rule sees the writes it is about: store.ts has them.
    expect(writers.filter((writer) => writer.startsWith(path.join('backfill', 'store.ts'))).length).toBeGreaterThanOrEqual(5)
  })

  const known = new Set(files.map((f) => f.file))
  const graph = new Map(files.map(({ file, text }) => [file, runtimeImports(file, text, known)]))

  test('no two source files import each other, however indirectly', () => {
    expect([...graph.values()].flat().length).toBeGreaterThan(200) // the imports are seen
    expect(
      importCycles(
        new Map([
          ['a.ts', ['b.ts']],
          ['b.ts', ['c.ts']],
          ['c.ts', ['a.ts']],
        ]),
      ),
    ).toEqual([['a.ts', 'b.ts', 'c.ts']])
    expect(importCycles(graph)).toEqual([])
  })

  test('the lint engine and the SQL helpers stand alone: nothing of deploy, checks, rollbacks, backfills or the CLI', () => {
    const layered = files.filter(({ file }) => file.startsWith(`lint${path.sep}`) || file.startsWith(`sql${path.sep}`))
    expect(layered.length).toBeGreaterThan(10)
    const upward = layered.flatMap(({ file }) =>
      (graph.get(file) ?? [])
        .filter((target) => /^(deploy|checks|rollback|backfill|cli|init|status)[\\/]/.test(target))
        .map((target) => `${file} -> ${target}`),
    )
    expect(upward).toEqual([])
  })
})
