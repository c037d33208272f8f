import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { PrismaPg } from '@prisma/adapter-pg'
import { createJiti } from 'jiti'
// Internal (not part of the package API): the real Prisma CLI with our engine wiring.
import { runPrisma } from '../../packages/prisma-migrate-kit/src/prisma/cli'
import { BENCH_CLIENT_DIR, BENCH_SCHEMA, REPO_ROOT, type BenchProject } from './bench-project'

/** The slice of the generated client the row-by-row loop uses (the generated file itself is loaded at run time). */
export interface BenchPrismaClient {
  user: {
    findMany(args: {
      where: { displayName: null }
      orderBy: { id: 'asc' }
      take: number
    }): Promise<Array<{ id: number; username: string; displayName: string | null }>>
    update(args: { where: { id: number }; data: { displayName: string } }): Promise<unknown>
  }
  $connect(): Promise<void>
  $disconnect(): Promise<void>
}

type BenchPrismaClientClass = new (options: { adapter: PrismaPg }) => BenchPrismaClient

const MARKER = path.join(BENCH_CLIENT_DIR, '.bench-schema.sha256')

/** What the client was generated from: regenerate when the bench schema or the Prisma version changes. */
function fingerprint(): string {
  const prismaVersion = (
    JSON.parse(readFileSync(path.join(REPO_ROOT, 'node_modules', 'prisma', 'package.json'), 'utf8')) as { version: string }
  ).version
  return createHash('sha256').update(BENCH_SCHEMA).update(prismaVersion).digest('hex')
}

/**
 * `prisma generate` of the bench schema into .migrate-kit/bench-client, with the real CLI; skipped when the client
 * there was generated from the same schema by the same Prisma version.
 */
export async function generateBenchClient(bench: BenchProject, databaseUrl: string, log: (line: string) => void): Promise<void> {
  const wanted = fingerprint()
  if (existsSync(MARKER) && readFileSync(MARKER, 'utf8') === wanted && existsSync(path.join(BENCH_CLIENT_DIR, 'client.ts'))) return
  log(`Generating the bench Prisma Client into ${path.relative(REPO_ROOT, BENCH_CLIENT_DIR)} (prisma generate)…`)
  const result = await runPrisma(bench.project, ['generate', '--config', bench.configFile], { databaseUrl })
  if (result.code !== 0) throw new Error(`prisma generate failed (exit ${result.code}):\n${result.stderr || result.stdout}`)
  writeFileSync(MARKER, wanted)
}

/** A client of the generated bench schema on its own connection pool, as an app would create it. */
export async function openBenchClient(databaseUrl: string): Promise<BenchPrismaClient> {
  const jiti = createJiti(__filename, { interopDefault: true })
  const generated = await jiti.import<{ PrismaClient: BenchPrismaClientClass }>(path.join(BENCH_CLIENT_DIR, 'client.ts'))
  return new generated.PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) })
}
