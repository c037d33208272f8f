import { errorMessage } from '../../errors'
import { canConnectToDatabase, createDatabase, dropDatabase } from './database-admin'
import { assertPostgresUrl, PrismaKnownError } from './errors'
import { logLine } from './log'
import type { DatasourceArg } from './types'

const COMMANDS: Record<string, (url: string) => Promise<string>> = {
  'can-connect-to-database': async (url) => {
    await canConnectToDatabase(url)
    return 'Connection successful'
  },
  'create-database': async (url) => `Database '${await createDatabase(url)}' was successfully created.`,
  'drop-database': async (url) => {
    await dropDatabase(url)
    return 'The database was successfully dropped.'
  },
}

/**
 * `schema-engine --datasource '<json>' cli <command>`: one database-level command, then exit. The CLI skips the
 * first stderr line of this mode and reads the others as JSON log lines; on failure it takes `error_code` and
 * `message` from the ERROR line of target `schema_engine::logger` (P1003 makes `migrate dev` create the database).
 * Exit code 0 on success, 1 on failure.
 */
export async function runCliCommand(command: string, datasource: DatasourceArg): Promise<number> {
  logLine('INFO', { message: `Starting migrate-kit schema engine CLI: ${command}` })
  const run = COMMANDS[command]
  try {
    if (!run) {
      throw new Error(`unknown cli command "${command}" (known: ${Object.keys(COMMANDS).join(', ')})`)
    }
    if (!datasource.url) throw new Error('cli commands need --datasource \'{"url":"postgresql://…"}\'')
    assertPostgresUrl(datasource.url)
    logLine('INFO', { message: await run(datasource.url) })
    return 0
  } catch (error) {
    const fields =
      error instanceof PrismaKnownError
        ? { is_panic: false, error_code: error.code, message: error.message, meta: error.meta }
        : { is_panic: false, message: errorMessage(error) }
    logLine('ERROR', fields, 'schema_engine::logger')
    return 1
  }
}
