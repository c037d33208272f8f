import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { PACKAGE_ROOT } from './project'

export const CLI_BIN = path.join(PACKAGE_ROOT, 'bin', 'migrate-kit.js')

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface RunOptions {
  cwd: string
  /** Added to a clean environment: DATABASE_URL is NOT inherited unless given here. */
  env?: Record<string, string | undefined>
  timeoutMs?: number
}

/** The environment a child gets: the parent's, minus anything that would point it at another database or say CI. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  delete env.DATABASE_URL
  delete env.REDIS_URL
  delete env.PRISMA_SCHEMA_ENGINE_BINARY
  // The machine running the tests may be a CI: a test that means CI says so.
  delete env.CI
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key]
    else env[key] = value
  }
  return env
}

/** Starts the real `migrate-kit` binary (built in dist/ by `npm test`). */
export function startCli(args: string[], options: RunOptions): ChildProcess {
  return spawn(process.execPath, [CLI_BIN, ...args], {
    cwd: options.cwd,
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

export function collect(child: ChildProcess, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`timed out after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

export function runCli(args: string[], options: RunOptions): Promise<CliResult> {
  return collect(startCli(args, options), options.timeoutMs)
}
