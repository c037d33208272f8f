import { InvalidArgumentError } from 'commander'
import type { ClientBase } from 'pg'
import { withConnection } from '../../db/connect'
import type { DatabaseUse } from '../../db/database'
import { formatProblem } from '../../backfill/errors'
import { loadBackfills, type LoadedBackfill } from '../../backfill/loader'
import type { CliContext } from '../context'

/** Shared by the backfill subcommands: option parsing, loading files, a short-lived connection. */

export function positiveNumber(value: string): number {
  const parsed = Number(value)
  if (!Number.isFinite(parsed) || parsed <= 0) throw new InvalidArgumentError('expected a number > 0')
  return parsed
}

/**
 * The project's backfill files for commands that only read (status, list, restore): a broken file is reported on
 * stderr but does not hide the others.
 */
export async function loadForReading(context: CliContext): Promise<{ backfills: LoadedBackfill[]; problems: number }> {
  const { backfills, problems } = await loadBackfills(context.project)
  for (const problem of problems) for (const line of formatProblem(problem)) context.io.err(`warning:${line}`)
  return { backfills, problems: problems.length }
}

export async function withDatabase<T>(
  context: CliContext,
  use: DatabaseUse,
  fn: (client: ClientBase) => Promise<T>,
  applicationName = 'migrate-kit backfill',
): Promise<T> {
  const database = await context.database(use)
  return withConnection(database.url, fn, { applicationName })
}

/** REDIS_URL, from the environment or .env (read when the database was opened). */
export function redisUrl(): string | undefined {
  const url = process.env.REDIS_URL?.trim()
  return url ? url : undefined
}
