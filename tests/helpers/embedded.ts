import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { childEnv } from './cli'
import { PACKAGE_ROOT } from './project'

/** What the holder script prints once the embedded server answers. */
export interface HeldServerInfo {
  url: string
  port: number
  dataDir: string
  how: 'created' | 'started' | 'reused' | 'adopted'
  startupMs: number
  startedHere: boolean
}

export interface HeldServer extends HeldServerInfo {
  /** The Node process that started (or joined) the server and keeps it until released or killed. */
  holder: ChildProcess
  /** SIGTERM: the holder calls stop() and exits. */
  release(): Promise<void>
  /** SIGKILL: the holder dies without stopping anything, as a crashed or killed runner does. */
  kill(): Promise<void>
}

/**
 * Runs startEmbeddedPostgres from dist/ in a child Node process (the package is ESM-only and Jest's CommonJS runtime
 * cannot import it in-process), and keeps that process alive: a stand-in for a long-running command.
 */
const HOLDER_SCRIPT = `
const dist = process.env.MK_DIST
const { startEmbeddedPostgres } = require(dist + '/db/embedded.js')
const { projectAt } = require(dist + '/project/index.js')
startEmbeddedPostgres(projectAt(process.cwd())).then((server) => {
  const { url, port, dataDir, how, startupMs, startedHere } = server
  process.stdout.write(JSON.stringify({ url, port, dataDir, how, startupMs, startedHere }) + '\\n')
  process.on('SIGTERM', () => server.stop().then(() => process.exit(0), (error) => {
    process.stderr.write(String(error && error.message) + '\\n')
    process.exit(1)
  }))
  setInterval(() => undefined, 1 << 30)
}, (error) => {
  process.stderr.write(String(error && error.message) + '\\n')
  process.exit(2)
})
`

export async function holdEmbeddedServer(projectRoot: string, timeoutMs = 60_000): Promise<HeldServer> {
  const holder = spawn(process.execPath, ['-e', HOLDER_SCRIPT], {
    cwd: projectRoot,
    env: childEnv({ MK_DIST: path.join(PACKAGE_ROOT, 'dist') }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<void>((resolve) => holder.once('exit', () => resolve()))
  const info = await new Promise<HeldServerInfo>((resolve, reject) => {
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => {
      holder.kill('SIGKILL')
      reject(new Error(`holder did not report a server within ${timeoutMs} ms: ${stderr}`))
    }, timeoutMs)
    holder.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    holder.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      const newline = stdout.indexOf('\n')
      if (newline < 0) return
      clearTimeout(timer)
      resolve(JSON.parse(stdout.slice(0, newline)) as HeldServerInfo)
    })
    holder.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`holder exited with ${code} before reporting a server: ${stderr}`))
    })
  })
  return {
    ...info,
    holder,
    release: async () => {
      if (holder.exitCode === null && holder.signalCode === null) holder.kill('SIGTERM')
      await exited
    },
    kill: async () => {
      if (holder.exitCode === null && holder.signalCode === null) holder.kill('SIGKILL')
      await exited
    },
  }
}

/**
 * Live postmasters serving dataDir (their command line carries `-D <dataDir>`; zombies, which have exited and only
 * wait to be reaped, do not count). Their children exit with them, so none here means no server of that folder.
 */
export function postmastersOf(dataDir: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
      if (state !== 'Z' && /(^|\/)postgres$/.test(argv[0] ?? '') && argv.includes(dataDir)) pids.push(Number(entry))
    } catch {
      // the process ended while we looked
    }
  }
  return pids
}

/** Whether anything accepts TCP connections on 127.0.0.1:port. */
export function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** A port nothing listens on at the moment of the call. */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/** The one line openDatabase prints when it uses the embedded server, parsed. */
export const ANNOUNCEMENT =
  /^No DATABASE_URL set: using the embedded PostgreSQL \(database "(?<database>[^"]+)" on (?<host>[\d.]+):(?<port>\d+), data in (?<dataDir>.+)\)\.$/

export function parseAnnouncement(stderr: string): { database: string; host: string; port: number; dataDir: string } | undefined {
  for (const line of stderr.split('\n')) {
    const groups = ANNOUNCEMENT.exec(line)?.groups
    if (groups) {
      return { database: groups.database ?? '', host: groups.host ?? '', port: Number(groups.port), dataDir: groups.dataDir ?? '' }
    }
  }
  return undefined
}
