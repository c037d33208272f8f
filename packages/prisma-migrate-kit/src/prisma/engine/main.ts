import { errorMessage } from '../../errors'
import { createEngineDatabase, type EngineDatabase } from './adapter'
import { parseEngineArgs, type EngineInvocation } from './args'
import { runCliCommand } from './cli-mode'
import { addSecretUrl, logLine } from './log'
import { RpcPeer } from './rpc-server'
import { EngineSession } from './session'
import type { DatasourceArg } from './types'
import { loadWasmEngine, type LoadedWasm } from './wasm'

/**
 * bin/schema-engine.js: a drop-in for Prisma's native `schema-engine` binary, set through
 * PRISMA_SCHEMA_ENGINE_BINARY, built on Prisma's own WebAssembly build of the same engine and a PostgreSQL driver
 * adapter. The CLI starts it in one of three ways: `--version`; `cli <command>` for one database-level command; or
 * with schema files and a datasource, speaking JSON-RPC on stdin/stdout until stdin closes.
 */

const EXIT_PANIC = 101
/** Cleanup that cannot finish (a server gone mid-drop) must not keep a killed engine around. */
const SHUTDOWN_LIMIT_MS = 10_000

const USAGE = `migrate-kit schema engine: a drop-in for Prisma's schema-engine binary (PostgreSQL), built on Prisma's
WebAssembly engine. Prisma's CLI starts it; set PRISMA_SCHEMA_ENGINE_BINARY to this file.

Usage:
  schema-engine --version
  schema-engine --datasource '{"url":"postgresql://…"}' cli can-connect-to-database|create-database|drop-database
  schema-engine --datamodels <schema.prisma>… --datasource '{"url":…,"shadowDatabaseUrl"?:…}'   (JSON-RPC on stdio)`

export async function main(argv: string[]): Promise<void> {
  quietNodeWarnings()
  try {
    await run(argv)
  } catch (error) {
    logLine('ERROR', { is_panic: false, message: `migrate-kit schema engine failed: ${errorMessage(error)}` })
    process.exit(1)
  }
}

async function run(argv: string[]): Promise<void> {
  let invocation: EngineInvocation
  try {
    invocation = parseEngineArgs(argv)
  } catch (error) {
    logLine('ERROR', { is_panic: false, message: errorMessage(error) })
    process.exit(1)
  }
  switch (invocation.mode) {
    case 'version': {
      const wasm = await loadWasmEngine()
      process.stdout.write(
        `schema-engine-cli ${wasm.engineCommit} (migrate-kit, WebAssembly from ${wasm.source === 'prisma' ? 'prisma/build' : wasm.gluePackage}, glue ${wasm.gluePackage})\n`,
      )
      return process.exit(0)
    }
    case 'help':
      process.stdout.write(`${USAGE}\n`)
      return process.exit(0)
    case 'cli':
      addSecretUrl(invocation.datasource.url)
      return process.exit(await runCliCommand(invocation.command, invocation.datasource))
    case 'rpc':
      return serve(invocation.datamodels, invocation.datasource)
  }
}

async function serve(datamodels: string[], datasource: DatasourceArg): Promise<void> {
  addSecretUrl(datasource.url)
  addSecretUrl(datasource.shadowDatabaseUrl)
  const database = createEngineDatabase(datasource)
  const shutdown = onceShutdown(database)
  // The CLI ends a command by closing our stdin and, on Linux, sending SIGTERM at once; Ctrl-C reaches us too.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => void shutdown(0))
  // A trap inside the WebAssembly engine (a Rust panic) can surface outside any request; the shadow databases must
  // still be dropped and the CLI told it was a panic.
  const crash = (error: unknown) => {
    const panic = globalThis.PRISMA_WASM_PANIC_REGISTRY?.get()
    logLine('ERROR', { is_panic: true, message: panic ? `${panic} (${errorMessage(error)})` : errorMessage(error) })
    void shutdown(EXIT_PANIC)
  }
  process.on('uncaughtException', crash)
  process.on('unhandledRejection', crash)
  let wasm: LoadedWasm
  try {
    wasm = await loadWasmEngine()
  } catch (error) {
    logLine('ERROR', { message: errorMessage(error) })
    return shutdown(1)
  }
  const session = new EngineSession({ datamodels, datasource, wasm, database, onPanic: () => void shutdown(EXIT_PANIC) })
  await new RpcPeer(process.stdin, process.stdout).serve(session)
  await shutdown(0)
}

/** Closes pools and drops leftover shadow databases once, however the process ends, then exits. */
function onceShutdown(database: EngineDatabase): (code: number) => Promise<void> {
  let started = false
  return async (code) => {
    if (started) return
    started = true
    setTimeout(() => process.exit(code), SHUTDOWN_LIMIT_MS).unref()
    for (const failure of await database.dispose().catch((error: unknown) => [errorMessage(error)])) {
      logLine('WARN', { message: `could not drop shadow database ${failure}; drop it by hand` })
    }
    process.exit(code)
  }
}

/**
 * Node prints warnings (a deprecated sslmode in the URL, for instance) as plain text on stderr, but the CLI parses
 * our stderr as JSON lines; send them as log lines instead.
 */
function quietNodeWarnings(): void {
  process.removeAllListeners('warning')
  process.on('warning', (warning) => logLine('WARN', { message: `${warning.name}: ${warning.message}` }))
  // The CLI may close our pipes before we finish cleaning up; a write then must not crash the cleanup.
  process.stdout.on('error', () => undefined)
  process.stderr.on('error', () => undefined)
}
