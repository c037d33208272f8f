import { UsageError } from '../errors'

/** Why a deploy is refused before anything runs. */
export type DeployRefusalReason = 'failed_migration' | 'edited_migration' | 'until_applied'

export interface DeployProblem {
  reason: DeployRefusalReason
  migration: string
  /** What is wrong, in one sentence. */
  message: string
  /** The exact command or edit that fixes it. */
  hint: string
  /** Relative to the project root. */
  file?: string
}

/**
 * Everything that stops a deploy before it starts (exit 2, nothing changed), all at once: a failed migration Prisma
 * would refuse to go past, a migration.sql edited after it ran (the database holds something else than the file
 * says), an `--until` that is already behind the database.
 */
export class DeployRefusedError extends UsageError {
  constructor(readonly problems: DeployProblem[]) {
    super(refusalMessage(problems), { hint: problems.map((problem) => problem.hint).join('\n') })
  }
}

function refusalMessage(problems: DeployProblem[]): string {
  const head = 'deploy refused, nothing was changed'
  if (problems.length === 1) return `${head}: ${problems[0].message}`
  return `${head}:\n${problems.map((problem) => `  - ${problem.message}`).join('\n')}`
}
