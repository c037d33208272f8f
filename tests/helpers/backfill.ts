import type { ChildProcess } from 'node:child_process'
import { collect, runCli, startCli, type CliResult } from './cli'
import type { TestDatabase } from './database'
import { createTempProject, type TempProject } from './project'

/** A temp project (no example app) with its own backfill files, run against one test database. */
export interface BackfillProject {
  project: TempProject
  /** Runs `migrate-kit <args>` to the end. */
  cli(args: string[], env?: Record<string, string | undefined>): Promise<CliResult>
  /** Starts `migrate-kit <args>` and returns the child and a promise of its result. */
  start(args: string[], env?: Record<string, string | undefined>): RunningCli
  /** Writes backfills/<name>.ts. */
  backfill(file: string, source: string): void
  /** Kills runners a failed test left behind, and deletes the project. */
  remove(): void
}

export interface RunningCli {
  child: ChildProcess
  /** Everything written so far, while it runs. */
  output(): { stdout: string; stderr: string }
  done: Promise<CliResult>
}

export function backfillProject(db: TestDatabase): BackfillProject {
  const project = createTempProject({ exampleApp: false })
  const env = (extra: Record<string, string | undefined> = {}) => ({ DATABASE_URL: db.url, ...extra })
  const children = new Set<ChildProcess>()
  return {
    project,
    cli: (args, extra) => runCli(args, { cwd: project.root, env: env(extra), timeoutMs: 90_000 }),
    start(args, extra) {
      const child = startCli(args, { cwd: project.root, env: env(extra) })
      children.add(child)
      child.on('exit', () => children.delete(child))
      let stdout = ''
      let stderr = ''
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      return { child, output: () => ({ stdout, stderr }), done: collect(child, 90_000) }
    },
    backfill: (file, source) => {
      project.write(`backfills/${file}`, source)
    },
    remove: () => {
      for (const child of children) child.kill('SIGKILL')
      project.remove()
    },
  }
}

/** Polls until check() returns something truthy; fails with what it last saw after timeoutMs. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value
      last = value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${String(last)})`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Ranges recorded done in the ledger for a backfill (0 before the migrate_kit tables exist). */
export async function rangesDone(db: TestDatabase, name: string): Promise<number> {
  const [present] = await db.query<{ present: boolean }>(`SELECT to_regclass('migrate_kit.backfill_ranges') IS NOT NULL AS present`)
  if (!present?.present) return 0
  const [row] = await db.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM migrate_kit.backfill_ranges WHERE backfill = $1 AND status = 'done'`,
    [name],
  )
  return row?.count ?? 0
}

/** How many rows of a table have each value of n: { 0: 4000, 1: 6000 }. */
export async function countsByN(db: TestDatabase, table = 'counters'): Promise<Record<string, number>> {
  const rows = await db.query<{ n: number; count: number }>(`SELECT n, count(*)::int AS count FROM ${table} GROUP BY n ORDER BY n`)
  return Object.fromEntries(rows.map((row) => [String(row.n), row.count]))
}

/** Kills a child with SIGKILL and waits for it to be gone. */
export async function kill9(running: RunningCli): Promise<CliResult> {
  running.child.kill('SIGKILL')
  return running.done
}

/** Sessions of backfill runners on this database, found by application_name, as the DBA would. */
export async function runnerBackends(db: TestDatabase, name: string): Promise<number[]> {
  const rows = await db.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2`, [
    db.name,
    `migrate-kit backfill ${name}`.slice(0, 63),
  ])
  return rows.map((row) => row.pid)
}

/** A counters table: rows 1..count with n = 0, the target of a non-idempotent `n = n + 1`. */
export async function createCounters(db: TestDatabase, count: number, table = 'counters'): Promise<void> {
  await db.query(`DROP TABLE IF EXISTS ${table}`)
  await db.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, n integer NOT NULL DEFAULT 0, note text)`)
  await db.query(`INSERT INTO ${table} (id) SELECT g FROM generate_series(1, $1::int) g`, [count])
}

/** The backfill file every exactly-once test uses: not idempotent, no where. */
export function incrementBackfill(name: string, options: { table?: string; extra?: string } = {}): string {
  return `import { defineBackfill, sql } from 'prisma-migrate-kit'

export default defineBackfill({
  name: '${name}',
  table: '${options.table ?? 'counters'}',
  key: 'id',
  update: sql\`n = n + 1\`,${options.extra ?? ''}
})
`
}
