import { statSync } from 'node:fs'
import path from 'node:path'

/** The names Prisma 7 looks for in a folder, in its order (our copy, for releases whose @prisma/config has no finder). */
const EXTENSIONS = ['.js', '.ts', '.mjs', '.cjs', '.mts', '.cts']
const CANDIDATES = [
  'prisma7.config',
  path.join('.config', 'prisma7'),
  'prisma.config',
  path.join('.config', 'prisma'),
  path.join('.config', 'prisma.config'),
].flatMap((base) => EXTENSIONS.map((extension) => `${base}${extension}`))

/** The config file Prisma would pick in this folder, or undefined. */
export function configFileIn(dir: string): string | undefined {
  return CANDIDATES.map((name) => path.join(dir, name)).find((file) => statSync(file, { throwIfNoEntry: false })?.isFile() ?? false)
}
