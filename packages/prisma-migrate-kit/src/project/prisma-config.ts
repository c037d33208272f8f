import { createRequire } from 'node:module'
import path from 'node:path'
import { errorMessage, UsageError } from '../errors'
import { prismaPackageDir } from '../prisma/cli'
import { configFileIn } from './config-names'
import { ProjectConfigError } from './errors'

/**
 * Reads a project's Prisma config the way Prisma does: with the `@prisma/config` of the project's own `prisma`
 * (its discovery of the file, its loader, its resolution of relative paths), never a parser of ours.
 */

/** What we use of a loaded config; paths are absolute (Prisma resolves them from the config file's folder). */
export interface PrismaConfigRead {
  file: string
  schema?: string
  migrationsPath?: string
  datasourceUrl?: string
  /** The variable `env()` read for the datasource URL when it was not set (the URL is then unknown). */
  unsetUrlVariable?: string
  /** `tables.external` and `enums.external`: what Prisma's engine is told to leave alone. */
  externalTables: string[]
  externalEnums: string[]
}

type LoadError = { _tag: 'ConfigFileNotFound' } | { _tag: 'ConfigLoadError' | 'ConfigFileSyntaxError' | 'UnknownError'; error: Error }

interface LoadedConfig {
  schema?: string
  migrations?: { path?: string }
  datasource?: { url?: string }
  tables?: { external?: string[] }
  enums?: { external?: string[] }
}

/** The part of @prisma/config we call; every Prisma 7 release exports loadConfigFromFile, later ones also the finder. */
interface PrismaConfigModule {
  loadConfigFromFile(input: {
    configFile?: string
    configRoot?: string
  }): Promise<{ config: LoadedConfig; error?: undefined } | { config?: undefined; error: LoadError }>
  findPrismaConfigFile?: (configRoot?: string) => string | null
}

export function prismaConfigModule(projectRoot: string): PrismaConfigModule {
  const prismaDir = prismaPackageDir({ root: projectRoot })
  try {
    return createRequire(path.join(prismaDir, 'package.json'))('@prisma/config') as PrismaConfigModule
  } catch (error) {
    throw new UsageError(`the Prisma CLI at ${prismaDir} has no @prisma/config to read prisma.config.ts with (${errorMessage(error)})`, {
      hint: 'Reinstall it: npm install --save-dev --save-exact prisma@7.10.1 (a Prisma 7 release).',
    })
  }
}

/**
 * Walks up from `cwd` to the first folder holding a Prisma config file (the project root), asking the installed
 * Prisma's own finder in each folder when it has one.
 */
export function findConfigFile(cwd: string): string | undefined {
  let finder: (dir: string) => string | undefined = configFileIn
  try {
    const found = prismaConfigModule(cwd).findPrismaConfigFile
    if (found) finder = (dir) => found(dir) ?? undefined
  } catch {
    // No Prisma installed above cwd: our list finds the file, and the loader says what is missing.
  }
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const found = finder(dir)
    if (found) return found
    if (path.dirname(dir) === dir) return undefined
  }
}

const ENV_ERROR = /Cannot resolve environment variable: ([^.\s]+)\.?/

/** A value no database answers to: only there so that `env('X')` resolves while we read the paths. */
function placeholderUrl(variable: string): string {
  return `postgresql://migrate-kit-unset@unset.invalid:5432/${variable}`
}

function describeLoadError(error: LoadError): string {
  if (error._tag === 'ConfigFileNotFound') return 'the file was not found'
  const message = errorMessage(error.error).split('\n')[0]
  // Prisma's message for a wrong shape is its whole type schema: say what is expected instead.
  return error._tag === 'ConfigFileSyntaxError'
    ? 'its default export is not a Prisma config (export default defineConfig({ … }) from prisma/config)'
    : (message ?? error._tag)
}

/**
 * Loads `file` with Prisma's loader. A config that reads an unset variable through `env()` (DATABASE_URL in CI, or
 * with the embedded database) is loaded again with that variable set to a placeholder: its paths are still what
 * Prisma would use, and the URL is reported as unset.
 */
export async function readPrismaConfig(file: string, projectRoot: string): Promise<PrismaConfigRead> {
  const prismaConfig = prismaConfigModule(projectRoot)
  const placeholders = new Map<string, string>()
  // An empty value also fails `env()`; it is put back as it was, for openDatabase to refuse.
  const before = new Map<string, string | undefined>()
  try {
    for (;;) {
      const loaded = await prismaConfig.loadConfigFromFile({ configFile: file, configRoot: path.dirname(file) })
      if (loaded.error) {
        const unset = loaded.error._tag === 'ConfigFileNotFound' ? undefined : ENV_ERROR.exec(errorMessage(loaded.error.error))?.[1]
        if (unset && !placeholders.has(unset) && placeholders.size < 20) {
          placeholders.set(unset, placeholderUrl(unset))
          before.set(unset, process.env[unset])
          process.env[unset] = placeholderUrl(unset)
          continue
        }
        throw new ProjectConfigError(`cannot read the Prisma config ${file}: ${describeLoadError(loaded.error)}`, file, {
          hint: 'Fix the file (`npx migrate-kit prisma validate` shows what Prisma makes of it), or point at another one with --config <file>.',
          cause: loaded.error._tag === 'ConfigFileNotFound' ? undefined : loaded.error.error,
        })
      }
      const { config } = loaded
      const url = config.datasource?.url
      const unsetUrlVariable = [...placeholders].find(([, placeholder]) => placeholder === url)?.[0]
      return {
        file,
        schema: config.schema,
        migrationsPath: config.migrations?.path,
        datasourceUrl: unsetUrlVariable ? undefined : url,
        unsetUrlVariable,
        externalTables: config.tables?.external ?? [],
        externalEnums: config.enums?.external ?? [],
      }
    }
  } finally {
    for (const [variable, value] of before) {
      if (value === undefined) delete process.env[variable]
      else process.env[variable] = value
    }
  }
}
