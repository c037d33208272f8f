import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { InputError } from '../errors'
import type { MigrationOnDisk } from '../prisma/migrations'
import { relativePath, type Project } from '../project'

/**
 * Round trips known to fail on a history that cannot be changed any more (a data migration nobody can undo, a
 * rollback that restores everything but a constraint name), each with the reason a reviewer accepted. Committed,
 * so CI is green on the known history and red on any new failure, and red again when an accepted failure starts
 * passing (the file must stay true).
 */
export interface AcceptedFailure {
  migration: string
  reason: string
}

export interface AcceptedFailures {
  /** Relative to the project root, for messages. */
  file: string
  byMigration: Map<string, AcceptedFailure>
}

export const ACCEPTED_FAILURES_FILE = 'accepted-failures.json'

export function acceptedFailuresPath(project: Project): string {
  return path.join(project.rollbacksDir, ACCEPTED_FAILURES_FILE)
}

const EXAMPLE = '{ "accepted": [{ "migration": "20240101000000_seed_plans", "reason": "inserts reference rows a rollback must keep" }] }'

/** Reads rollbacks/accepted-failures.json (none: nothing accepted). A wrong file is refused (exit 2), never half-read. */
export function readAcceptedFailures(project: Project, history: MigrationOnDisk[]): AcceptedFailures {
  const file = acceptedFailuresPath(project)
  const shown = relativePath(project, file)
  const accepted: AcceptedFailures = { file: shown, byMigration: new Map() }
  if (!existsSync(file)) return accepted
  const refuse = (why: string) => new InputError(`${shown}: ${why}`, shown, undefined, { hint: `The file reads: ${EXAMPLE}` })
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw refuse(`not valid JSON (${(error as Error).message})`)
  }
  const entries = (parsed as { accepted?: unknown } | null)?.accepted
  if (!Array.isArray(entries)) throw refuse('it must be an object with an "accepted" list')
  const known = new Set(history.map((migration) => migration.name))
  for (const [index, entry] of entries.entries()) {
    const { migration, reason } = (entry ?? {}) as { migration?: unknown; reason?: unknown }
    if (typeof migration !== 'string' || migration === '') throw refuse(`entry ${index + 1} has no "migration"`)
    if (typeof reason !== 'string' || reason.trim() === '') throw refuse(`${migration} has no "reason": every accepted failure says why`)
    if (!known.has(migration)) throw refuse(`${migration} is not a migration of this project (a renamed or deleted folder?)`)
    if (accepted.byMigration.has(migration)) throw refuse(`${migration} is listed twice`)
    accepted.byMigration.set(migration, { migration, reason: reason.trim() })
  }
  return accepted
}
