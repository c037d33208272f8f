import type { ClientBase } from 'pg'
import { describeFailure } from './retry'
import { UsageError } from '../errors'

/**
 * `--max-app-latency`: the runner times a query of the user's (`--app-latency-query`, default `SELECT 1`) once a
 * second on its own session, and holds its batches while the median of the last runs is over the limit. The median,
 * not the last run: one slow run (a checkpoint, a vacuum) should not stop the backfill, a slow database should.
 */

/** Probe runs the verdict looks at. */
export const LATENCY_WINDOW = 5
/** How often the probe runs (ms). */
export const PROBE_EVERY_MS = 1_000

export class LatencyWindow {
  private readonly runs: number[] = []

  record(ms: number): void {
    this.runs.push(ms)
    if (this.runs.length > LATENCY_WINDOW) this.runs.shift()
  }

  /** The median of the last runs; undefined before the first. */
  median(): number | undefined {
    if (this.runs.length === 0) return undefined
    const sorted = [...this.runs].sort((a, b) => a - b)
    const middle = Math.floor(sorted.length / 2)
    return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
  }
}

/** Times one run of the probe (ms). */
export async function timeProbe(client: ClientBase, query: string, now: () => number = () => performance.now()): Promise<number> {
  const started = now()
  await client.query(query)
  return now() - started
}

/** The probe is run once before the backfill starts: one that fails is refused (exit 2), before any row changes. */
export async function assertProbeRuns(client: ClientBase, query: string): Promise<void> {
  try {
    await timeProbe(client, query)
  } catch (error) {
    throw new UsageError(`--app-latency-query failed: ${describeFailure(error, { short: true })}`, {
      hint: 'Give a read-only query that succeeds on this database (quote it for the shell), or leave it out for SELECT 1.',
    })
  }
}
