import { Command, CommanderError } from 'commander'
import { ExitCode, errorMessage, isMigrateKitError, signalExitCode } from '../errors'
import { registerCommands } from './commands'
import { CliContext } from './context'
import { processIO, type CliIO } from './io'
import { packageVersion } from '../version'

export interface RunOptions {
  cwd?: string
  io?: CliIO
  /** Listen for SIGINT / SIGTERM (the real binary does; tests calling runCli in-process do not). */
  handleSignals?: boolean
}

function listenForSignals(context: CliContext): () => void {
  let forced = false
  const listener = (signal: NodeJS.Signals) => {
    if (!forced && context.interrupt(signal)) {
      forced = true // a second Ctrl-C while the command winds down falls through to the exit below
      return
    }
    context.io.err(`Interrupted (${signal}): cleaning up.`)
    void context.dispose().finally(() => process.exit(signalExitCode(signal)))
  }
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']
  for (const signal of signals) process.on(signal, listener)
  return () => signals.forEach((signal) => process.off(signal, listener))
}

/** Builds the program; each command file registers itself with the context it will run in. */
export function buildProgram(context: CliContext, setExitCode: (code: number) => void): Command {
  const program = new Command()
    .name('migrate-kit')
    .description('Safe database change for Prisma + PostgreSQL: backfills, rollbacks, lint, checks, deploy gate.')
    .version(packageVersion(), '-v, --version')
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => context.io.out(text.replace(/\n$/, '')),
      writeErr: (text) => context.io.err(text.replace(/\n$/, '')),
    })
  program.exitOverride()
  registerCommands(program, context, setExitCode)
  addProjectOptions(program)
  program.hook('preAction', async (_program, actionCommand) => {
    // `prisma` passes its arguments on untouched and reads the project itself (see commands/prisma.ts).
    if (actionCommand.name() === 'prisma') return
    await context.useProject({
      ...projectFlags(program),
      ...projectFlags(actionCommand),
      allowMissingMigrations: ['new', 'init'].includes(actionCommand.name()),
    })
  })
  // Subcommands inherit exitOverride and output only if set on each; apply to every command recursively.
  const applyAll = (command: Command) => {
    command.exitOverride()
    command.configureOutput({
      writeOut: (text) => context.io.out(text.replace(/\n$/, '')),
      writeErr: (text) => context.io.err(text.replace(/\n$/, '')),
    })
    command.commands.forEach(applyAll)
  }
  program.commands.forEach(applyAll)
  return program
}

/** Prisma CLI's two flags that choose the project's files, on the program and on every command, as in Prisma. */
const PROJECT_OPTIONS: Array<[flags: string, description: string]> = [
  ['--config <file>', 'the Prisma config file to read (default: prisma.config.ts found from the current folder up)'],
  ['--schema <path>', "the Prisma schema file or folder (default: the config's `schema`)"],
]

function addProjectOptions(program: Command): void {
  const add = (command: Command) => {
    if (command.name() === 'prisma') return
    if (command.commands.length > 0) command.commands.forEach(add)
    else for (const [flags, description] of PROJECT_OPTIONS) command.option(flags, description)
  }
  for (const [flags, description] of PROJECT_OPTIONS) program.option(flags, description)
  program.commands.forEach(add)
}

function projectFlags(command: Command): { config?: string; schema?: string } {
  const { config, schema } = command.opts<{ config?: string; schema?: string }>()
  return { ...(config !== undefined ? { config } : {}), ...(schema !== undefined ? { schema } : {}) }
}

/** Runs the CLI and returns its exit code; never throws. */
export async function runCli(argv: string[], options: RunOptions = {}): Promise<number> {
  const io = options.io ?? processIO()
  const context = CliContext.forDirectory(options.cwd ?? process.cwd(), io)
  let exitCode: number = ExitCode.ok
  const program = buildProgram(context, (code) => {
    exitCode = code
  })
  const stopListening = options.handleSignals ? listenForSignals(context) : () => undefined
  try {
    if (argv.length === 0) {
      program.outputHelp()
      return ExitCode.usage
    }
    await program.parseAsync(argv, { from: 'user' })
    return exitCode
  } catch (error) {
    return reportError(error, io)
  } finally {
    await context.dispose()
    stopListening()
  }
}

export function reportError(error: unknown, io: CliIO): number {
  if (error instanceof CommanderError) {
    // Help and version are not failures; every other parse error is bad usage, and commander already said why.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
      return ExitCode.ok
    }
    return ExitCode.usage
  }
  if (isMigrateKitError(error)) {
    io.err(`error: ${error.message}`)
    if (error.hint) io.err(error.hint)
    return error.exitCode
  }
  io.err(`error: unexpected failure: ${errorMessage(error)}`)
  if (process.env.MIGRATE_KIT_DEBUG && error instanceof Error && error.stack) io.err(error.stack)
  else io.err('Set MIGRATE_KIT_DEBUG=1 for the stack trace, and report it if it is a bug.')
  return ExitCode.failed
}

/** Entry point of bin/migrate-kit.js. Waits for stdout to drain so piped JSON is never cut short. */
export async function main(argv: string[]): Promise<void> {
  // `migrate-kit status | head`: once the reader is gone, what is left to print is dropped and the command still
  // finishes its work (a deploy or a backfill must not stop half-way, or crash, because nobody reads its output).
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error
    })
  }
  const code = await runCli(argv, { handleSignals: true })
  process.stdout.write('', () => process.exit(code))
}
