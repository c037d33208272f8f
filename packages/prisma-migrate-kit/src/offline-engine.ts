import { existsSync, readdirSync } from 'node:fs'
import path from 'node:path'

/**
 * `import 'prisma-migrate-kit/offline-engine'` as the first line of prisma.config.ts: plain `npx prisma migrate …`
 * then works where Prisma could not download its native schema engine (no network but the npm registry). Prisma
 * loads its config before it looks for the engine, so setting PRISMA_SCHEMA_ENGINE_BINARY here is in time. A project
 * whose native engine is installed keeps it, and a PRISMA_SCHEMA_ENGINE_BINARY already set (environment or .env,
 * which the config's dotenv reads first) wins.
 */

/** The variable Prisma's CLI reads for the schema engine to spawn. */
export const ENGINE_VARIABLE = 'PRISMA_SCHEMA_ENGINE_BINARY'

/** Set by `migrate-kit deploy` for the Prisma it starts: the lock_timeout of the offline engine's session, in ms. */
export const LOCK_TIMEOUT_VARIABLE = 'MIGRATE_KIT_LOCK_TIMEOUT_MS'

/** The application_name of the offline engine's session: how deploy finds it in pg_stat_activity. */
export const ENGINE_APPLICATION_NAME = 'migrate-kit-schema-engine'

/** The offline engine: a Node program around Prisma's WebAssembly engine (src/prisma/engine). */
export const OFFLINE_SCHEMA_ENGINE = path.resolve(__dirname, '..', 'bin', 'schema-engine.js')

export type EngineWiring = 'configured' | 'native' | 'offline' | 'no-prisma'

function packageDir(name: string, from: string): string | undefined {
  try {
    return path.dirname(require.resolve(`${name}/package.json`, { paths: [from] }))
  } catch {
    return undefined
  }
}

/**
 * Whether a native `schema-engine-<binary target>` is where the CLI looks (in @prisma/engines, next to prisma). Decided
 * without waiting: a config file's import cannot await Prisma's platform detection, and a download that failed
 * leaves no such file at all.
 */
export function hasNativeSchemaEngine(prismaDir: string): boolean {
  const enginesDir = packageDir('@prisma/engines', prismaDir)
  const places = [enginesDir, prismaDir, path.dirname(prismaDir), path.join(prismaDir, 'runtime')].filter(
    (dir): dir is string => dir !== undefined,
  )
  return places.some(
    (dir) =>
      existsSync(dir) &&
      readdirSync(dir).some((entry) => /^schema-engine-[\w.-]+?(\.exe)?$/.test(entry) && !/\.(gz|tmp|sha256)$/.test(entry)),
  )
}

/** Sets PRISMA_SCHEMA_ENGINE_BINARY to the offline engine when nothing else will run; says what it decided. */
export function wireOfflineEngine(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): EngineWiring {
  if (env[ENGINE_VARIABLE]) return 'configured'
  const prismaDir = packageDir('prisma', cwd)
  if (!prismaDir) return 'no-prisma'
  if (hasNativeSchemaEngine(prismaDir)) return 'native'
  env[ENGINE_VARIABLE] = OFFLINE_SCHEMA_ENGINE
  return 'offline'
}
