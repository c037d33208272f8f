import { spawn, spawnSync } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Client } from 'pg'
import { CLI_BIN, childEnv, collect, runCli, startCli, type CliResult } from './helpers/cli'
import { holdEmbeddedServer, parseAnnouncement, portAnswers, postmastersOf } from './helpers/embedded'
import { createTempProject, PACKAGE_ROOT, type TempProject } from './helpers/project'

// These tests run the real binary (bin/migrate-kit.js → dist/): `npm run build` first.
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
const projects: TempProject[] = []
const folders: string[] = []

function newProject(): TempProject {
  const project = createTempProject({ exampleApp: false, embeddedDatabase: true })
  // mkdtemp makes the folder 0700. As root the server runs as another user, which must be able to enter it (a
  // project below a folder it cannot enter is its own test below).
  chmodSync(project.root, 0o755)
  projects.push(project)
  return project
}

function dataDirOf(project: TempProject): string {
  return path.join(realpathSync(project.root), '.migrate-kit', 'postgres')
}

async function query<T extends Record<string, unknown>>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<T>(sql)).rows
  } finally {
    await client.end()
  }
}

/** Pure JSON on stdout; exit 0 when every migration is applied, 1 otherwise (as `prisma migrate status`). */
function expectStatusJson(result: CliResult, code: 0 | 1 = 0): void {
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code, stderr: expect.any(String) })
  expect(result.stdout.trimStart().startsWith('{')).toBe(true)
  expect(JSON.parse(result.stdout)).toEqual({ migrations: expect.any(Array), backfills: expect.any(Array), splitChanges: [] })
}

/** Nothing of the server left: no postmaster for the data folder, nothing on its port, no registration. */
async function expectStopped(project: TempProject, port: number): Promise<void> {
  expect(postmastersOf(dataDirOf(project))).toEqual([])
  expect(await portAnswers(port)).toBe(false)
  expect(existsSync(path.join(dataDirOf(project), 'postmaster.pid'))).toBe(false)
  expect(existsSync(project.path('.migrate-kit', 'embedded.json'))).toBe(false)
}

/** Runs an async script in a child Node process with start() (startEmbeddedPostgres from dist), project and out(). */
async function runScript(projectRoot: string, body: string): Promise<CliResult> {
  const script = `
    const dist = process.env.MK_DIST
    const { startEmbeddedPostgres: start } = require(dist + '/db/embedded.js')
    const project = require(dist + '/project/index.js').projectAt(process.cwd())
    const out = (value) => process.stdout.write(JSON.stringify(value) + '\\n')
    const answers = (port) => new Promise((resolve) => {
      const socket = require('node:net').connect({ host: '127.0.0.1', port })
      socket.once('connect', () => { socket.destroy(); resolve(true) })
      socket.once('error', () => resolve(false))
    })
    ;(async () => { ${body} })().catch((error) => { process.stderr.write(String(error.stack) + '\\n'); process.exit(1) })`
  const child = spawn(process.execPath, ['-e', script], {
    cwd: projectRoot,
    env: childEnv({ MK_DIST: path.join(PACKAGE_ROOT, 'dist') }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const result = await collect(child)
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' })
  return result
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

afterEach(() => {
  for (const project of projects.splice(0)) {
    // A failed test may leave a server behind: stop it (immediate shutdown) before removing its folder.
    const dataDir = path.join(project.root, '.migrate-kit', 'postgres')
    for (const pid of postmastersOf(dataDir)) process.kill(pid, 'SIGQUIT')
    project.remove()
  }
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true })
})

describe('the embedded PostgreSQL (no DATABASE_URL), through the migrate-kit binary', () => {
  beforeAll(() => {
    expect(existsSync(path.join(PACKAGE_ROOT, 'dist', 'db', 'embedded.js'))).toBe(true)
  })

  it('status --json starts it, prints pure JSON, announces it in one stderr line and stops it afterwards', async () => {
    const project = newProject()
    const result = await runCli(['status', '--json'], { cwd: project.root })

    expectStatusJson(result)
    expect(JSON.parse(result.stdout)).toEqual({ migrations: [], backfills: [], splitChanges: [] })
    const lines = result.stderr.split('\n').filter(Boolean)
    expect(lines).toHaveLength(1)
    const announced = parseAnnouncement(result.stderr)
    expect(announced).toEqual({ database: 'app', host: '127.0.0.1', port: expect.any(Number), dataDir: dataDirOf(project) })
    await expectStopped(project, announced!.port)

    // The password is made once, readable by its owner only, and never printed.
    const passwordFile = project.path('.migrate-kit', 'postgres.password')
    expect(statSync(passwordFile).mode & 0o777).toBe(0o600)
    const password = readFileSync(passwordFile, 'utf8').trim()
    expect(password.length).toBeGreaterThanOrEqual(32)
    expect(result.stdout + result.stderr).not.toContain(password)
  })

  it('a later run reopens the same data: a table written through the first server is read by the next command', async () => {
    const project = newProject()
    const first = await holdEmbeddedServer(project.root)
    expect(first.how).toBe('created')
    const password = readFileSync(project.path('.migrate-kit', 'postgres.password'), 'utf8')
    // A migration record only this data folder has: status lists it (as applied, its folder missing on disk).
    await query(
      first.url,
      `CREATE TABLE _prisma_migrations (
         id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz,
         migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz,
         started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0);
       INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count)
       VALUES ('00000000-0000-0000-0000-000000000001', 'x', now(), '20260101000000_written_by_the_first_server', 1)`,
    )
    await first.release()
    await expectStopped(project, first.port)

    const second = await runCli(['status', '--json'], { cwd: project.root })
    expectStatusJson(second, 1) // applied there, missing from the folder
    expect(JSON.parse(second.stdout).migrations).toEqual([
      expect.objectContaining({ name: '20260101000000_written_by_the_first_server', state: 'applied', onDisk: false }),
    ])
    expect(parseAnnouncement(second.stderr)?.dataDir).toBe(first.dataDir)
    await expectStopped(project, parseAnnouncement(second.stderr)!.port)

    const third = await holdEmbeddedServer(project.root)
    try {
      expect(third.how).toBe('started')
      expect(await query(third.url, 'SELECT migration_name FROM _prisma_migrations')).toEqual([
        { migration_name: '20260101000000_written_by_the_first_server' },
      ])
    } finally {
      await third.release()
    }
    // Generated once: reopening did not replace it.
    expect(readFileSync(project.path('.migrate-kit', 'postgres.password'), 'utf8')).toBe(password)
  })

  it('after a runner is killed with SIGKILL, the next command adopts the server it left, works, and stops it', async () => {
    const project = newProject()
    const runner = await holdEmbeddedServer(project.root)
    await runner.kill()
    // The situation is real: the server outlived its starter.
    expect(postmastersOf(runner.dataDir)).toHaveLength(1)
    expect(await portAnswers(runner.port)).toBe(true)

    const next = await runCli(['status', '--json'], { cwd: project.root })
    expectStatusJson(next)
    expect(parseAnnouncement(next.stderr)?.port).toBe(runner.port)
    await expectStopped(project, runner.port)
  })

  it('a postmaster.pid whose process is gone, or whose pid now names another program, does not block a start', async () => {
    const project = newProject()
    expectStatusJson(await runCli(['status', '--json'], { cwd: project.root }))
    const pidFile = path.join(dataDirOf(project), 'postmaster.pid')
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid
    // A live process of the server's own user that is not a postgres: PostgreSQL alone refuses to start over its pid
    // ("lock file already exists"); a pid of another user it would take as stale by itself.
    const serverUser = statSync(dataDirOf(project))
    const unrelated = spawn('sleep', ['120'], { uid: serverUser.uid, gid: serverUser.gid, stdio: 'ignore' })
    try {
      for (const pid of [deadPid, unrelated.pid]) {
        writeFileSync(pidFile, `${pid}\n${dataDirOf(project)}\n1700000000\n54321\n\n127.0.0.1\n  1234  5678\nready   \n`)
        const result = await runCli(['status', '--json'], { cwd: project.root })
        expectStatusJson(result)
        await expectStopped(project, parseAnnouncement(result.stderr)!.port)
      }
    } finally {
      unrelated.kill('SIGKILL')
    }
  })

  it('commands started at the same moment on a new project all succeed on one data folder', async () => {
    const project = newProject()
    const results = await Promise.all([1, 2, 3].map(() => collect(startCli(['status', '--json'], { cwd: project.root }))))
    for (const result of results) {
      expectStatusJson(result)
      expect(parseAnnouncement(result.stderr)?.dataDir).toBe(dataDirOf(project))
    }
    // One initdb, finished: no scratch folder left, one data folder.
    expect(readdirSync(project.path('.migrate-kit')).filter((entry) => entry.startsWith('postgres.initdb'))).toEqual([])
    expect(existsSync(path.join(dataDirOf(project), 'PG_VERSION'))).toBe(true)
    for (const result of results) await expectStopped(project, parseAnnouncement(result.stderr)!.port)
  })

  it('a command run while another process uses the server joins it and leaves it running for that process', async () => {
    const project = newProject()
    const operator = await holdEmbeddedServer(project.root)
    try {
      const results = await Promise.all([1, 2].map(() => runCli(['status', '--json'], { cwd: project.root })))
      for (const result of results) {
        expectStatusJson(result)
        expect(parseAnnouncement(result.stderr)?.port).toBe(operator.port)
      }
      expect(await portAnswers(operator.port)).toBe(true)
      expect(await query(operator.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }])
    } finally {
      await operator.release()
    }
    await expectStopped(project, operator.port)
  })

  it('a start lock and an initdb folder left by a killed run are taken over; a live holder is waited for', async () => {
    const project = newProject()
    const lockFile = project.path('.migrate-kit', 'embedded.lock')
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid
    mkdirSync(project.path('.migrate-kit', `postgres.initdb-${deadPid}`), { recursive: true })
    writeFileSync(project.path('.migrate-kit', `postgres.initdb-${deadPid}`, 'PG_VERSION'), '17\n')
    writeFileSync(lockFile, JSON.stringify({ pid: deadPid, host: os.hostname(), since: new Date().toISOString() }))

    const afterKill = await runCli(['status', '--json'], { cwd: project.root })
    expectStatusJson(afterKill)
    expect(readdirSync(project.path('.migrate-kit')).filter((entry) => entry.startsWith('postgres.initdb'))).toEqual([])
    expect(existsSync(lockFile)).toBe(false)

    // This test process holds the lock (alive, same host): the command waits until it is released.
    writeFileSync(lockFile, JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() }))
    const waiting = collect(startCli(['status', '--json'], { cwd: project.root }))
    await sleep(1_500)
    expect(postmastersOf(dataDirOf(project))).toEqual([])
    rmSync(lockFile)
    expectStatusJson(await waiting)
    await expectStopped(project, parseAnnouncement((await waiting).stderr)!.port)
  })

  it('one process that opens it twice keeps it until its last handle is stopped', async () => {
    const project = newProject()
    const result = await runScript(
      project.root,
      `const first = await start(project)
       const second = await start(project)
       await first.stop()
       const afterFirst = await answers(second.port)
       await second.stop()
       const afterSecond = await answers(second.port)
       out({ ports: [first.port, second.port], hows: [first.how, second.how], afterFirst, afterSecond })`,
    )
    const report = JSON.parse(result.stdout) as { ports: number[]; hows: string[]; afterFirst: boolean; afterSecond: boolean }
    expect(report).toMatchObject({ hows: ['created', 'reused'], afterFirst: true, afterSecond: false })
    expect(report.ports[0]).toBe(report.ports[1])
    await expectStopped(project, report.ports[0] ?? 0)
  })

  it('a process that calls process.exit() without stopping it still stops it on the way out', async () => {
    const project = newProject()
    const result = await runScript(project.root, `const server = await start(project); out({ port: server.port }); process.exit(0)`)
    const { port } = JSON.parse(result.stdout) as { port: number }
    // The exit handler only sends the fast-shutdown signal; the server finishes shutting down on its own.
    for (let waited = 0; postmastersOf(dataDirOf(project)).length > 0 && waited < 10_000; waited += 100) await sleep(100)
    await expectStopped(project, port)
  })

  ;(isRoot ? it : it.skip)('as root, a project below a folder other users cannot enter fails with a message naming it', async () => {
    const outer = mkdtempSync(path.join(os.tmpdir(), 'mk-private-'))
    folders.push(outer)
    expect(statSync(outer).mode & 0o777).toBe(0o700)
    const root = path.join(outer, 'app')
    mkdirSync(path.join(root, 'prisma'), { recursive: true })
    writeFileSync(path.join(root, 'prisma', 'schema.prisma'), 'datasource db {\n  provider = "postgresql"\n}\n')
    writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'app', migrateKit: { embeddedDatabase: true } }))
    const passwordFilesBefore = readdirSync(os.tmpdir()).filter((entry) => entry.startsWith('pg-password-'))

    const result = await runCli(['status', '--json'], { cwd: root })

    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    const [message, hint] = result.stderr.split('\n')
    expect(message).toContain('cannot start the embedded PostgreSQL')
    expect(message).toContain(`cannot enter ${realpathSync(outer)} (mode 0700`)
    expect(hint).toContain(`chmod o+x ${realpathSync(outer)}`)
    expect(hint).toContain('DATABASE_URL')
    // Refused before anything was created.
    expect(existsSync(path.join(root, '.migrate-kit'))).toBe(false)
    expect(readdirSync(os.tmpdir()).filter((entry) => entry.startsWith('pg-password-'))).toEqual(passwordFilesBefore)
  })

  ;(isRoot ? it : it.skip)('run by a non-root user, the server runs as that user with data it owns', async () => {
    const project = newProject()
    const nobody = { uid: 65534, gid: 65534 }
    chownSync(project.root, nobody.uid, nobody.gid)
    const child = spawn(process.execPath, [CLI_BIN, 'status', '--json'], {
      cwd: project.root,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...nobody,
    })
    const result = await collect(child)

    expectStatusJson(result)
    expect(statSync(dataDirOf(project)).uid).toBe(nobody.uid)
    const passwordFile = project.path('.migrate-kit', 'postgres.password')
    expect(statSync(passwordFile)).toMatchObject({ uid: nobody.uid })
    expect(statSync(passwordFile).mode & 0o777).toBe(0o600)
    await expectStopped(project, parseAnnouncement(result.stderr)!.port)
  })
})
