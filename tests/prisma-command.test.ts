import { spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { chooseSchemaEngine, findNativeSchemaEngine, OFFLINE_SCHEMA_ENGINE } from '../packages/prisma-migrate-kit/src/prisma/cli'
import { listMigrations } from '../packages/prisma-migrate-kit/src/prisma/migrations'
import { projectAt } from '../packages/prisma-migrate-kit/src/project'
import { childEnv, collect, runCli } from './helpers/cli'
import { createTestDatabase, type TestDatabase } from './helpers/database'
import { createTempProject, PACKAGE_ROOT, REPO_ROOT, type TempProject } from './helpers/project'
import { assertBuilt } from './helpers/schema-engine'

// `migrate-kit prisma <args…>`, the engine choice of runPrisma, and the README's one-line .env setup, each run for real.

const ONLY_INIT = (name: string) => /^\d{14}_init$/.test(name)

let db: TestDatabase
let project: TempProject

beforeAll(async () => {
  assertBuilt()
  db = await createTestDatabase('prisma_command')
  project = createTempProject({ migrations: ONLY_INIT })
})

afterAll(async () => {
  project?.remove()
  await db?.drop()
})

describe('migrate-kit prisma <args…>', () => {
  test('--help explains the command', async () => {
    const result = await runCli(['prisma', '--help'], { cwd: project.root })
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('offline engine')
    expect(result.stdout).toContain('passed on untouched')
    expect(result.stdout).toContain('The exit code is Prisma')
  })

  test("help after a Prisma command is Prisma's, and needs no database", async () => {
    const result = await runCli(['prisma', 'migrate', 'dev', '--help'], { cwd: project.root })
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Create a migration from changes in Prisma schema')
    expect(result.stderr).not.toContain('embedded PostgreSQL')
  })

  test("passes every argument to Prisma and exits with Prisma's code", async () => {
    const env = { DATABASE_URL: db.url }
    const pending = await runCli(['prisma', 'migrate', 'status'], { cwd: project.root, env })
    expect(pending.code).toBe(1)
    expect(pending.stdout + pending.stderr).toContain(listMigrations(projectAt(project.root))[0].name)
    expect((await runCli(['prisma', 'migrate', 'deploy'], { cwd: project.root, env })).code).toBe(0)
    expect((await runCli(['prisma', 'migrate', 'status'], { cwd: project.root, env })).code).toBe(0)
    // Options after the subcommand are Prisma's, not ours (--script, --exit-code, -v).
    // The project holds only init, the schema the whole story: Prisma's exit code 2 is "there is a difference".
    const diff = await runCli(
      ['prisma', 'migrate', 'diff', '--from-config-datasource', '--to-schema', 'prisma/schema.prisma', '--script', '--exit-code'],
      { cwd: project.root, env },
    )
    expect({ code: diff.code, stderr: diff.stderr }).toEqual({ code: 2, stderr: expect.any(String) })
    expect(diff.stdout).toContain('ADD COLUMN     "display_name" TEXT NOT NULL')
  })

  test('-v reaches Prisma, which reports the offline engine wired in', async () => {
    const result = await runCli(['prisma', '-v'], { cwd: project.root })
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/Schema Engine\s+: schema-engine-cli [0-9a-f]{40} \(migrate-kit/)
  })

  test('generate needs no database and no DATABASE_URL (what `npm ci` runs through "prepare")', async () => {
    const result = await runCli(['prisma', 'generate'], { cwd: project.root })
    expect(result.code).toBe(0)
    expect(existsSync(project.path('prisma', 'generated', 'client', 'client.ts'))).toBe(true)
  })
})

describe('which schema engine runPrisma gives the CLI', () => {
  let fake: string

  /** A project whose node_modules looks like an install where Prisma's download of its native engine worked. */
  async function fakeInstall(): Promise<string> {
    const modules = path.join(fake, 'node_modules')
    const engines = path.join(modules, '@prisma', 'engines')
    mkdirSync(path.join(modules, 'prisma'), { recursive: true })
    writeFileSync(path.join(modules, 'prisma', 'package.json'), '{"name":"prisma","version":"0.0.0"}')
    mkdirSync(path.join(engines, 'dist'), { recursive: true })
    writeFileSync(path.join(engines, 'package.json'), '{"name":"@prisma/engines","version":"0.0.0","main":"dist/index.js"}')
    writeFileSync(path.join(engines, 'dist', 'index.js'), '')
    const realEngines = path.dirname(
      require.resolve('@prisma/engines/package.json', { paths: [path.dirname(require.resolve('prisma/package.json'))] }),
    )
    const getPlatform = path.dirname(require.resolve('@prisma/get-platform/package.json', { paths: [realEngines] }))
    symlinkSync(getPlatform, path.join(modules, '@prisma', 'get-platform'), 'dir')
    const platform = require(getPlatform) as { getBinaryTargetForCurrentPlatform(): Promise<string> }
    const binary = path.join(engines, `schema-engine-${await platform.getBinaryTargetForCurrentPlatform()}`)
    writeFileSync(binary, '')
    return binary
  }

  beforeAll(() => {
    fake = mkdtempSync(path.join(os.tmpdir(), 'mk-native-'))
  })

  afterAll(() => {
    rmSync(fake, { recursive: true, force: true })
  })

  test('the native engine where Prisma itself looks for it; ours when it is missing; a configured one always', async () => {
    const binary = await fakeInstall()
    const noVariable = { PRISMA_SCHEMA_ENGINE_BINARY: undefined }
    expect(await findNativeSchemaEngine(path.join(fake, 'node_modules', 'prisma'))).toBe(binary)
    expect(await chooseSchemaEngine(projectAt(fake), noVariable)).toEqual({ kind: 'native', path: binary })

    // What a config's `import 'prisma-migrate-kit/offline-engine'` left in this process is not the user's choice.
    const before = process.env.PRISMA_SCHEMA_ENGINE_BINARY
    process.env.PRISMA_SCHEMA_ENGINE_BINARY = OFFLINE_SCHEMA_ENGINE
    try {
      expect(await chooseSchemaEngine(projectAt(fake))).toEqual({ kind: 'native', path: binary })
    } finally {
      if (before === undefined) delete process.env.PRISMA_SCHEMA_ENGINE_BINARY
      else process.env.PRISMA_SCHEMA_ENGINE_BINARY = before
    }

    unlinkSync(binary)
    expect(await chooseSchemaEngine(projectAt(fake), noVariable)).toEqual({ kind: 'offline', path: OFFLINE_SCHEMA_ENGINE })

    expect(await chooseSchemaEngine(projectAt(fake), { PRISMA_SCHEMA_ENGINE_BINARY: 'engines/mine' })).toEqual({
      kind: 'configured',
      path: path.join(fake, 'engines', 'mine'),
    })
    writeFileSync(path.join(fake, '.env'), 'PRISMA_SCHEMA_ENGINE_BINARY=engines/from-dotenv\n')
    expect(await chooseSchemaEngine(projectAt(fake))).toMatchObject({ kind: 'configured', path: path.join(fake, 'engines', 'from-dotenv') })
  })
})

describe("the README's .env line", () => {
  test('makes a plain `npx prisma migrate status` work in a project that installed prisma-migrate-kit', async () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8')
    const line = /^\s*(PRISMA_SCHEMA_ENGINE_BINARY=node_modules\/prisma-migrate-kit\/bin\/schema-engine\.js)\s*$/m.exec(readme)?.[1]
    expect(line).toBeDefined()

    // node_modules as `npm install prisma-migrate-kit` leaves it: prisma, its bin, dotenv, and the package itself.
    const user = mkdtempSync(path.join(os.tmpdir(), 'mk-readme-'))
    const fresh = await createTestDatabase('prisma_command_readme')
    try {
      const modules = path.join(user, 'node_modules')
      mkdirSync(path.join(modules, '.bin'), { recursive: true })
      for (const name of ['prisma', 'dotenv']) symlinkSync(path.join(REPO_ROOT, 'node_modules', name), path.join(modules, name), 'dir')
      symlinkSync(path.join('..', 'prisma', 'build', 'index.js'), path.join(modules, '.bin', 'prisma'))
      symlinkSync(PACKAGE_ROOT, path.join(modules, 'prisma-migrate-kit'), 'dir')
      writeFileSync(path.join(user, 'package.json'), '{"name":"readme-user","private":true}')
      writeFileSync(path.join(user, 'prisma.config.ts'), readFileSync(project.path('prisma.config.ts')))
      mkdirSync(path.join(user, 'prisma'))
      writeFileSync(path.join(user, 'prisma', 'schema.prisma'), readFileSync(project.path('prisma', 'schema.prisma')))
      cpSync(project.path('prisma', 'migrations'), path.join(user, 'prisma', 'migrations'), { recursive: true })
      writeFileSync(path.join(user, '.env'), `${line}\nDATABASE_URL=${fresh.url}\n`)

      // childEnv: no DATABASE_URL or PRISMA_SCHEMA_ENGINE_BINARY from the test run; only the .env speaks.
      const child = spawn('npx', ['prisma', 'migrate', 'status'], { cwd: user, env: childEnv({ CHECKPOINT_DISABLE: '1' }) })
      const result = await collect(child)
      expect(result.stderr).not.toContain('binaries.prisma.sh')
      // Only the engine can tell that the fresh database lacks init: exit 1, and the migration named.
      expect(result.code).toBe(1)
      expect(result.stdout).toContain('Following migration have not yet been applied')
      expect(result.stdout).toContain(listMigrations(projectAt(user))[0].name)
    } finally {
      rmSync(user, { recursive: true, force: true })
      await fresh.drop()
    }
  })
})
