import { readFileSync } from 'node:fs'
import type { EngineDatabase } from './adapter'
import { createDatabase, dropDatabase } from './database-admin'
import { failedMigrationError, restoreAdapterErrors, toEngineErrorData } from './errors'
import { forwardEngineLog, logLine, scrub } from './log'
import { RpcError, RPC_METHOD_NOT_FOUND, type RpcHandler, type RpcPeer } from './rpc-server'
import type { DatasourceArg, DevDiagnosticInput, EvaluateDataLossInput, RpcErrorBody, WasmSchemaEngine } from './types'
import type { LoadedWasm } from './wasm'

/** The JSON-RPC error code of every engine error (the native engine's value; the CLI reads `data`). */
const ENGINE_ERROR_CODE = 4466

/**
 * The WebAssembly engine validates the schema files it starts with and panics on none. Commands that have no schema
 * (a diff between two migration folders, db execute) start it with this one, which only names the provider.
 */
const FALLBACK_DATAMODEL: [string, string] = ['schema.prisma', 'datasource db {\n  provider = "postgresql"\n}\n']

/** Methods the CLI calls that the WebAssembly engine answers as they are. */
const PASS_THROUGH_METHODS = [
  'createMigration',
  'dbExecute',
  'devDiagnostic',
  'diagnoseMigrationHistory',
  'ensureConnectionValidity',
  'introspect',
  'introspectSql',
  'markMigrationApplied',
  'markMigrationRolledBack',
  'reset',
  'schemaPush',
] as const satisfies ReadonlyArray<keyof WasmSchemaEngine>

type PassThroughMethod = (typeof PASS_THROUGH_METHODS)[number]

function isPassThrough(method: string): method is PassThroughMethod {
  return (PASS_THROUGH_METHODS as readonly string[]).includes(method)
}

/** The message of the WebAssembly engine when evaluateDataLoss runs right after migrations were applied. */
const SHADOW_FACTORY_ERROR = /shadow DB must be provided through an external factory/i

export interface SessionOptions {
  datamodels: string[]
  datasource: DatasourceArg
  wasm: LoadedWasm
  database: EngineDatabase
  /** Called after the reply to a request that made the engine panic: the instance cannot be used again. */
  onPanic(): void
}

/** One engine process serving the CLI: the WebAssembly engine (started on the first request) and the fixes around it. */
export class EngineSession implements RpcHandler {
  private engine?: Promise<WasmSchemaEngine>

  constructor(private readonly options: SessionOptions) {}

  async handle(method: string, params: unknown, peer: RpcPeer): Promise<unknown> {
    try {
      return await this.dispatch(method, params, peer)
    } finally {
      // The engine disposes of each shadow database it used; whatever is left (an error midway) goes now, so none
      // outlives the request that created it — the CLI may kill us right after our reply.
      for (const failure of await this.options.database.shadows.dropAll()) {
        logLine('WARN', { message: `could not drop shadow database ${failure}; drop it by hand` })
      }
    }
  }

  toErrorBody(error: unknown): RpcErrorBody {
    if (error instanceof RpcError) return { code: error.code, message: error.message }
    const data = restoreAdapterErrors(
      toEngineErrorData(error, globalThis.PRISMA_WASM_PANIC_REGISTRY?.get()),
      this.options.database.factory.errorRegistry,
    )
    data.message = scrub(data.message)
    if (data.backtrace) data.backtrace = scrub(data.backtrace)
    if (data.is_panic) setImmediate(() => this.options.onPanic())
    return { code: ENGINE_ERROR_CODE, message: 'An error happened. Check the data field for details.', data }
  }

  private async dispatch(method: string, params: unknown, peer: RpcPeer): Promise<unknown> {
    switch (method) {
      case 'diff':
        return this.diff(params, peer)
      case 'applyMigrations':
        return this.applyMigrations(params)
      case 'evaluateDataLoss':
        return this.evaluateDataLoss(params as EvaluateDataLossInput)
      case 'getDatabaseVersion':
        return (await this.instance()).version(null)
      case 'createDatabase':
        return { databaseName: await createDatabase(this.urlFrom(params)) }
      case 'dropDatabase':
        await dropDatabase(this.urlFrom(params))
        return {}
      case 'debugPanic':
        return (await this.instance()).debugPanic()
      default:
        if (!isPassThrough(method)) {
          throw new RpcError(RPC_METHOD_NOT_FOUND, `Method not found: ${method} (not supported by migrate-kit's schema engine)`)
        }
        return this.callEngine(method, params)
    }
  }

  private async callEngine(method: PassThroughMethod, params: unknown): Promise<unknown> {
    const engine = await this.instance()
    const call = (engine[method] as (this: WasmSchemaEngine, input: unknown) => Promise<unknown>).bind(engine)
    return call(params)
  }

  private async applyMigrations(params: unknown): Promise<unknown> {
    const { database } = this.options
    database.lastScriptFailure = undefined
    try {
      const engine = await this.instance()
      return await engine.applyMigrations(params as Parameters<WasmSchemaEngine['applyMigrations']>[0])
    } catch (error) {
      throw failedMigrationError(error, database.lastScriptFailure) ?? error
    }
  }

  /**
   * The WebAssembly engine returns the diff as `stdout`; the native engine sends it to the CLI as a `print`
   * request instead (the CLI writes it to its stdout, or to the --output file it captures), then answers
   * `{ exitCode }`.
   */
  private async diff(params: unknown, peer: RpcPeer): Promise<unknown> {
    const engine = await this.instance()
    const result = await engine.diff(params as Parameters<WasmSchemaEngine['diff']>[0])
    if (result.stdout !== null && result.stdout !== undefined) {
      await peer.request('print', { content: result.stdout.replace(/\n$/, '') })
    }
    return { exitCode: result.exitCode }
  }

  /**
   * Right after `migrate dev` applied pending migrations, the WebAssembly engine's evaluateDataLoss fails with
   * "PostgreSQL shadow DB must be provided through an external factory". Running devDiagnostic on the same
   * migrations first, then evaluateDataLoss once more, succeeds (seen every time; the native engine has no such step).
   */
  private async evaluateDataLoss(input: EvaluateDataLossInput): Promise<unknown> {
    const engine = await this.instance()
    try {
      return await engine.evaluateDataLoss(input)
    } catch (error) {
      if (!(error instanceof Error) || !SHADOW_FACTORY_ERROR.test(error.message)) throw error
      logLine('INFO', { message: 'evaluateDataLoss needs the shadow database set up again: running devDiagnostic, then retrying once' })
      const diagnostic: DevDiagnosticInput = { migrationsList: input.migrationsList, filters: input.filters }
      await engine.devDiagnostic(diagnostic)
      return engine.evaluateDataLoss(input)
    }
  }

  private urlFrom(params: unknown): string {
    const datasource = (params as { datasource?: { tag?: string; url?: string } } | undefined)?.datasource
    const url = datasource?.tag === 'ConnectionString' ? datasource.url : this.options.datasource.url
    if (!url) throw new Error('No database URL: set datasource.url in prisma.config.ts.')
    return url
  }

  /** Started on first use, so `--version` and requests that need no database never connect. */
  private instance(): Promise<WasmSchemaEngine> {
    this.engine ??= this.start()
    return this.engine
  }

  private async start(): Promise<WasmSchemaEngine> {
    const { datamodels, wasm, database } = this.options
    const files: Array<[string, string]> = datamodels.map((file) => [file, readFileSync(file, 'utf8')])
    logLine('INFO', {
      message: `Starting migrate-kit schema engine (Prisma schema engine ${wasm.engineCommit}, WebAssembly from ${wasm.source === 'prisma' ? 'the prisma package' : '@prisma/schema-engine-wasm'})`,
      wasm_file: wasm.wasmFile,
    })
    return wasm.glue.SchemaEngine.new({ datamodels: files.length > 0 ? files : [FALLBACK_DATAMODEL] }, forwardEngineLog, database.factory)
  }
}
