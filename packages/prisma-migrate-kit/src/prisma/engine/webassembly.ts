/**
 * The part of Node's global WebAssembly API the engine uses. The project compiles against lib ES2023 without the DOM
 * lib, which is where TypeScript declares WebAssembly; a local, typed view avoids adding either globally.
 */

/** An opaque compiled module. */
export interface WasmModule {
  readonly __wasmModule?: never
}

export interface WasmImportDescriptor {
  module: string
  name: string
  kind: string
}

export type WasmExports = Record<string, unknown>

export interface WasmInstance {
  readonly exports: WasmExports
}

interface WebAssemblyApi {
  Module: {
    new (bytes: Uint8Array): WasmModule
    imports(module: WasmModule): WasmImportDescriptor[]
    exports(module: WasmModule): Array<{ name: string; kind: string }>
  }
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance
  RuntimeError: new (message?: string) => Error
}

export const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly

/** A trap of the WebAssembly code: a Rust panic of the engine surfaces as `RuntimeError: unreachable`. */
export function isWasmTrap(error: unknown): error is Error {
  return error instanceof webAssembly.RuntimeError
}
