import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import readline from 'node:readline'
import { PACKAGE_ROOT, REPO_ROOT } from './project'
import { childEnv, collect, type CliResult } from './cli'

/** The drop-in engine as the Prisma CLI starts it (it runs dist/: `npm run build` first). */
export const ENGINE_BIN = path.join(PACKAGE_ROOT, 'bin', 'schema-engine.js')

export function assertBuilt(): void {
  if (!existsSync(path.join(PACKAGE_ROOT, 'dist', 'prisma', 'engine', 'main.js'))) {
    throw new Error('dist/prisma/engine/main.js is missing: run `npm run build` before these tests')
  }
}

/** Runs the engine once (`--version`, `cli <command>`) and collects its output. */
export function runEngine(args: string[], cwd = REPO_ROOT): Promise<CliResult> {
  return collect(spawn(process.execPath, [ENGINE_BIN, ...args], { cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] }))
}

export interface RpcMessage {
  jsonrpc: '2.0'
  id?: number | string | null
  method?: string
  params?: { content?: string } & Record<string, unknown>
  result?: unknown
  error?: { code: number; message: string; data?: { is_panic: boolean; message: string; error_code?: string } }
}

/**
 * The engine in JSON-RPC mode, driven like the Prisma CLI drives it: requests on stdin, one JSON line each; the
 * engine's `print` requests are answered and their content kept, as the CLI does.
 */
export class EngineProcess {
  readonly printed: string[] = []
  stderr = ''
  private readonly child: ChildProcessWithoutNullStreams
  private readonly waiting = new Map<number, (message: RpcMessage) => void>()
  private nextId = 1
  readonly exited: Promise<number | null>

  constructor(args: string[], cwd = REPO_ROOT) {
    this.child = spawn(process.execPath, [ENGINE_BIN, ...args], { cwd, env: childEnv() })
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()))
    readline.createInterface({ input: this.child.stdout }).on('line', (line) => this.receive(JSON.parse(line) as RpcMessage))
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)))
  }

  request(method: string, params?: unknown): Promise<RpcMessage> {
    const id = this.nextId++
    return new Promise((resolve) => {
      this.waiting.set(id, resolve)
      this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`)
    })
  }

  /** Closes stdin, as the CLI does when a command is done, and waits for the exit code. */
  async close(): Promise<number | null> {
    this.child.stdin.end()
    return this.exited
  }

  private receive(message: RpcMessage): void {
    if (message.method === 'print') {
      this.printed.push(message.params?.content ?? '')
      this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: message.id, result: {} })}\n`)
      return
    }
    if (typeof message.id === 'number') {
      this.waiting.get(message.id)?.(message)
      this.waiting.delete(message.id)
    }
  }
}
