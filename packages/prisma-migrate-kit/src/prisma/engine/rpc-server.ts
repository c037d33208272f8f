import readline from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import type { RpcErrorBody, RpcRequest, RpcResponse } from './types'

/** JSON-RPC's own error codes, for requests that never reach the engine. */
export const RPC_PARSE_ERROR = -32700
export const RPC_METHOD_NOT_FOUND = -32601

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message)
    this.name = 'RpcError'
  }
}

export interface RpcHandler {
  handle(method: string, params: unknown, peer: RpcPeer): Promise<unknown>
  /** The error body to send for a failed request. */
  toErrorBody(error: unknown): RpcErrorBody
}

/**
 * JSON-RPC 2.0 over stdio, one JSON object per line, in both directions: the CLI's requests come in, and the engine
 * sends its own requests (`print`) and waits for the CLI's reply. Requests are handled one at a time, in order,
 * because there is one engine instance behind them.
 */
export class RpcPeer {
  private nextId = 1
  private readonly pending = new Map<number | string, (response: RpcResponse) => void>()
  private queue: Promise<void> = Promise.resolve()

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
  ) {}

  /** Serves requests until the input ends and every request received has been answered. */
  serve(handler: RpcHandler): Promise<void> {
    return new Promise((resolve) => {
      const lines = readline.createInterface({ input: this.input, crlfDelay: Infinity })
      lines.on('line', (line) => this.receive(line, handler))
      lines.on('close', () => {
        void this.queue.then(() => resolve())
      })
    })
  }

  /** Sends a request to the CLI and resolves with its result. */
  request(method: string, params: unknown): Promise<unknown> {
    const id = `engine-${this.nextId++}`
    return new Promise((resolve, reject) => {
      this.pending.set(id, (response) => {
        if ('error' in response) reject(new Error(`the CLI refused "${method}": ${response.error.message}`))
        else resolve(response.result)
      })
      this.send({ jsonrpc: '2.0', id, method, params })
    })
  }

  private receive(line: string, handler: RpcHandler): void {
    if (!line.trim()) return
    let message: Partial<RpcRequest> & Partial<{ result: unknown; error: RpcErrorBody }>
    try {
      message = JSON.parse(line) as typeof message
    } catch {
      this.send({ jsonrpc: '2.0', id: null, error: { code: RPC_PARSE_ERROR, message: 'Parse error: not a JSON line' } })
      return
    }
    if (message.method === undefined && message.id !== undefined) {
      // A reply to one of our own requests.
      const settle = this.pending.get(message.id)
      this.pending.delete(message.id)
      settle?.(message as RpcResponse)
      return
    }
    const { id, method, params } = message
    // Notifications (no id) need no answer, and the CLI sends none we act on.
    if (id === undefined || typeof method !== 'string') return
    this.queue = this.queue.then(async () => {
      try {
        const result = await handler.handle(method, params, this)
        // Methods without output answer `{}` like the native engine; the CLI destructures some results.
        this.send({ jsonrpc: '2.0', id, result: result ?? {} })
      } catch (error) {
        this.send({ jsonrpc: '2.0', id, error: handler.toErrorBody(error) })
      }
    })
  }

  private send(message: RpcResponse | RpcRequest): void {
    this.output.write(`${JSON.stringify(message)}\n`)
  }
}
