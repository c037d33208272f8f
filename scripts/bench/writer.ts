import { performance } from 'node:perf_hooks'
import { connect } from 'prisma-migrate-kit'
import type { Client, ClientBase } from 'pg'

export interface WriterOptions {
  /** Updates per second over all connections: an app's steady write load, not a stress test. */
  rate: number
  /** Connections, each with its own share of the rate, like an app's pool: one blocked request does not stall the rest. */
  connections: number
  /** Rows have ids 1..maxId (the seed numbers users so; the side table copies the first ones). */
  maxId: number
  /** users (the table being backfilled), or the side table no bulk write ever touches. Default users. */
  table?: WriterTable
}

/** The statements the writer may run: fixed text, so nothing from outside ever reaches SQL. */
const STATEMENTS = {
  users: 'UPDATE users SET updated_at = now() WHERE id = $1',
  side: 'UPDATE bench_writer_side SET updated_at = now() WHERE id = $1',
} as const

export type WriterTable = keyof typeof STATEMENTS

/**
 * A copy of the first users' ids and updated_at, for a writer that no bulk UPDATE of users ever locks: its latency
 * shows what the bulk write's load alone (CPU, WAL flushes) does to an app, apart from row locks.
 */
export async function createSideTable(client: ClientBase, rows: number): Promise<void> {
  await client.query('CREATE TABLE bench_writer_side AS SELECT id, updated_at FROM users WHERE id <= $1', [rows])
  await client.query('ALTER TABLE bench_writer_side ADD PRIMARY KEY (id)')
  await client.query('VACUUM (FREEZE, ANALYZE) bench_writer_side')
}

/**
 * The app's side during a backfill: single-row updates of random rows, each its own transaction, on its own
 * connections. Latency is measured per update, from sending it to its commit coming back.
 */
export class ConcurrentWriter {
  private clients: Client[] = []
  private loops: Array<Promise<void>> = []
  private running = false
  private latencies: number[] = []

  constructor(
    private readonly url: string,
    private readonly options: WriterOptions,
  ) {}

  async open(): Promise<void> {
    for (let i = 0; i < this.options.connections; i++) {
      this.clients.push(await connect(this.url, { applicationName: 'migrate-kit bench writer' }))
    }
  }

  /** Writes alone for `ms`: the latencies of an app with nothing else going on. */
  async alone(ms: number): Promise<number[]> {
    this.start()
    await new Promise((resolve) => setTimeout(resolve, ms))
    return this.stop()
  }

  /** Writes while `work` runs: its result, and the latencies the app saw meanwhile. */
  async during<T>(work: () => Promise<T>): Promise<{ result: T; latencies: number[] }> {
    this.start()
    let result: T
    try {
      result = await work()
    } finally {
      await this.stop()
    }
    return { result, latencies: this.latencies }
  }

  /** Starts writing; latencies collect until stop(). */
  private start(): void {
    if (this.running) throw new Error('the writer is already running')
    this.running = true
    this.latencies = []
    const intervalMs = (1000 * this.clients.length) / this.options.rate
    // Staggered, so the connections' updates interleave evenly rather than arrive in bursts.
    this.loops = this.clients.map((client, index) => this.loop(client, intervalMs, (intervalMs * index) / this.clients.length))
  }

  /** Stops after the updates in flight and returns their latencies (ms). */
  private async stop(): Promise<number[]> {
    this.running = false
    await Promise.all(this.loops)
    this.loops = []
    return this.latencies
  }

  async close(): Promise<void> {
    this.running = false
    await Promise.all(this.loops)
    await Promise.all(this.clients.map((client) => client.end().catch(() => undefined)))
    this.clients = []
  }

  private async loop(client: Client, intervalMs: number, offsetMs: number): Promise<void> {
    let next = performance.now() + offsetMs
    while (this.running) {
      const wait = next - performance.now()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      if (!this.running) break
      const id = 1 + Math.floor(Math.random() * this.options.maxId)
      const sent = performance.now()
      await client.query(STATEMENTS[this.options.table ?? 'users'], [id])
      this.latencies.push(performance.now() - sent)
      // A slow update is not made up for by a burst afterwards: the pace stays an app's steady pace.
      next = Math.max(next + intervalMs, performance.now())
    }
  }
}
