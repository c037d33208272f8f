import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { SchemaEngineGlue, WasmPanicRegistry } from './types'
import { webAssembly, type WasmModule } from './webassembly'

/** Which .wasm file runs, and why: printed by `--version` and in the engine's first log line. */
export interface LoadedWasm {
  glue: SchemaEngineGlue
  /** `prisma`: the file shipped inside the prisma package (same engine commit as the CLI); `package`: the one of
   * @prisma/schema-engine-wasm, used when the CLI's file does not fit the glue. */
  source: 'prisma' | 'package'
  wasmFile: string
  /** The prisma-engines commit the module was built from. */
  engineCommit: string
}

/** The module name the wasm-bindgen output imports its JS functions under. */
const GLUE_IMPORT_MODULE = './schema_engine_bg.js'

function installPanicRegistry(): WasmPanicRegistry {
  const registry: WasmPanicRegistry = {
    message: '',
    set_message(message: string) {
      registry.message = message
    },
    get: () => registry.message,
  }
  globalThis.PRISMA_WASM_PANIC_REGISTRY = registry
  return registry
}

/**
 * The prisma package the CLI runs from ships `build/schema_engine_bg.wasm` built from the very engine commit of that
 * CLI, but no JS glue for it; @prisma/schema-engine-wasm ships the glue (and its own, possibly newer, .wasm). The CLI
 * starts us in the project folder, so the project's prisma is the CLI that spawned us; the glue package's own .wasm is
 * the fallback.
 */
function candidateWasmFiles(searchFrom: string[]): Array<{ source: LoadedWasm['source']; file: string }> {
  const candidates: Array<{ source: LoadedWasm['source']; file: string }> = []
  for (const base of searchFrom) {
    const prismaDir = resolvePackageDir('prisma', base)
    if (prismaDir) candidates.push({ source: 'prisma', file: path.join(prismaDir, 'build', 'schema_engine_bg.wasm') })
  }
  candidates.push({ source: 'package', file: path.join(glueDir(), 'schema_engine_bg.wasm') })
  const unique = new Map(candidates.filter(({ file }) => existsSync(file)).map((candidate) => [candidate.file, candidate]))
  return [...unique.values()]
}

function resolvePackageDir(name: string, from: string): string | undefined {
  try {
    return path.dirname(require.resolve(`${name}/package.json`, { paths: [from] }))
  } catch {
    return undefined
  }
}

function glueDir(): string {
  // The package's exports map has no ./package.json entry; resolve its main file instead.
  return path.dirname(require.resolve('@prisma/schema-engine-wasm'))
}

/**
 * A .wasm fits the glue when every function it imports is one the glue exports: wasm-bindgen puts a hash into each
 * import name, so a glue from another build simply lacks the names. Checking first gives a clear reason instead of
 * a LinkError from deep inside instantiation.
 */
function missingImports(module: WasmModule, glue: object): string[] {
  return webAssembly.Module.imports(module)
    .filter((entry) => entry.module === GLUE_IMPORT_MODULE && !(entry.name in glue))
    .map((entry) => entry.name)
}

/**
 * Loads the glue (an ES module: a dynamic import, kept as such by the node16 module setting) and instantiates the
 * first candidate .wasm that links. A glue module holds the instance in module state, so each attempt imports a
 * fresh copy (the query string makes it a distinct module).
 */
export async function loadWasmEngine(searchFrom: string[] = [process.cwd()]): Promise<LoadedWasm> {
  installPanicRegistry()
  const glueUrl = pathToFileURL(path.join(glueDir(), 'schema_engine_bg.js')).href
  const failures: string[] = []
  for (const [attempt, candidate] of candidateWasmFiles(searchFrom).entries()) {
    const glue = (await import(`${glueUrl}?attempt=${attempt}`)) as SchemaEngineGlue
    let module: WasmModule
    try {
      module = new webAssembly.Module(readFileSync(candidate.file))
    } catch (error) {
      failures.push(`${candidate.file}: not a valid WebAssembly module (${String(error)})`)
      continue
    }
    const missing = missingImports(module, glue)
    if (missing.length > 0) {
      failures.push(`${candidate.file}: needs ${missing.length} functions the glue lacks (e.g. ${missing[0]})`)
      continue
    }
    try {
      const instance = new webAssembly.Instance(module, {
        [GLUE_IMPORT_MODULE]: glue as unknown as Record<string, unknown>,
      })
      glue.__wbg_set_wasm(instance.exports)
      const start = instance.exports.__wbindgen_start
      if (typeof start === 'function') start()
      return { glue, source: candidate.source, wasmFile: candidate.file, engineCommit: glue.version() }
    } catch (error) {
      failures.push(`${candidate.file}: ${String(error)}`)
    }
  }
  throw new Error(
    `no usable schema engine WebAssembly module (${failures.join('; ') || 'none found'}). ` +
      'Reinstall dependencies (npm ci) so that prisma and @prisma/schema-engine-wasm are present.',
  )
}
