import path from 'node:path'

/** The module whose import wires the offline schema engine into plain `npx prisma` (see ../offline-engine.ts). */
export const OFFLINE_ENGINE_MODULE = 'prisma-migrate-kit/offline-engine'

const ALREADY_WIRED = new RegExp(`['"]${OFFLINE_ENGINE_MODULE.replace(/[/-]/g, '\\$&')}['"]`)
// dotenv first: a PRISMA_SCHEMA_ENGINE_BINARY set in .env must be seen before the offline engine is chosen.
const DOTENV_LINE =
  /^\s*(import\s+['"]dotenv\/config['"]|require\(\s*['"]dotenv(\/config)?['"]\s*\)|import\s+\*?\s*\w*\s*(as\s+\w+\s+)?from\s+['"]dotenv['"])/

export interface ConfigLineChange {
  text: string
  /** 1-based line of the added import. */
  line: number
  statement: string
}

/**
 * The Prisma config with the offline engine's import added, or undefined when the file already has it. The line goes
 * after the config's dotenv import (if any), else first; a .cjs config gets a require instead.
 */
export function addOfflineEngineImport(source: string, file: string): ConfigLineChange | undefined {
  if (ALREADY_WIRED.test(source)) return undefined
  const statement =
    path.extname(file) === '.cjs'
      ? `require('${OFFLINE_ENGINE_MODULE}') // prisma-migrate-kit: Prisma's schema engine works offline when the native one is missing`
      : `import '${OFFLINE_ENGINE_MODULE}' // prisma-migrate-kit: Prisma's schema engine works offline when the native one is missing`
  const newline = source.includes('\r\n') ? '\r\n' : '\n'
  const lines = source.split(/\r?\n/)
  const dotenv = lines.findIndex((line) => DOTENV_LINE.test(line))
  let at = dotenv + 1
  // Never above a shebang or a 'use strict' directive.
  if (at === 0) while (at < lines.length && /^(#!|\s*['"]use strict['"])/.test(lines[at])) at += 1
  lines.splice(at, 0, statement)
  return { text: lines.join(newline), line: at + 1, statement }
}
