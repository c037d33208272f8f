import type { CliContext } from './context'

/** What a command file gets to register itself: the context it runs in and a way to set the exit code. */
export interface CommandHost {
  context: CliContext
  setExitCode(code: number): void
}

/** Wraps a command body: its returned number (if any) becomes the exit code; thrown errors reach main's handler. */
export function action<A extends unknown[]>(
  host: CommandHost,
  body: (...args: A) => Promise<number | void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const code = await body(...args)
    if (typeof code === 'number') host.setExitCode(code)
  }
}

/** The examples block every command's --help ends with (Prisma's own commands do the same). */
export function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`
}
