import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

/** Rules of the code base that a reviewer would otherwise have to remember. */

const SRC = path.join(__dirname, '../packages/prisma-migrate-kit/src')

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
})
