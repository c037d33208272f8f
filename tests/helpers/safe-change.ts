import { readdirSync } from 'node:fs'
import { Client } from 'pg'
import { createAdopterProject, DEFAULT_PRISMA_CONFIG, type AdopterProject } from './adopter'
import type { CliResult } from './cli'
import { createTestDatabase, type TestDatabase } from './database'

/**
 * `migrate-kit new --safe` end to end, shared by tests/safe-change-*.test.ts (one file per change kind, so that jest
 * runs them side by side): a fresh project installed from the packed tarball, a User table with rows, writers of the
 * old and the new shape that write in parallel while the backfill runs.
 */

const SCHEMA = `datasource db {
  provider = "postgresql"
}

model User {
  id    Int     @id @default(autoincrement())
  email String  @unique
  name  String
  bio   String?
}
`
export const ROWS = 400

interface CheckJson {
  ok: boolean
  findings: Array<{ rule: string; level: string; message: string }>
}

export class Scenario {
  private constructor(
    readonly project: AdopterProject,
    readonly db: TestDatabase,
  ) {}

  static async start(label: string): Promise<Scenario> {
    const project = await createAdopterProject({ files: { 'prisma.config.ts': DEFAULT_PRISMA_CONFIG, 'prisma/schema.prisma': SCHEMA } })
    const db = await createTestDatabase(`safe_${label}`)
    const scenario = new Scenario(project, db)
    await scenario.ok('new', 'init')
    await scenario.ok('deploy')
    await db.query(
      `INSERT INTO "User" (email, name, bio) SELECT 'seed' || g || '@example.com', 'name-' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'bio-' || g END FROM generate_series(1, ${ROWS}) g`,
    )
    return scenario
  }

  mk(...args: string[]): Promise<CliResult> {
    return this.project.bin('migrate-kit', args, { env: { DATABASE_URL: this.db.url }, timeoutMs: 180_000 })
  }

  async ok(...args: string[]): Promise<CliResult> {
    const result = await this.mk(...args)
    if (result.code !== 0) throw new Error(`migrate-kit ${args.join(' ')} exited ${result.code}:\n${result.stdout}\n${result.stderr}`)
    return result
  }

  editSchema(edit: (schema: string) => string): void {
    const before = this.project.read('prisma/schema.prisma')
    const after = edit(before)
    expect(after).not.toBe(before)
    this.project.write('prisma/schema.prisma', after)
  }

  migrations(): string[] {
    return readdirSync(this.project.path('prisma', 'migrations'))
      .filter((entry) => entry !== 'migration_lock.toml')
      .sort()
  }

  migration(suffix: string): string {
    const found = this.migrations().filter((name) => name.endsWith(`_${suffix}`))
    expect(found).toHaveLength(1)
    return found[0]
  }

  /** `check --json`: the database is what its migrations build, and schema.prisma is what they build (no drift). */
  async assertNoDrift(): Promise<void> {
    const check = await this.mk('check', '--json')
    const json = JSON.parse(check.stdout) as CheckJson
    expect(json.findings.filter((finding) => finding.level === 'error')).toEqual([])
    expect(json.ok).toBe(true)
    expect(check.code).toBe(0)
  }

  /** verify-rollbacks: each of the `count` migrations applied, rolled back and applied again on a scratch database. */
  async assertRollbacksVerified(count: number): Promise<void> {
    const verified = await this.mk('verify-rollbacks')
    expect(verified.stdout).toContain(`${count} rollbacks verified: ${count} ok, 0 failed`)
    expect(verified.code).toBe(0)
  }

  async remove(): Promise<void> {
    this.project.remove()
    await this.db.drop()
  }
}

/** Starts one scenario per test (a fresh project and database), removed after the test whatever its outcome. */
export function useScenarios(): (label: string) => Promise<Scenario> {
  let current: Scenario | undefined
  afterEach(async () => {
    await current?.remove()
    current = undefined
  })
  return async (label) => (current = await Scenario.start(label))
}

/** Writers of one shape, in a loop until stopped, each statement its own transaction, as a running release. */
export class Writer {
  private stopped = false
  private readonly done: Promise<void>
  writes = 0

  constructor(
    url: string,
    private readonly step: (client: Client, n: number) => Promise<void>,
  ) {
    this.done = this.loop(url)
  }

  private async loop(url: string): Promise<void> {
    const client = new Client({ connectionString: url })
    await client.connect()
    try {
      while (!this.stopped) {
        await this.step(client, this.writes)
        this.writes++
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
    } finally {
      await client.end()
    }
  }

  async stop(): Promise<number> {
    this.stopped = true
    await this.done
    return this.writes
  }
}

/** The backfill run by the binary while the writers write; both writers must have written during it. */
export async function backfillUnderWrites(scenario: Scenario, backfill: string, writers: Writer[]): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 300))
  const run = await scenario.mk('backfill', 'run', backfill, '--batch-size', '50', '--pause-ms', '20')
  expect(run.stderr).not.toMatch(/error/i)
  expect(run.code).toBe(0)
  await new Promise((resolve) => setTimeout(resolve, 200))
  for (const writer of writers) expect(await writer.stop()).toBeGreaterThan(5)
}

/**
 * After a row the backfill did not cover was written: `deploy` is held by the gate (exit 3, naming the backfill) until
 * `backfill run --restart`; then the contract deploys while the writers write, and no drift is left.
 */
export async function deployAfterRestart(scenario: Scenario, backfill: string, writers: () => Writer[]): Promise<void> {
  const held = await scenario.mk('deploy')
  expect(held.code).toBe(3)
  expect(held.stdout + held.stderr).toContain(backfill)
  await scenario.ok('backfill', 'run', backfill, '--restart')
  const during = writers()
  await scenario.ok('deploy')
  for (const writer of during) expect(await writer.stop()).toBeGreaterThan(5)
  await scenario.assertNoDrift()
}

export function random(n: number): number {
  return 1 + ((n * 7919) % ROWS)
}
