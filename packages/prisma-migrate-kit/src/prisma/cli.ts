import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import dotenv from 'dotenv'
import { scrubEnvironmentSecrets } from '../db/url'
import { StepFailedError, UsageError } from '../errors'
import type { Project } from '../project'
import { ENGINE_VARIABLE, OFFLINE_SCHEMA_ENGINE } from '../offline-engine'
import { assertSupportedPrisma, PRISMA_SUPPORT } from './support'
import { packageVersion } from '../version'

/**
 * The one place that runs the real Prisma CLI. It wires the schema engine: Prisma's native binary when it is
 * installed, otherwise our drop-in (bin/schema-engine.js, Prisma's WebAssembly engine), so that every command works
 * with no network but the npm registry. It also turns off the CLI's calls home (update check, telemetry).
 */

/** Our drop-in engine (its one owner is offline-engine.ts, which a project's prisma.config.ts may import too). */
export { OFFLINE_SCHEMA_ENGINE }

export interface PrismaRunOptions {
  /** DATABASE_URL for the CLI (and for prisma.config.ts); inherited from this process when not given. */
  databaseUrl?: string
  /** Extra environment for the CLI; `undefined` removes a variable. */
  env?: Record<string, string | undefined>
  /** `pipe` (default) captures the output; `inherit` gives the CLI this terminal (its prompts, its colours). */
  stdio?: 'pipe' | 'inherit'
  /** A temporary folder the CLI works in: removed by the CLI itself if this process dies (kill -9) while it runs. */
  removeWhenOrphaned?: string
}

/**
 * Preloaded into the CLI and every Node process it starts (the schema engine): each dies within a fraction of a second
 * of its parent, so a migrate-kit killed with -9 leaves no Prisma applying migrations as an orphan.
 */
export const DIE_WITH_PARENT = path.resolve(__dirname, '..', '..', 'bin', 'die-with-parent.js')

export interface PrismaResult {
  /** Prisma's exit code (128 + signal number when it was killed). */
  code: number
  /** Exactly what Prisma printed (a diff script stays byte for byte); empty with stdio 'inherit'. */
  stdout: string
  /** Scrubbed of the database password; empty with stdio 'inherit'. */
  stderr: string
  /** Which schema engine the CLI was given. */
  engine: SchemaEngineChoice
}

export type SchemaEngineChoice = { kind: 'native'; path: string } | { kind: 'offline'; path: string } | { kind: 'configured'; path: string }

/** node_modules/prisma of the project, or the one this package depends on. */
export function prismaPackageDir(project: Pick<Project, 'root'>): string {
  for (const from of [project.root, __dirname]) {
    try {
      return path.dirname(require.resolve('prisma/package.json', { paths: [from] }))
    } catch {
      // not installed there: try the next place
    }
  }
  throw new UsageError('the Prisma CLI is not installed (no node_modules/prisma in the project or next to migrate-kit)', {
    hint: `Install it: npm install --save-dev --save-exact prisma@${PRISMA_SUPPORT.recommended}`,
  })
}

export function prismaCliEntry(project: Project): string {
  const prismaDir = prismaPackageDir(project)
  assertSupportedPrisma(prismaDir, packageVersion())
  const entry = path.join(prismaDir, 'build', 'index.js')
  if (!existsSync(entry)) {
    throw new UsageError(`the Prisma CLI at ${path.dirname(path.dirname(entry))} has no build/index.js`, {
      hint: `Reinstall it: npm install --save-dev --save-exact prisma@${PRISMA_SUPPORT.recommended}`,
    })
  }
  return entry
}

let binaryTarget: Promise<string | undefined> | undefined

/**
 * Prisma names its native engine `schema-engine-<binary target>` (debian-openssl-3.0.x, …) and computes the target
 * with @prisma/get-platform; we ask the copy that @prisma/engines itself uses.
 */
function currentBinaryTarget(enginesDir: string): Promise<string | undefined> {
  binaryTarget ??= (async () => {
    try {
      const load = createRequire(path.join(enginesDir, 'package.json'))
      const platform = load('@prisma/get-platform') as { getBinaryTargetForCurrentPlatform(): Promise<string> }
      return await platform.getBinaryTargetForCurrentPlatform()
    } catch {
      return undefined
    }
  })()
  return binaryTarget
}

/**
 * Where the Prisma CLI itself looks for its native engine (prisma's build/cli.js, `resolveBinary`): in
 * @prisma/engines, then next to the CLI's package, its node_modules, and a runtime folder. Undefined when none is
 * there, which is what happens when the download at install time could not reach Prisma's servers.
 */
export async function findNativeSchemaEngine(prismaDir: string): Promise<string | undefined> {
  let enginesDir: string
  try {
    enginesDir = path.dirname(path.dirname(require.resolve('@prisma/engines', { paths: [prismaDir] })))
  } catch {
    return undefined
  }
  const target = await currentBinaryTarget(enginesDir)
  if (!target) return undefined
  const name = `schema-engine-${target}${process.platform === 'win32' ? '.exe' : ''}`
  return [enginesDir, prismaDir, path.dirname(prismaDir), path.join(prismaDir, 'runtime')]
    .map((dir) => path.join(dir, name))
    .find((file) => existsSync(file))
}

/** The project's .env as prisma.config.ts will load it (read only: this process's environment is left alone). */
function projectEnvFile(project: Project): Record<string, string> {
  const envFile = path.join(project.root, '.env')
  return existsSync(envFile) ? dotenv.parse(readFileSync(envFile)) : {}
}

/** A PRISMA_SCHEMA_ENGINE_BINARY already chosen by the caller, the environment, or the project's .env wins. */
function configuredEngine(project: Project, env: Record<string, string | undefined>): string | undefined {
  if (ENGINE_VARIABLE in env) return env[ENGINE_VARIABLE] || undefined
  // The offline engine a config's `import 'prisma-migrate-kit/offline-engine'` set while we read the config is not a
  // choice of the user's: a native engine installed since still wins.
  if (process.env[ENGINE_VARIABLE] && process.env[ENGINE_VARIABLE] !== OFFLINE_SCHEMA_ENGINE) return process.env[ENGINE_VARIABLE]
  return projectEnvFile(project)[ENGINE_VARIABLE] || undefined
}

/** Every connection URL the CLI may have seen (environment and .env): their passwords are cut from its messages. */
function scrubConnectionSecrets(text: string, project: Project, env: NodeJS.ProcessEnv): string {
  return scrubEnvironmentSecrets(text, { ...projectEnvFile(project), ...env })
}

export async function chooseSchemaEngine(project: Project, env: Record<string, string | undefined> = {}): Promise<SchemaEngineChoice> {
  const configured = configuredEngine(project, env)
  if (configured) return { kind: 'configured', path: path.resolve(project.root, configured) }
  const native = await findNativeSchemaEngine(prismaPackageDir(project))
  if (native) return { kind: 'native', path: native }
  return { kind: 'offline', path: OFFLINE_SCHEMA_ENGINE }
}

/** The environment the CLI runs with: ours, the caller's additions, the engine, and no calls home. */
async function prismaEnv(project: Project, options: PrismaRunOptions): Promise<{ env: NodeJS.ProcessEnv; engine: SchemaEngineChoice }> {
  const extra = options.env ?? {}
  const engine = await chooseSchemaEngine(project, extra)
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key]
    else env[key] = value
  }
  if (options.databaseUrl !== undefined) env.DATABASE_URL = options.databaseUrl
  if (engine.kind === 'offline') env[ENGINE_VARIABLE] = engine.path
  env.NODE_OPTIONS = [env.NODE_OPTIONS, `--require ${JSON.stringify(DIE_WITH_PARENT)}`].filter(Boolean).join(' ')
  if (options.removeWhenOrphaned) env.MIGRATE_KIT_REMOVE_WHEN_ORPHANED = options.removeWhenOrphaned
  // Checkpoint is Prisma's update check and telemetry; behind a firewall it only adds a timeout.
  env.CHECKPOINT_DISABLE = '1'
  env.PRISMA_HIDE_UPDATE_MESSAGE = '1'
  return { env, engine }
}

/** Commands (first one or two words) that take Prisma's `--config` and `--schema` flags. */
const TAKES_CONFIG = new Set(['migrate', 'db', 'generate', 'validate', 'format'])
const TAKES_SCHEMA = new Set([
  'migrate dev',
  'migrate deploy',
  'migrate status',
  'migrate resolve',
  'migrate reset',
  'db push',
  'db pull',
  'generate',
  'validate',
  'format',
])

/**
 * The project's choice of files made explicit for Prisma: its config file (found from a subfolder, or given with
 * --config) and a --schema override, unless the arguments already say.
 */
export function withProjectFlags(project: Project, args: string[]): string[] {
  const command = args[0] ?? ''
  const pair = `${command} ${args[1] ?? ''}`
  const has = (flag: string) => args.some((arg) => arg === flag || arg.startsWith(`${flag}=`))
  const extra: string[] = []
  if (project.configFile && TAKES_CONFIG.has(command) && !has('--config')) extra.push('--config', project.configFile)
  if (project.schemaFromFlag && (TAKES_SCHEMA.has(command) || TAKES_SCHEMA.has(pair)) && !has('--schema'))
    extra.push('--schema', project.schemaPath)
  return [...args, ...extra]
}

/**
 * Runs `prisma <args>` in the project folder, with the project's config and schema flags, and returns its exit code
 * and output; never throws for a non-zero exit.
 */
export async function runPrisma(project: Project, args: string[], options: PrismaRunOptions = {}): Promise<PrismaResult> {
  const entry = prismaCliEntry(project)
  args = withProjectFlags(project, args)
  const { env, engine } = await prismaEnv(project, options)
  const inherit = options.stdio === 'inherit'
  const child = spawn(process.execPath, [entry, ...args], {
    cwd: project.root,
    env,
    stdio: inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', (error) =>
      reject(
        new StepFailedError(`could not start the Prisma CLI (${process.execPath} ${entry}): ${error.message}`, {
          hint: 'Check that Node.js can run and that node_modules/prisma is intact (npm ci).',
          cause: error,
        }),
      ),
    )
    child.on('close', (exitCode, signal) => resolve(exitCode ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0)))
  })
  // stdout is data (a diff script, a schema) and is returned untouched; stderr is messages and may echo a URL.
  return { code, stdout, stderr: scrubConnectionSecrets(stderr, project, env), engine }
}
