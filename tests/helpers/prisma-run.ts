import { performance } from 'node:perf_hooks'
import {
  OFFLINE_SCHEMA_ENGINE,
  runPrisma,
  type PrismaResult,
  type PrismaRunOptions,
} from '../../packages/prisma-migrate-kit/src/prisma/cli'
import { projectAt, type Project } from '../../packages/prisma-migrate-kit/src/project'

/** The name Prisma (and our engine) gives temporary shadow databases. */
export const SHADOW_PREFIX = 'prisma_migrate_shadow_db_'

/** The shadow databases an engine reported creating, read from the engine log lines the CLI shows under DEBUG. */
export function shadowDatabasesCreated(stderr: string): string[] {
  return [...stderr.matchAll(new RegExp(`Created shadow database (${SHADOW_PREFIX}[0-9a-f-]+)`, 'g'))].map((match) => match[1])
}

export interface Timing {
  command: string
  seconds: number
}

/**
 * Runs the real Prisma CLI on a project through runPrisma, always with our offline engine (so these tests prove it
 * even on a machine where Prisma's native engine happens to be installed), and keeps what the tests check afterwards:
 * the time each command took and every shadow database the engine created.
 */
export class PrismaSession {
  readonly project: Project
  readonly timings: Timing[] = []
  readonly shadowDatabases: string[] = []

  constructor(
    root: string,
    private readonly databaseUrl: string,
  ) {
    this.project = projectAt(root)
  }

  async run(args: string[], options: PrismaRunOptions = {}): Promise<PrismaResult> {
    const started = performance.now()
    const result = await runPrisma(this.project, args, {
      databaseUrl: this.databaseUrl,
      ...options,
      env: {
        PRISMA_SCHEMA_ENGINE_BINARY: OFFLINE_SCHEMA_ENGINE,
        // Makes the CLI pass the engine's log lines on to its stderr, where we find the shadow databases.
        DEBUG: 'prisma:schemaEngine:stderr',
        ...options.env,
      },
    })
    this.timings.push({ command: commandName(args), seconds: (performance.now() - started) / 1000 })
    this.shadowDatabases.push(...shadowDatabasesCreated(result.stderr))
    return result
  }

  /** One line per command: count, mean and max seconds (printed when MIGRATE_KIT_TIMINGS=1). */
  timingReport(): string {
    const byCommand = new Map<string, number[]>()
    for (const { command, seconds } of this.timings) byCommand.set(command, [...(byCommand.get(command) ?? []), seconds])
    return [...byCommand.entries()]
      .map(([command, all]) => {
        const mean = all.reduce((sum, value) => sum + value, 0) / all.length
        return `${command.padEnd(28)} n=${String(all.length).padStart(2)}  mean ${mean.toFixed(2)} s  max ${Math.max(...all).toFixed(2)} s`
      })
      .join('\n')
  }
}

/** `migrate dev`, `db execute`, `generate`: the command without its options. */
function commandName(args: string[]): string {
  const words: string[] = []
  for (const arg of args) {
    if (arg.startsWith('-')) break
    words.push(arg)
  }
  return words.join(' ')
}
