import { spawn } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { collect, childEnv, runCli, startCli } from './helpers/cli'
import { TEST_SERVER_URL, createTestDatabase, databasesLike } from './helpers/database'
import { REPO_ROOT, createTempProject } from './helpers/project'
import { SYNTHETIC_KINDS, migrationFolderName, syntheticHistory, writeSyntheticHistory } from '../scripts/lib/synthetic-history'

/**
 * Long histories: `npm run bench:history` at 100 migrations, end to end (the real binary, real Prisma engine, scratch
 * databases that are gone afterwards). Seconds say nothing here, as other test files share the machine; the shape of
 * the cost does: a migration at the end of the history must not take more than twice one at its start (before, every
 * rollback replayed the whole history, so the end cost 10 × the start at 800 migrations).
 */
const JITI = path.join(REPO_ROOT, 'node_modules', 'jiti', 'lib', 'jiti-cli.mjs')

interface Phase {
  seconds: number
  failed: number
  startMsPerMigration: number
  endMsPerMigration: number
  shape: number
}

interface Report {
  migrations: number
  kinds: Record<string, number>
  database: string
  generate: Phase
  verify: Phase
  totalSeconds: number
  shapeMet: boolean
}

function startHistoryBench(args: string[]) {
  return spawn(process.execPath, [JITI, path.join(REPO_ROOT, 'scripts', 'bench-history.ts'), ...args], {
    cwd: REPO_ROOT,
    env: childEnv({ DATABASE_URL: TEST_SERVER_URL }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

test('the synthetic history has every kind of change, and the same count gives the same files', () => {
  const history = syntheticHistory(100)
  expect(new Set(history.map((migration) => migration.kind))).toEqual(new Set(SYNTHETIC_KINDS))
  expect(SYNTHETIC_KINDS).toHaveLength(11)
  expect(syntheticHistory(100)).toEqual(history)
  expect(new Set(history.map((migration) => migration.name)).size).toBe(100)
})

test('100 migrations: every rollback generated and verified, the cost per migration flat along the history', async () => {
  const result = await collect(startHistoryBench(['--migrations', '100', '--json']), 240_000)
  expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' })
  const report = JSON.parse(result.stdout) as Report
  expect(report.migrations).toBe(100)
  expect(report.generate.failed).toBe(0)
  expect(report.verify.failed).toBe(0)
  for (const phase of [report.generate, report.verify]) {
    expect(phase.startMsPerMigration).toBeGreaterThan(0)
    expect(phase.shape).toBeCloseTo(phase.endMsPerMigration / phase.startMsPerMigration, 1)
    expect(phase.shape).toBeLessThanOrEqual(2)
  }
  expect(report.shapeMet).toBe(true)
  // No scratch database is left: the bench's own, and the ones the two commands made for it.
  expect(await databasesLike('migrate_kit_', report.database)).toEqual([])
  expect(await databasesLike(report.database)).toEqual([])
}, 300_000)

test('off a terminal, a long history gets plain progress lines on stderr; stdout keeps its lines, --json its document', async () => {
  const project = createTempProject({ exampleApp: false })
  const db = await createTestDatabase('history_progress')
  try {
    project.write('prisma/schema.prisma', 'datasource db {\n  provider = "postgresql"\n}\n')
    writeSyntheticHistory(project.path('prisma', 'migrations'), 60)
    const run = (args: string[]) => runCli(args, { cwd: project.root, env: { DATABASE_URL: db.url }, timeoutMs: 180_000 })
    const tenths = (stderr: string, label: string) =>
      [...stderr.matchAll(new RegExp(`^${label}: (\\d+) / 60 migrations \\(\\d+ %\\), [^\\n]+ elapsed, ETA [^\\n]+$`, 'gm'))].map((match) =>
        Number(match[1]),
      )

    const generate = await run(['rollbacks', 'generate'])
    expect(generate.code).toBe(0)
    expect(generate.stdout.match(/^Wrote rollbacks\//gm)).toHaveLength(60)
    expect(tenths(generate.stderr, 'rollbacks generate')).toEqual([6, 12, 18, 24, 30, 36, 42, 48, 54, 60])

    const verify = await run(['verify-rollbacks'])
    expect(verify.code).toBe(0)
    expect(verify.stdout.match(/^ok {7}/gm)).toHaveLength(60)
    expect(verify.stdout).toContain('60 rollbacks verified: 60 ok, 0 failed')
    expect(tenths(verify.stderr, 'verify-rollbacks')).toEqual([6, 12, 18, 24, 30, 36, 42, 48, 54, 60])

    // --json as it always was: the document on stdout and nothing on stderr, however long the history.
    const json = await run(['rollbacks', 'generate', '--force', '--json'])
    expect({ code: json.code, stderr: json.stderr }).toEqual({ code: 0, stderr: '' })
    const written = JSON.parse(json.stdout) as { ok: boolean; migrations: Array<{ name: string; seconds: number }> }
    expect(written.ok).toBe(true)
    expect(written.migrations.map((migration) => migration.name)).toEqual(
      syntheticHistory(60).map((migration, index) => migrationFolderName(index, migration.name)),
    )
    for (const migration of written.migrations) expect(migration.seconds).toBeGreaterThan(0)
  } finally {
    project.remove()
    await db.drop()
  }
}, 300_000)

test('a migration that does not apply: generate writes the rollbacks before it and names it for every later one; verify stops at it', async () => {
  const project = createTempProject({ exampleApp: false })
  const db = await createTestDatabase('history_broken')
  try {
    project.write('prisma/schema.prisma', 'datasource db {\n  provider = "postgresql"\n}\n')
    const folders = writeSyntheticHistory(project.path('prisma', 'migrations'), 5).map((migration) => migration.folder)
    const run = (args: string[]) => runCli(args, { cwd: project.root, env: { DATABASE_URL: db.url }, timeoutMs: 120_000 })
    expect((await run(['rollbacks', 'generate'])).code).toBe(0)
    const broken = folders[2]
    const sqlFile = project.path('prisma', 'migrations', broken, 'migration.sql')
    project.write(
      `prisma/migrations/${broken}/migration.sql`,
      `${readFileSync(sqlFile, 'utf8')}ALTER TABLE "no_such_table" ADD COLUMN "x" INTEGER;\n`,
    )

    const verify = await run(['verify-rollbacks', '--json'])
    expect(verify.code).toBe(1)
    const report = JSON.parse(verify.stdout) as {
      migrations: Array<{ status: string; stage?: string; error?: { message: string }; note?: string }>
    }
    expect(report.migrations.map((migration) => migration.stage ?? migration.status)).toEqual([
      'ok',
      'ok',
      'apply',
      'not_executed',
      'not_executed',
    ])
    // Prisma's own report of the failed migration (P3018, PostgreSQL's code and message), as `prisma migrate deploy` gives it.
    expect(report.migrations[2].error?.message).toMatch(
      /P3018[\s\S]*Migration name: .*index_table_1[\s\S]*42P01[\s\S]*relation "no_such_table" does not exist/,
    )
    expect(report.migrations[3].note).toBe(`${broken} does not apply, so nothing after it can be built`)
    const text = await run(['verify-rollbacks'])
    expect(text.stdout).toContain(`${broken} does not apply to a database built from the migrations before it: fix its migration.sql`)
    expect(text.stdout).not.toContain(`Fix rollbacks/${broken}`)

    const rollbackOf = (name: string) => readFileSync(project.path('rollbacks', name, 'rollback.sql'), 'utf8')
    const kept = folders.slice(2).map(rollbackOf)
    const generate = await run(['rollbacks', 'generate', '--force'])
    expect(generate.code).toBe(1)
    expect(generate.stdout.match(/^Wrote rollbacks\/(\S+)\/rollback\.sql/gm)).toEqual(
      folders.slice(0, 2).map((name) => `Wrote rollbacks/${name}/rollback.sql`),
    )
    for (const later of folders.slice(2)) {
      expect(generate.stderr).toContain(
        `error: ${later}: cannot try the rollback: ${broken}/migration.sql does not apply to a database built from the migrations before it: relation "no_such_table" does not exist`,
      )
    }
    // Their files from before are left as they were, and no scratch database is left on the server.
    expect(folders.slice(2).map(rollbackOf)).toEqual(kept)
    expect(await databasesLike('migrate_kit_', db.name)).toEqual([])
  } finally {
    project.remove()
    await db.drop()
  }
}, 240_000)

test('Ctrl-C during rollbacks generate stops after the rollback under way: files kept, scratch databases dropped, exit 130', async () => {
  const project = createTempProject({ exampleApp: false })
  const db = await createTestDatabase('history_interrupt')
  try {
    project.write('prisma/schema.prisma', 'datasource db {\n  provider = "postgresql"\n}\n')
    writeSyntheticHistory(project.path('prisma', 'migrations'), 60)
    const child = startCli(['rollbacks', 'generate'], { cwd: project.root, env: { DATABASE_URL: db.url } })
    const done = collect(child, 120_000)
    await new Promise<void>((resolve) => {
      let seen = ''
      child.stdout?.on('data', (chunk: Buffer) => {
        seen += chunk.toString()
        if ((seen.match(/^Wrote /gm) ?? []).length >= 3) resolve()
      })
    })
    child.kill('SIGINT')
    const result = await done
    expect(result.code).toBe(130)
    expect(result.stderr).toContain('SIGINT: stopping after the rollback under way, then dropping the scratch databases…')
    const written = (result.stdout.match(/^Wrote rollbacks\/(\S+)\/rollback\.sql/gm) ?? []).length
    expect(written).toBeGreaterThanOrEqual(3)
    expect(written).toBeLessThan(60)
    expect(result.stdout).toContain(`Interrupted after ${written} of 60 migrations: the ${written} rollback.sql files written are kept`)
    expect(readdirSync(project.path('rollbacks'))).toHaveLength(written)
    expect(await databasesLike('migrate_kit_', db.name)).toEqual([])
  } finally {
    project.remove()
    await db.drop()
  }
}, 180_000)
