/**
 * The shapes the drop-in schema engine speaks: what the Prisma CLI sends it (arguments, JSON-RPC lines) and what
 * the WebAssembly build of Prisma's engine exposes. The engine's own request/response types come from
 * @prisma/schema-engine-wasm, generated from the Rust sources, so they cannot drift from the engine we load.
 */
import type { ConstructorOptions, DevDiagnosticInput, EvaluateDataLossInput, SchemaEngine } from '@prisma/schema-engine-wasm' with {
  'resolution-mode': 'import',
}
import type { WasmExports } from './webassembly'

export type { ConstructorOptions, DevDiagnosticInput, EvaluateDataLossInput }

/** The engine instance of the WebAssembly build; its methods carry the JSON-RPC method names. */
export type WasmSchemaEngine = SchemaEngine

/** The JS glue of @prisma/schema-engine-wasm (schema_engine_bg.js), as far as we use it. */
export interface SchemaEngineGlue {
  __wbg_set_wasm(exports: WasmExports): void
  /** The prisma-engines commit the loaded .wasm was built from. */
  version(): string
  SchemaEngine: {
    new: (options: ConstructorOptions, log: (line: string) => void, adapterFactory: object) => Promise<WasmSchemaEngine>
  }
}

/** What `--datasource '<json>'` carries: the datasource block of prisma.config.ts. */
export interface DatasourceArg {
  url?: string
  shadowDatabaseUrl?: string
}

/** A script (a migration) PostgreSQL refused, as it reported it. */
export interface ScriptFailure {
  code: string
  message: string
  detail?: string
  hint?: string
}

/** A JSON-RPC 2.0 request, from the CLI to us or (for `print`) from us to the CLI. */
export interface RpcRequest {
  jsonrpc: '2.0'
  id: number | string
  method: string
  params?: unknown
}

/** The `data` of an error response, in the shape the Prisma CLI reads (user-facing errors carry error_code). */
export interface EngineErrorData {
  is_panic: boolean
  message: string
  error_code?: string
  meta?: Record<string, unknown>
  backtrace?: string
}

export interface RpcErrorBody {
  code: number
  message: string
  data?: EngineErrorData
}

export type RpcResponse =
  { jsonrpc: '2.0'; id: number | string | null; result: unknown } | { jsonrpc: '2.0'; id: number | string | null; error: RpcErrorBody }

/** The glue reports Rust panics through this global; it must exist before the module is instantiated. */
export interface WasmPanicRegistry {
  message: string
  set_message(message: string): void
  get(): string
}

declare global {
  var PRISMA_WASM_PANIC_REGISTRY: WasmPanicRegistry | undefined
}
