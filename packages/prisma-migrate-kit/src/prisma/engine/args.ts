import type { DatasourceArg } from './types'

/** How the Prisma CLI starts its schema engine; the three shapes it uses. */
export type EngineInvocation =
  | { mode: 'version' }
  | { mode: 'help' }
  | { mode: 'cli'; command: string; datasource: DatasourceArg }
  | {
      mode: 'rpc'
      /** Schema file paths, in the order given (a multi-file schema passes several). */
      datamodels: string[]
      datasource: DatasourceArg
    }

export class EngineArgumentError extends Error {
  constructor(message: string) {
    super(`${message}. Usage: schema-engine [--datamodels <file>…] [--datasource '<json>'] [cli <command>] | --version`)
    this.name = 'EngineArgumentError'
  }
}

function parseDatasource(json: string): DatasourceArg {
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch {
    throw new EngineArgumentError('--datasource must be JSON such as {"url":"postgresql://…"}')
  }
  if (!parsed || typeof parsed !== 'object') throw new EngineArgumentError('--datasource must be a JSON object')
  const { url, shadowDatabaseUrl } = parsed as Record<string, unknown>
  for (const [name, value] of Object.entries({ url, shadowDatabaseUrl })) {
    if (value !== undefined && value !== null && typeof value !== 'string') {
      throw new EngineArgumentError(`--datasource: "${name}" must be a string`)
    }
  }
  return {
    url: typeof url === 'string' ? url : undefined,
    shadowDatabaseUrl: typeof shadowDatabaseUrl === 'string' && shadowDatabaseUrl ? shadowDatabaseUrl : undefined,
  }
}

/**
 * Parses the arguments the CLI passes. `--enabled-preview-features` and `--extension-types` are accepted and
 * ignored: the WebAssembly engine takes preview features from the schema itself, and extension types are not
 * supported by it.
 */
export function parseEngineArgs(argv: string[]): EngineInvocation {
  if (argv.includes('--version') || argv.includes('-V')) return { mode: 'version' }
  if (argv.includes('--help') || argv.includes('-h')) return { mode: 'help' }
  const datamodels: string[] = []
  let datasource: DatasourceArg = {}
  let cliCommand: string | undefined
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]
    const value = () => {
      const next = argv[index + 1]
      if (next === undefined) throw new EngineArgumentError(`${arg} needs a value`)
      index++
      return next
    }
    switch (arg) {
      case '--datamodels':
        datamodels.push(value())
        break
      case '--datasource':
        datasource = parseDatasource(value())
        break
      case '--enabled-preview-features':
      case '--extension-types':
        value()
        break
      case 'cli':
        cliCommand = value()
        break
      default:
        throw new EngineArgumentError(`unknown argument "${arg}"`)
    }
  }
  if (cliCommand !== undefined) return { mode: 'cli', command: cliCommand, datasource }
  return { mode: 'rpc', datamodels, datasource }
}
