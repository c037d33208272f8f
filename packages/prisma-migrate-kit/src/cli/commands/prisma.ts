import type { Command } from 'commander'
import { loadEnvFile, projectAt, type Project } from '../../project'
import { ProjectConfigError } from '../../project/errors'
import type { CliContext } from '../context'
import { runPrisma } from '../../prisma/cli'
import { action, examples, type CommandHost } from '../command'

/**
 * Prisma commands that never open a database connection, and help of any command. They run without starting or
 * reaching a database; the project's prisma.config.ts still wants a DATABASE_URL to resolve, so they get a
 * placeholder when none is set.
 */
const WITHOUT_DATABASE = new Set(['generate', 'validate', 'format', 'version', 'init', '-v', '--version'])
const HELP_FLAGS = new Set(['-h', '--help'])
/** Prisma commands that only read the database; every other one may change it. */
const READ_ONLY = new Set(['migrate status', 'migrate diff', 'db pull'])

function needsDatabase(args: string[]): boolean {
  return args.length > 0 && !WITHOUT_DATABASE.has(args[0]) && !args.some((arg) => HELP_FLAGS.has(arg))
}

/** Never connected to: only there so that `env('DATABASE_URL')` in prisma.config.ts resolves. */
export const PLACEHOLDER_DATABASE_URL = 'postgresql://placeholder@localhost:5432/no_database_needed'

const HELP = `
Runs the project's Prisma CLI (node_modules/prisma) with everything after "prisma" passed on untouched, and:
  - the schema engine wired: Prisma's native engine when it is installed, otherwise migrate-kit's offline engine
    (Prisma's own WebAssembly engine, bin/schema-engine.js), so no download from Prisma's servers is ever needed;
  - DATABASE_URL resolved like every migrate-kit command: the environment or .env, else the embedded PostgreSQL;
  - Prisma's update check and telemetry turned off (CHECKPOINT_DISABLE=1).
The exit code is Prisma's. Prisma's own help: migrate-kit prisma -- --help, or migrate-kit prisma migrate dev --help.`

/** The value of `--flag value` or `--flag=value` among Prisma's arguments. */
function flagValue(args: string[], flag: string): string | undefined {
  const index = args.findIndex((arg) => arg === flag || arg.startsWith(`${flag}=`))
  if (index < 0) return undefined
  return args[index] === flag ? args[index + 1] : args[index].slice(flag.length + 1)
}

/**
 * The project, read from the same --config / --schema Prisma is given. A command that touches no database (`init`,
 * `--version`, help) still runs where no project can be read yet, in the current folder, as Prisma itself would.
 */
async function projectForPrisma(context: CliContext, args: string[]): Promise<Project> {
  try {
    return await context.useProject({
      config: flagValue(args, '--config'),
      schema: flagValue(args, '--schema'),
      allowMissingMigrations: true,
    })
  } catch (error) {
    if (error instanceof ProjectConfigError && !needsDatabase(args) && context.cwd !== undefined) return projectAt(context.cwd)
    throw error
  }
}

export function registerPrisma(program: Command, host: CommandHost): void {
  // Options after the subcommand must reach Prisma (`prisma -v`, `migrate dev --help`), not migrate-kit's program,
  // which commander only allows when the program parses its own options positionally (before the subcommand).
  program.enablePositionalOptions()
  program
    .command('prisma')
    .description("Run Prisma's CLI with the offline schema engine and the database wired (arguments passed on as-is).")
    .argument('[args...]', 'arguments for prisma')
    .passThroughOptions()
    .allowUnknownOption()
    .addHelpText('after', HELP)
    .addHelpText(
      'after',
      examples([
        'migrate-kit prisma migrate dev --name add_display_name',
        'migrate-kit prisma migrate status',
        'migrate-kit prisma migrate diff --from-config-datasource --to-schema prisma/schema.prisma --script',
        'migrate-kit prisma generate',
      ]),
    )
    .action(
      action(host, async (args: string[]) => {
        const { context } = host
        const project = await projectForPrisma(context, args)
        let databaseUrl: string | undefined
        if (needsDatabase(args)) {
          databaseUrl = (await context.database(READ_ONLY.has(`${args[0]} ${args[1]}`) ? 'read' : 'change')).url
        } else {
          loadEnvFile(project)
          if (!process.env.DATABASE_URL) databaseUrl = PLACEHOLDER_DATABASE_URL
        }
        const result = await runPrisma(project, args, { databaseUrl, stdio: 'inherit' })
        return result.code
      }),
    )
}
