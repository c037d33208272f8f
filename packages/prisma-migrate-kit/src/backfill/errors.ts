import { InputError, UsageError } from '../errors'

/** One reason a backfill definition cannot run, pointing at the file and the field. */
export interface DefinitionProblem {
  /** The file, relative to the project root when known. */
  file: string
  backfill?: string
  /** update, where, verify, key, table, snapshot, invalidate, name … */
  field?: string
  message: string
  /** Extra lines: the SQL with a caret under the error. */
  excerpt?: string[]
}

/** Bad backfill files or definitions, found before any row was touched. Exit 2. Lists every problem at once. */
export class BackfillDefinitionError extends InputError {
  constructor(readonly problems: DefinitionProblem[]) {
    super(
      [
        `${problems.length === 1 ? 'a backfill definition problem was' : `${problems.length} backfill definition problems were`} found before any row was touched:`,
        ...problems.flatMap(formatProblem),
      ].join('\n'),
      problems[0]?.file,
      undefined,
      { hint: 'Fix the file(s) above and run the command again; nothing was changed.' },
    )
  }
}

export function formatProblem(problem: DefinitionProblem): string[] {
  const where = [problem.file, problem.backfill && `backfill "${problem.backfill}"`, problem.field].filter(Boolean).join(': ')
  return [`  ${where}: ${problem.message}`, ...(problem.excerpt ?? []).map((line) => `      ${line}`)]
}

export class UnknownBackfillError extends UsageError {
  constructor(name: string, known: string[]) {
    super(`no backfill named "${name}" (known: ${known.length > 0 ? known.join(', ') : 'none'})`, {
      hint: 'List them with `migrate-kit backfill list`; a backfill is a file backfills/<name>.ts exporting defineBackfill({...}).',
    })
  }
}

/**
 * The precheck query returns rows: values the update cannot handle (a conversion that fails). The run does not start,
 * so that no batch leaves them half-converted. Exit 2: nothing was changed.
 */
export class PrecheckFailedError extends UsageError {
  constructor(name: string, description: string) {
    super(`backfill ${name} did not start: ${description}; nothing was changed`, {
      hint:
        'Fix those rows (or the conversion the precheck calls, in its migration) and run it again; ' +
        `\`migrate-kit backfill run ${name} --dry-run\` shows them too.`,
    })
  }
}
