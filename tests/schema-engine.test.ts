import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { withDatabase } from '../packages/prisma-migrate-kit/src/db/url'
import { createTestDatabase, databaseExists, dropDatabase, type TestDatabase } from './helpers/database'
import { assertBuilt, EngineProcess, runEngine, type RpcMessage } from './helpers/schema-engine'

// The drop-in engine on its own, spoken to exactly as the Prisma CLI speaks to it (prisma-offline.test.ts runs the
// real CLI on top of it).

const SHADOW_PREFIX = 'prisma_migrate_shadow_db_'
const SECRET = 'N0t-Pr1nted-S3cret'

/** The CLI's reading of `cli <command>` output: the first stderr line is skipped, every other one is JSON. */
function cliLogLines(stderr: string): Array<{ level: string; target: string; fields: Record<string, unknown> }> {
  return stderr
    .trimEnd()
    .split(/\r?\n/)
    .slice(1)
    .map((line) => JSON.parse(line) as { level: string; target: string; fields: Record<string, unknown> })
}

/** The shadow databases an engine says it created (by name, so other test files' ones never interfere). */
function shadowDatabasesCreated(stderr: string): string[] {
  return [...stderr.matchAll(new RegExp(`Created shadow database (${SHADOW_PREFIX}[0-9a-f-]+)`, 'g'))].map((match) => match[1])
}

/** The CLI's engine commit, as @prisma/engines-version (a dependency of the prisma package) records it. */
function cliEngineCommit(): string {
  const prismaDir = path.dirname(require.resolve('prisma/package.json'))
  const versionFile = require.resolve('@prisma/engines-version', { paths: [prismaDir] })
  return (require(versionFile) as { enginesVersion: string }).enginesVersion
}

const WIDGET_SCHEMA = `datasource db {
  provider = "postgresql"
}

model Widget {
  id   Int    @id
  name String
}
`

let db: TestDatabase
let workDir: string

beforeAll(async () => {
  assertBuilt()
  db = await createTestDatabase('schema_engine')
  workDir = mkdtempSync(path.join(os.tmpdir(), 'mk-engine-'))
  writeFileSync(path.join(workDir, 'schema.prisma'), WIDGET_SCHEMA)
})

afterAll(async () => {
  await db?.drop()
  rmSync(workDir, { recursive: true, force: true })
})

describe('--version', () => {
  test('prints the engine commit of the WebAssembly module it runs, the one the prisma package ships', async () => {
    const run = await runEngine(['--version'])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^schema-engine-cli [0-9a-f]{40} /)
    expect(run.stdout).toContain(`schema-engine-cli ${cliEngineCommit()} `)
    expect(run.stdout).toContain('prisma/build')
  })

  test("falls back to @prisma/schema-engine-wasm's module when the CLI's does not fit the glue", async () => {
    // A project whose node_modules/prisma ships a .wasm that imports a function the glue does not have.
    const project = mkdtempSync(path.join(os.tmpdir(), 'mk-engine-misfit-'))
    try {
      const prismaDir = path.join(project, 'node_modules', 'prisma')
      mkdirSync(path.join(prismaDir, 'build'), { recursive: true })
      writeFileSync(path.join(prismaDir, 'package.json'), '{"name":"prisma","version":"0.0.0"}')
      writeFileSync(path.join(prismaDir, 'build', 'schema_engine_bg.wasm'), wasmImporting('./schema_engine_bg.js', '__wbg_gone_0'))
      const run = await runEngine(['--version'], project)
      expect(run.code).toBe(0)
      expect(run.stdout).toContain('@prisma/schema-engine-wasm')
      expect(run.stdout).not.toContain(cliEngineCommit())
    } finally {
      rmSync(project, { recursive: true, force: true })
    }
  })
})

describe('cli <command> (one-shot mode)', () => {
  test('can-connect-to-database succeeds on an existing database', async () => {
    const run = await runEngine(['--datasource', JSON.stringify({ url: db.url }), 'cli', 'can-connect-to-database'])
    expect(run.code).toBe(0)
  })

  test('reports a missing database as P1003, the code that makes `migrate dev` create it', async () => {
    const url = withDatabase(db.url, `${db.name}_absent`)
    const run = await runEngine(['--datasource', JSON.stringify({ url }), 'cli', 'can-connect-to-database'])
    expect(run.code).toBe(1)
    const error = cliLogLines(run.stderr).find((line) => line.level === 'ERROR' && line.target === 'schema_engine::logger')
    expect(error?.fields).toMatchObject({ error_code: 'P1003', message: expect.stringContaining(`${db.name}_absent`) })
  })

  test('create-database and drop-database create and drop the database the URL names', async () => {
    const name = `${db.name}_made`
    const url = withDatabase(db.url, name)
    try {
      const created = await runEngine(['--datasource', JSON.stringify({ url }), 'cli', 'create-database'])
      expect(created.code).toBe(0)
      expect(await databaseExists(name)).toBe(true)
      const dropped = await runEngine(['--datasource', JSON.stringify({ url }), 'cli', 'drop-database'])
      expect(dropped.code).toBe(0)
      expect(await databaseExists(name)).toBe(false)
    } finally {
      await dropDatabase(name)
    }
  })

  test('an unreachable server is P1001, and the password appears nowhere', async () => {
    const url = `postgresql://postgres:${SECRET}@127.0.0.1:1/nowhere`
    const run = await runEngine(['--datasource', JSON.stringify({ url }), 'cli', 'can-connect-to-database'])
    expect(run.code).toBe(1)
    expect(cliLogLines(run.stderr).map((line) => line.fields.error_code)).toContain('P1001')
    expect(run.stdout + run.stderr).not.toContain(SECRET)
  })
})

describe('JSON-RPC mode', () => {
  const filters = { externalTables: [], externalEnums: [] }
  let engine: EngineProcess

  beforeAll(() => {
    // trust authentication ignores the password, so the URL can carry one that must never be printed
    const url = db.url.replace('postgres@', `postgres:${SECRET}@`)
    engine = new EngineProcess(['--datamodels', path.join(workDir, 'schema.prisma'), '--datasource', JSON.stringify({ url })], workDir)
  })

  afterAll(async () => {
    await engine.close()
  })

  const schemaTarget = () => ({ tag: 'schemaDatamodel', files: [{ path: path.join(workDir, 'schema.prisma'), content: WIDGET_SCHEMA }] })

  test('diff sends its output to the CLI as a print request and answers { exitCode }', async () => {
    const printedBefore = engine.printed.length
    const reply = await engine.request('diff', { from: { tag: 'empty' }, to: schemaTarget(), script: true, exitCode: true, filters })
    expect(reply.error).toBeUndefined()
    expect(reply.result).toEqual({ exitCode: 2 })
    expect(engine.printed.slice(printedBefore).join('\n')).toContain('CREATE TABLE "Widget"')
  })

  test('a diff from a migrations folder runs on a shadow database that is gone when the answer comes', async () => {
    const createdBefore = shadowDatabasesCreated(engine.stderr).length
    const migrationsList = {
      baseDir: path.join(workDir, 'migrations'),
      lockfile: { path: 'migration_lock.toml', content: 'provider = "postgresql"\n' },
      shadowDbInitScript: '',
      migrationDirectories: [
        {
          path: '20260101000000_widget',
          migrationFile: {
            path: 'migration.sql',
            content: {
              tag: 'ok',
              value: 'CREATE TABLE "Widget" ("id" INTEGER NOT NULL, "name" TEXT NOT NULL, CONSTRAINT "Widget_pkey" PRIMARY KEY ("id"));',
            },
          },
        },
      ],
    }
    const reply = await engine.request('diff', {
      from: { tag: 'migrations', ...migrationsList },
      to: schemaTarget(),
      script: false,
      exitCode: true,
      filters,
    })
    expect(reply.error).toBeUndefined()
    expect(reply.result).toEqual({ exitCode: 0 })
    const created = shadowDatabasesCreated(engine.stderr).slice(createdBefore)
    expect(created.length).toBeGreaterThan(0)
    for (const name of created) expect(await databaseExists(name)).toBe(false)
  })

  test("errors come in Prisma's shape: code 4466, data.error_code for known errors, never a password", async () => {
    // Applying no migrations creates Prisma's migrations table, which markMigrationRolledBack expects.
    const emptyList = {
      baseDir: path.join(workDir, 'none'),
      lockfile: { path: 'migration_lock.toml', content: null },
      shadowDbInitScript: '',
      migrationDirectories: [],
    }
    expect((await engine.request('applyMigrations', { migrationsList: emptyList, filters })).error).toBeUndefined()
    const reply: RpcMessage = await engine.request('markMigrationRolledBack', { migrationName: '20260101000000_unknown' })
    expect(reply.error).toMatchObject({ code: 4466, data: { is_panic: false, error_code: 'P3011' } })
    expect(reply.error?.data?.message).toContain('20260101000000_unknown')
    expect(JSON.stringify(reply)).not.toContain(SECRET)
  })

  test('an unknown method is a JSON-RPC "method not found"', async () => {
    const reply = await engine.request('noSuchMethod', {})
    expect(reply.error?.code).toBe(-32601)
  })

  test('stderr carries JSON log lines only, without the password', () => {
    const lines = engine.stderr.trim().split('\n').filter(Boolean)
    expect(lines.length).toBeGreaterThan(0)
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow()
    expect(engine.stderr).not.toContain(SECRET)
  })
})

describe('process lifetime', () => {
  test('exits as soon as the CLI closes stdin: idle connections do not keep it alive', async () => {
    const engine = new EngineProcess(
      ['--datamodels', path.join(workDir, 'schema.prisma'), '--datasource', JSON.stringify({ url: db.url })],
      workDir,
    )
    const reply = await engine.request('diagnoseMigrationHistory', {
      migrationsList: {
        baseDir: path.join(workDir, 'none'),
        lockfile: { path: 'migration_lock.toml', content: null },
        shadowDbInitScript: '',
        migrationDirectories: [],
      },
      optInToShadowDatabase: false,
      filters: { externalTables: [], externalEnums: [] },
    })
    expect(reply.error).toBeUndefined()
    const closedAt = Date.now()
    expect(await engine.close()).toBe(0)
    // pg's idle timer would hold the process ≈10 s; a closed pool lets it go at once.
    expect(Date.now() - closedAt).toBeLessThan(3_000)
  })

  test('a panic of the WebAssembly engine is reported as one (is_panic) and ends the process with 101', async () => {
    const engine = new EngineProcess(
      ['--datamodels', path.join(workDir, 'schema.prisma'), '--datasource', JSON.stringify({ url: db.url })],
      workDir,
    )
    const reply = await engine.request('debugPanic')
    expect(reply.error?.data?.is_panic).toBe(true)
    expect(await engine.exited).toBe(101)
  })
})

/** The smallest WebAssembly module that imports one function: enough to not fit the glue. */
function wasmImporting(module: string, name: string): Buffer {
  const text = (value: string) => [value.length, ...Buffer.from(value)]
  const imports = [1, ...text(module), ...text(name), 0x00, 0x00]
  return Buffer.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...[0x01, 0x04, 0x01, 0x60, 0x00, 0x00],
    ...[0x02, imports.length, ...imports],
  ])
}
