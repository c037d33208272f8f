import { execFile } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import type { Command } from 'commander'
import { CliContext } from '../packages/prisma-migrate-kit/src/cli/context'
import { buildProgram } from '../packages/prisma-migrate-kit/src/cli/main'
import type { Project } from '../packages/prisma-migrate-kit/src/project'
import type { LoadProjectOptions } from '../packages/prisma-migrate-kit/src/project/load'
import { childEnv } from './helpers/cli'
import { createTempProject, PACKAGE_ROOT, REPO_ROOT, type TempProject } from './helpers/project'

// The library's reading of a project (loadProject, from the built package), on temporary projects, no database.
// It runs in a child Node process: Prisma's loader imports c12 with a dynamic import(), which Jest's CommonJS
// sandbox cannot run without --experimental-vm-modules.

interface Refusal {
  name: string
  message: string
  exitCode: number
  file?: string
  setting?: string
}

type Outcome = { project: Project; env: { DATABASE_URL?: string } } | { error: Refusal }

const LOADER = `
const { loadProject } = require(${JSON.stringify(path.join(PACKAGE_ROOT, 'dist', 'project', 'load.js'))})
loadProject(JSON.parse(process.argv[1])).then(
  (project) => console.log(JSON.stringify({ project, env: { DATABASE_URL: process.env.DATABASE_URL } })),
  (error) => console.log(JSON.stringify({ error: { name: error.name, message: error.message, exitCode: error.exitCode, file: error.file, setting: error.setting } })),
)`

async function load(options: LoadProjectOptions, env: Record<string, string | undefined> = {}): Promise<Outcome> {
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', LOADER, JSON.stringify(options)], { env: childEnv(env) })
  return JSON.parse(stdout) as Outcome
}

async function loadProject(options: LoadProjectOptions, env: Record<string, string | undefined> = {}): Promise<Project> {
  const outcome = await load(options, env)
  if ('error' in outcome) throw new Error(`expected a project, got ${outcome.error.name}: ${outcome.error.message}`)
  return outcome.project
}

const DATASOURCE = 'datasource db {\n  provider = "postgresql"\n}\n'
const config = (body: string) => `import { defineConfig, env } from 'prisma/config'\n\nexport default defineConfig({\n${body}\n})\n`

let project: TempProject

beforeEach(() => {
  project = createTempProject({ exampleApp: false })
})

afterEach(() => project.remove())

async function refusal(options: LoadProjectOptions): Promise<Refusal> {
  const outcome = await load(options)
  if (!('error' in outcome)) throw new Error(`expected a refusal, got the project ${JSON.stringify(outcome.project)}`)
  expect(outcome.error).toMatchObject({ name: 'ProjectConfigError', exitCode: 2 })
  return outcome.error
}

test('from a deep subfolder, the project is the folder of the config found walking up', async () => {
  project.write(
    'prisma.config.ts',
    config("  schema: 'db/schema.prisma',\n  migrations: { path: 'db/migrations' },\n  datasource: { url: env('DATABASE_URL') },"),
  )
  project.write('db/schema.prisma', DATASOURCE)
  project.write('db/migrations/20260101000000_init/migration.sql', 'SELECT 1;\n')
  mkdirSync(project.path('src', 'deep', 'er'), { recursive: true })

  const loaded = await loadProject({ cwd: project.path('src', 'deep', 'er') })
  expect(loaded).toMatchObject({
    root: project.root,
    configFile: project.path('prisma.config.ts'),
    schemaPath: project.path('db', 'schema.prisma'),
    migrationsDir: project.path('db', 'migrations'),
    rollbacksDir: project.path('rollbacks'),
    backfillsDir: project.path('backfills'),
    checksDir: project.path('db', 'checks'),
    stateDir: project.path('.migrate-kit'),
  })
})

test('an unset variable read by env() is reported as such and left unset; a set one is the URL', async () => {
  expect(await load({ cwd: project.root })).toEqual({
    project: expect.objectContaining({ datasource: { unsetVariable: 'DATABASE_URL' } }),
    env: {},
  })
  // An empty value is put back as it was, for openDatabase to refuse.
  expect(await load({ cwd: project.root }, { DATABASE_URL: '' })).toEqual({
    project: expect.objectContaining({ datasource: { unsetVariable: 'DATABASE_URL' } }),
    env: { DATABASE_URL: '' },
  })
  const url = 'postgresql://app@127.0.0.1:5432/app'
  expect((await loadProject({ cwd: project.root }, { DATABASE_URL: url })).datasource).toEqual({ url })
})

test('no migrations.path: the migrations folder is inside a folder schema, as Prisma puts it', async () => {
  project.write('prisma.config.ts', config("  schema: 'models',"))
  project.write('models/base.prisma', DATASOURCE)
  project.write('models/nested/user.prisma', 'model User {\n  id Int @id\n}\n')
  const loaded = await loadProject({ cwd: project.root })
  expect(loaded.schemaPath).toBe(project.path('models'))
  expect(loaded.migrationsDir).toBe(project.path('models', 'migrations'))
  expect(loaded.datasource).toEqual({})
})

test('with no config file, Prisma defaults: schema.prisma at the root of the nearest package', async () => {
  rmSync(project.path('prisma.config.ts'))
  rmSync(project.path('prisma'), { recursive: true })
  project.write('schema.prisma', DATASOURCE)
  mkdirSync(project.path('src'))
  const loaded = await loadProject({ cwd: project.path('src') })
  expect(loaded).toMatchObject({ root: project.root, schemaPath: project.path('schema.prisma'), migrationsDir: project.path('migrations') })
  expect(loaded.configFile).toBeUndefined()
})

test('--schema and --config are relative to the current folder; --config keeps the project where the command runs', async () => {
  project.write('alt/schema.prisma', DATASOURCE)
  project.write('ops/prisma.config.ts', config("  schema: '../alt/schema.prisma',\n  migrations: { path: '../alt/migrations' },"))
  project.write('alt/migrations/20260101000000_init/migration.sql', 'SELECT 1;\n')
  mkdirSync(project.path('src'))
  const bySchema = await loadProject({ cwd: project.path('src'), schema: '../alt/schema.prisma' })
  expect(bySchema).toMatchObject({
    schemaPath: project.path('alt', 'schema.prisma'),
    schemaFromFlag: true,
    migrationsDir: project.path('prisma', 'migrations'),
  })
  const byConfig = await loadProject({ cwd: project.path('src'), config: '../ops/prisma.config.ts' })
  expect(byConfig).toMatchObject({
    root: project.root,
    configFile: project.path('ops', 'prisma.config.ts'),
    migrationsDir: project.path('alt', 'migrations'),
  })
})

test('package.json "migrateKit" moves our folders; a value that is not a path is refused, naming the setting', async () => {
  const manifest = (settings: unknown) => writeFileSync(project.path('package.json'), JSON.stringify({ name: 'app', migrateKit: settings }))
  manifest({ rollbacks: 'db/rollbacks', backfills: 'jobs', checks: 'db/checks', embeddedDatabase: true })
  expect(await loadProject({ cwd: project.root })).toMatchObject({
    rollbacksDir: project.path('db', 'rollbacks'),
    backfillsDir: project.path('jobs'),
    checksDir: project.path('db', 'checks'),
  })
  manifest({ rollbacks: 42 })
  const error = await refusal({ cwd: project.root })
  expect(error.setting).toBe('migrateKit.rollbacks')
  expect(error.file).toBe(project.path('package.json'))
})

test.each([
  [
    'a schema folder with no .prisma file',
    { 'prisma.config.ts': config("  schema: 'models',"), 'models/README.md': 'nothing\n' },
    'schema',
    /holds no \.prisma file/,
  ],
  [
    'a config that throws',
    { 'prisma.config.ts': "throw new Error('boom from the config')\n" },
    undefined,
    /cannot read the Prisma config .*boom from the config/,
  ],
  ['a config with no default export', { 'prisma.config.ts': 'export const schema = 1\n' }, undefined, /cannot read the Prisma config/],
  [
    'migrations.path naming a file',
    { 'prisma.config.ts': config("  migrations: { path: 'prisma/schema.prisma' },") },
    'migrations.path',
    /is not a folder/,
  ],
])('refused: %s', async (_title, files, setting, message) => {
  for (const [file, content] of Object.entries(files)) project.write(file, content)
  const error = await refusal({ cwd: project.root })
  expect(error.message).toMatch(message)
  expect(error.setting).toBe(setting)
  expect(error.file).toBe(project.path('prisma.config.ts'))
})

test('every command takes --config and --schema, as Prisma CLI does (`prisma` passes them on to Prisma)', () => {
  const io = { out: () => undefined, err: () => undefined, interactive: false }
  const program = buildProgram(CliContext.forDirectory(REPO_ROOT, io), () => undefined)
  const leaves = (command: Command): Command[] => (command.commands.length > 0 ? command.commands.flatMap(leaves) : [command])
  const missing = leaves(program)
    .filter((command) => command.name() !== 'prisma' && command.name() !== 'help')
    .filter((command) => !['--config', '--schema'].every((flag) => command.options.some((option) => option.long === flag)))
    .map((command) => command.name())
  expect(missing).toEqual([])
  expect(leaves(program).length).toBeGreaterThan(15)
})
