/** The .gitignore lines init adds, each with what it keeps out of git. */
export const IGNORED = [{ entry: '.migrate-kit/', why: 'the embedded PostgreSQL and local caches of prisma-migrate-kit' }]

function covers(line: string, entry: string): boolean {
  const bare = entry.replace(/\/$/, '')
  const trimmed = line
    .trim()
    .replace(/^\/|^\*\*\//, '')
    .replace(/\/(\*\*?)?$/, '')
  return trimmed === bare
}

/** The .gitignore (undefined: none yet) with the entries it lacks appended, or undefined when it has them all. */
export function addIgnoreEntries(source: string | undefined, entries = IGNORED): { text: string; added: string[] } | undefined {
  const lines = (source ?? '').split(/\r?\n/)
  const missing = entries.filter(({ entry }) => !lines.some((line) => !line.trim().startsWith('#') && covers(line, entry)))
  if (missing.length === 0) return undefined
  const newline = source?.includes('\r\n') ? '\r\n' : '\n'
  const head = source === undefined || source === '' ? '' : source.endsWith('\n') ? source : `${source}${newline}`
  const block = missing.flatMap(({ entry, why }) => [`# ${why}`, entry])
  return { text: `${head}${head ? newline : ''}${block.join(newline)}${newline}`, added: missing.map(({ entry }) => entry) }
}
