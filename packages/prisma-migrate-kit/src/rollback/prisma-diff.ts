import { runPrisma } from '../prisma/cli'
import type { Project } from '../project'

/** What Prisma prints for two identical schemas. */
export const EMPTY_DIFF = '-- This is an empty migration.'

export type DiffOutcome =
  | { kind: 'script'; script: string }
  | { kind: 'empty'; script: string }
  | { kind: 'failed'; code: number; output: string }
  /**
   * Exit 0 and nothing printed. Prisma prints at least EMPTY_DIFF, so this means its schema engine died before
   * answering (the WebAssembly engine crashes on some SQL, CHECK constraints among it); taking it for "no
   * difference" would write a rollback that reverts nothing.
   */
  | { kind: 'silent' }

/** `prisma migrate diff <from> <to> --script`, classified; the database is where Prisma makes its shadow databases. */
export async function prismaDiff(
  project: Project,
  fromTo: string[],
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<DiffOutcome> {
  const result = await runPrisma(project, ['migrate', 'diff', ...fromTo, '--script'], { databaseUrl, env })
  if (result.code !== 0) {
    const output = (result.stderr.trim() || result.stdout.trim())
      .split('\n')
      .slice(-15)
      .map((line) => `  ${line}`)
      .join('\n')
    return { kind: 'failed', code: result.code, output }
  }
  if (result.stdout.trim() === '') return { kind: 'silent' }
  return { kind: result.stdout.trim() === EMPTY_DIFF ? 'empty' : 'script', script: result.stdout }
}
