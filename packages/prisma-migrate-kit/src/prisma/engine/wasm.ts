import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { installedVersion, PRISMA_SUPPORT } from '../support'
import type { SchemaEngineGlue, WasmPanicRegistry } from './types'
import { webAssembly, type WasmModule } from './webassembly'

/** Which .wasm file runs, and why: printed by `--version` and in the engine's first log line. */
export interface LoadedWasm {
  glue: SchemaEngineGlue
  /** `prisma`: the file shipped inside the prisma package (same engine commit as the CLI); `package`: the one of
   * @prisma/schema-engine-wasm, used when the CLI's file does not fit the glue. */
  source: 'prisma' | 'package'
  wasmFile: string
  /** The glue package it runs with (@prisma/schema-engine-wasm, or one of our aliases of an earlier build). */
  gluePackage: string
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
 * wasm-bindgen glue builds we ship, one per Prisma line we test: @prisma/schema-engine-wasm itself (the newest, with
 * its own .wasm as the last resort) and package.json's aliases of it at the engine commits of earlier releases. A
 * glue fits only the .wasm of its own build (it calls exports whose names carry a build hash).
 */
const GLUE_PACKAGES = [
  '@prisma/schema-engine-wasm',
  'prisma-schema-engine-wasm-7.10.0',
  'prisma-schema-engine-wasm-7.9',
  'prisma-schema-engine-wasm-7.8',
  'prisma-schema-engine-wasm-7.4',
] as const

interface Glue {
  packageName: string
  dir: string
  /** The prisma-engines version it was built from (its package version, as in @prisma/engines-version). */
  enginesVersion: string
}

interface Candidate {
  source: LoadedWasm['source']
  file: string
  glue: Glue
}

interface InstalledPrisma {
  dir: string
  version: string
  /** @prisma/engines-version of that release: the engine commit its build/schema_engine_bg.wasm comes from. */
  enginesVersion?: string
}

function installedPrisma(searchFrom: string[]): InstalledPrisma | undefined {
  for (const base of searchFrom) {
    const dir = resolvePackageDir('prisma', base)
    if (!dir) continue
    const enginesDir = resolvePackageDir('@prisma/engines-version', dir)
    return {
      dir,
      version: installedVersion(dir) ?? 'unknown',
      ...(enginesDir ? { enginesVersion: installedVersion(enginesDir) } : {}),
    }
  }
  return undefined
}

function shippedGlues(): Glue[] {
  return GLUE_PACKAGES.flatMap((packageName) => {
    let dir: string
    try {
      // The packages' exports maps have no ./package.json entry; resolve the main file instead.
      dir = path.dirname(require.resolve(packageName))
    } catch {
      return []
    }
    const enginesVersion = installedVersion(dir)
    return enginesVersion ? [{ packageName, dir, enginesVersion }] : []
  })
}

/**
 * The project's prisma ships `build/schema_engine_bg.wasm` built from the very engine commit of its CLI (the CLI
 * starts us in the project folder, so that prisma is the one that spawned us). It runs with the glue of that commit
 * when we ship it, else with any glue it fits; the newest glue's own .wasm is the last resort.
 */
function candidates(prisma: InstalledPrisma | undefined, glues: Glue[]): Candidate[] {
  const list: Candidate[] = []
  const prismaWasm = prisma ? path.join(prisma.dir, 'build', 'schema_engine_bg.wasm') : undefined
  if (prismaWasm && existsSync(prismaWasm)) {
    const exact = glues.filter((glue) => glue.enginesVersion === prisma?.enginesVersion)
    for (const glue of [...exact, ...glues.filter((glue) => !exact.includes(glue))]) list.push({ source: 'prisma', file: prismaWasm, glue })
  }
  const newest = glues[0]
  const own = newest ? path.join(newest.dir, 'schema_engine_bg.wasm') : undefined
  if (newest && own && existsSync(own)) list.push({ source: 'package', file: own, glue: newest })
  return list
}

function resolvePackageDir(name: string, from: string): string | undefined {
  try {
    return path.dirname(require.resolve(`${name}/package.json`, { paths: [from] }))
  } catch {
    return undefined
  }
}

/**
 * A .wasm fits a glue when every function it imports is one the glue exports, and every export the glue calls
 * (`wasm.<name>`) is one it has: wasm-bindgen puts a build hash into those names, so a glue of another build lacks
 * some. Checked before instantiating, for a clear reason instead of "wasm.wasm_bindgen_… is not a function" later.
 */
function misfit(module: WasmModule, glue: object, glueSource: string): string | undefined {
  const missingImports = webAssembly.Module.imports(module)
    .filter((entry) => entry.module === GLUE_IMPORT_MODULE && !(entry.name in glue))
    .map((entry) => entry.name)
  if (missingImports.length > 0) return `needs ${missingImports.length} functions the glue lacks (e.g. ${missingImports[0]})`
  const exported = new Set(webAssembly.Module.exports(module).map((entry) => entry.name))
  const called = [...new Set([...glueSource.matchAll(/\bwasm\.(\w+)/g)].map((match) => match[1]))]
  const missingExports = called.filter((name) => !exported.has(name))
  if (missingExports.length > 0) return `lacks ${missingExports.length} functions the glue calls (e.g. ${missingExports[0]})`
  return undefined
}

/** Counts loads, so that each one imports its own copy of the glue (see loadWasmEngine). */
let loads = 0

/**
 * Loads a glue (an ES module: a dynamic import, kept as such by the node16 module setting) and instantiates the first
 * candidate .wasm that fits it. A glue module holds the instance in module state, so each attempt of each load
 * imports a fresh copy (the query string makes it a distinct module): after a panic, a new load is a working engine.
 */
export async function loadWasmEngine(searchFrom: string[] = [process.cwd()]): Promise<LoadedWasm> {
  const load = loads++
  installPanicRegistry()
  const prisma = installedPrisma(searchFrom)
  const failures: string[] = []
  for (const [attempt, candidate] of candidates(prisma, shippedGlues()).entries()) {
    const glueFile = path.join(candidate.glue.dir, 'schema_engine_bg.js')
    let module: WasmModule
    try {
      module = new webAssembly.Module(readFileSync(candidate.file))
    } catch (error) {
      failures.push(`${candidate.file}: not a valid WebAssembly module (${String(error)})`)
      continue
    }
    const glue = (await import(`${pathToFileURL(glueFile).href}?load=${load}&attempt=${attempt}`)) as SchemaEngineGlue
    const why = misfit(module, glue, readFileSync(glueFile, 'utf8'))
    if (why) {
      failures.push(`${candidate.file} with ${candidate.glue.packageName}: ${why}`)
      continue
    }
    try {
      const instance = new webAssembly.Instance(module, {
        [GLUE_IMPORT_MODULE]: glue as unknown as Record<string, unknown>,
      })
      glue.__wbg_set_wasm(instance.exports)
      const start = instance.exports.__wbindgen_start
      if (typeof start === 'function') (start as () => void)()
      return {
        glue,
        source: candidate.source,
        wasmFile: candidate.file,
        gluePackage: candidate.glue.packageName,
        engineCommit: glue.version(),
      }
    } catch (error) {
      failures.push(`${candidate.file}: ${String(error)}`)
    }
  }
  const installed = prisma ? `prisma ${prisma.version} (engines ${prisma.enginesVersion ?? 'unknown'})` : 'no prisma package'
  throw new Error(
    `no schema engine WebAssembly module fits ${installed}: ${failures.join('; ') || 'none found'}. ` +
      `migrate-kit works with prisma ${PRISMA_SUPPORT.range} (tested: ${PRISMA_SUPPORT.tested.join(', ')}): install one of them ` +
      `(npm install --save-dev --save-exact prisma@${PRISMA_SUPPORT.recommended}), ` +
      'or reinstall dependencies (npm ci) if it is one of them.',
  )
}
