import { spawn } from 'node:child_process'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import type { ClientBase } from 'pg'
import type { RunResult } from 'prisma-migrate-kit'
import { BENCH_BACKFILL, REPO_ROOT, type BenchProject } from './bench-project'
import type { Cleanups } from './cleanup'
import { PeakMemory } from './memory'

const BIN = path.join(REPO_ROOT, 'node_modules', 'prisma-migrate-kit', 'bin', 'migrate-kit.js')

export interface BackfillFigures {
  rows: number
  /** The runner's own duration: connect, check the definition, every batch, verify (RunResult.durationMs). */
  runMs: number
  /** The whole command, Node's start and module loading included. */
  wallMs: number
  batches: number
  /** Peak RSS of the runner process (MiB), or null where /proc is not available. */
  peakRssMb: number | null
  /** The longest batch transaction, BEGIN to COMMIT, as the runner timed it (its --json maxBatchMs). */
  maxBatchMs: number
  /** The median batch from the runner's ledger (batch_ms: BEGIN to the rows changed, before its COMMIT). */
  p50BatchMs: number
  lastBatchSize: number
}

/**
 * (b): `migrate-kit backfill run <bench backfill> --json`, the real binary with default settings, in the bench
 * project, as an operator would type it. Its memory is the child's own; its timings come from its JSON and ledger.
 */
export async function runBackfillChild(
  bench: BenchProject,
  databaseUrl: string,
  /** A session of the bench on the same database, to read the runner's ledger afterwards. */
  client: ClientBase,
  cleanups: Cleanups,
  log: (line: string) => void,
  /** Options after `backfill run <name>`; none measures the defaults. */
  runnerOptions: string[] = [],
  name: string = BENCH_BACKFILL,
): Promise<BackfillFigures> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: databaseUrl }
  // No cache to clear in the bench definition; without REDIS_URL the runner does not even connect to Redis.
  delete env.REDIS_URL
  const started = performance.now()
  const child = spawn(process.execPath, [BIN, 'backfill', 'run', name, ...runnerOptions, '--json'], {
    cwd: bench.project.root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const kill = cleanups.add('stop the backfill runner', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const memory = child.pid === undefined ? undefined : new PeakMemory(child.pid)
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    // The JSON document is the last thing it writes: take the high-water mark now, before the process is gone.
    memory?.sample()
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
    for (const line of chunk.split('\n').filter(Boolean)) log(`  runner: ${line}`)
  })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (exitCode) => resolve(exitCode))
  })
  const wallMs = performance.now() - started
  const peakRssMb = memory?.stop() ?? null
  await kill()
  if (code !== 0) throw new Error(`migrate-kit backfill run exited ${code}:\n${stderr.slice(-4000)}`)
  const result = JSON.parse(stdout) as RunResult
  if (result.status !== 'done') throw new Error(`the backfill ended ${result.status}: ${result.lastError ?? 'no error recorded'}`)
  return {
    rows: result.rowsThisRun,
    runMs: result.durationMs,
    wallMs,
    batches: result.batchesThisRun,
    peakRssMb,
    lastBatchSize: result.batchSize,
    maxBatchMs: result.maxBatchMs,
    p50BatchMs: await ledgerMedianBatchMs(client, name),
  }
}

/** From the runner's range ledger: the median of what each batch took, as the runner recorded it. */
async function ledgerMedianBatchMs(client: ClientBase, name: string): Promise<number> {
  const { rows } = await client.query<{ p50: number | null }>(
    `SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY batch_ms)::float8 AS p50
       FROM migrate_kit.backfill_ranges WHERE backfill = $1 AND status = 'done'`,
    [name],
  )
  const p50 = rows[0]?.p50
  if (p50 === undefined || p50 === null) throw new Error('the runner recorded no batch in its ledger')
  return p50
}
