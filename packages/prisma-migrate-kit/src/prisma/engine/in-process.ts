import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { errorMessage } from '../../errors'
import type { Project } from '../../project'
import { schemaFilesOf } from '../../project/load'
import type { MigrationOnDisk } from '../migrations'
import { createEngineDatabase, type EngineDatabase } from './adapter'
import { failedMigrationError, toEngineErrorData } from './errors'
import type { WasmSchemaEngine } from './types'
import { loadWasmEngine, type LoadedWasm } from './wasm'

/**
 * Prisma's schema engine (its WebAssembly build, from the project's own prisma package) inside this process, for the
 * commands that call it once per migration of a long history: a Prisma CLI started per call costs a second or more
 * before it does anything, and its `--from-migrations` diff replays the whole history into a shadow database every
 * time. Here one engine answers every call, and a diff compares two databases kept in step with the history.
 */

/** What Prisma's diff prints for two identical schemas. */
export const EMPTY_DIFF = '-- This is an empty migration.'

export interface InProcessEngineTargets {
  /** The database the engine works on: what `applyMigrations` changes and a diff's `to` side describes. */
  databaseUrl: string
  /** The database a diff's `from` side describes, as it is (never emptied, never dropped). */
  fromUrl?: string
}

/** Prisma's error, with its code when it has one (P3018 for a migration PostgreSQL refused, …). */
export class SchemaEngineCallError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly panic: boolean,
  ) {
    super(message)
    this.name = 'SchemaEngineCallError'
  }
}

/** The filters of tables and enums Prisma must leave alone (`tables.external`, `enums.external` in the config). */
export type SchemaFilter = NonNullable<Project['schemaFilter']>

const NO_FILTER: SchemaFilter = { externalTables: [], externalEnums: [] }

/**
 * Each call runs in a session of its own (an engine instance and its connections), ended when the call returns: the
 * engine keeps Prisma Migrate's advisory lock (pg_advisory_lock(72707369)) for as long as its connection lives, as
 * the native engine does for the life of its process, and `rollback` must be able to take it between two deploys.
 */
export class InProcessSchemaEngine {
  private readonly scripts = new Map<string, string>()
  /** Read once, like the scripts. */
  private lock: { path: string; content: string } | undefined

  private constructor(
    private readonly project: Project,
    private readonly targets: InProcessEngineTargets,
    private wasm: LoadedWasm,
    private readonly schemaFiles: Array<{ path: string; content: string }>,
    private readonly filters: SchemaFilter,
  ) {}

  static async open(project: Project, targets: InProcessEngineTargets): Promise<InProcessSchemaEngine> {
    const schemaFiles = schemaFilesOf(project.schemaPath).map((file) => ({ path: file, content: readFileSync(file, 'utf8') }))
    return new InProcessSchemaEngine(project, targets, await loadWasmEngine([project.root]), schemaFiles, project.schemaFilter ?? NO_FILTER)
  }

  /**
   * `prisma migrate diff --from <fromUrl's database> --to-config-datasource --script`: the SQL that turns the `from`
   * database's schema into the database's, over the schemas the project's Prisma schema names. The `from` side is an
   * empty migration list replayed on the `from` database, which the engine then describes as it stands.
   */
  async diffFromDatabase(): Promise<string> {
    const result = await this.call((engine) =>
      engine.diff({
        from: {
          tag: 'migrations',
          baseDir: this.project.migrationsDir,
          lockfile: this.lockfile(),
          shadowDbInitScript: '',
          migrationDirectories: [],
        },
        to: {
          tag: 'schemaDatasource',
          files: this.schemaFiles,
          configDir: path.dirname(this.project.configFile ?? this.project.schemaPath),
        },
        script: true,
        exitCode: null,
        filters: this.filters,
      }),
    )
    // Prisma prints at least EMPTY_DIFF: nothing at all means the engine stopped before answering, and taking it for
    // "no difference" would write a rollback that reverts nothing.
    if (!result.stdout?.trim())
      throw new SchemaEngineCallError('the schema engine returned no script, not even an empty one', undefined, false)
    return result.stdout
  }

  /**
   * What `prisma migrate deploy` asks its engine: apply, in order, the migrations of `migrations` that
   * `_prisma_migrations` does not record as applied (a failed one stops it, as Prisma's deploy does).
   */
  async applyMigrations(migrations: MigrationOnDisk[]): Promise<string[]> {
    const result = await this.call((engine) =>
      engine.applyMigrations({
        migrationsList: {
          baseDir: this.project.migrationsDir,
          lockfile: this.lockfile(),
          shadowDbInitScript: '',
          // As Prisma's CLI lists them: the folder's name (recorded as migration_name) and the file's name in it.
          migrationDirectories: migrations.map((migration) => ({
            path: migration.name,
            migrationFile: {
              path: path.basename(migration.sqlFile),
              content: { tag: 'ok', value: this.scriptOf(migration) },
            },
          })),
        },
        filters: this.filters,
      }),
    )
    return result.appliedMigrationNames
  }

  /**
   * A migration's SQL, read once per engine: a deploy hands Prisma every migration of the history so far, so reading
   * the files each time would make each step cost more the longer the history.
   */
  private scriptOf(migration: MigrationOnDisk): string {
    let script = this.scripts.get(migration.sqlFile)
    if (script === undefined) {
      script = readFileSync(migration.sqlFile, 'utf8')
      this.scripts.set(migration.sqlFile, script)
    }
    return script
  }

  /** The history's migration_lock.toml; Prisma needs one to know the connector, so a missing one reads as PostgreSQL. */
  private lockfile(): { path: string; content: string } {
    const file = path.join(this.project.migrationsDir, 'migration_lock.toml')
    this.lock ??= { path: file, content: existsSync(file) ? readFileSync(file, 'utf8') : 'provider = "postgresql"\n' }
    return this.lock
  }

  /** One call in a fresh session; after a panic the module itself is loaded again, as the instance is unusable. */
  private async call<T>(request: (engine: WasmSchemaEngine) => Promise<T>): Promise<T> {
    const database = createEngineDatabase(
      { url: this.targets.databaseUrl },
      this.targets.fromUrl ? { shadowAsIs: this.targets.fromUrl } : {},
    )
    let engine: WasmSchemaEngine | undefined
    try {
      engine = await this.start(database)
      return await request(engine)
    } catch (error) {
      if (error instanceof SchemaEngineCallError) throw error
      const known = failedMigrationError(error, database.lastScriptFailure)
      const data = toEngineErrorData(known ?? error, globalThis.PRISMA_WASM_PANIC_REGISTRY?.get())
      if (data.is_panic) {
        engine = undefined
        this.wasm = await loadWasmEngine([this.project.root])
      }
      throw new SchemaEngineCallError(known?.message ?? data.message, known?.code ?? data.error_code, data.is_panic)
    } finally {
      engine?.free()
      await database.dispose()
    }
  }

  private async start(database: EngineDatabase): Promise<WasmSchemaEngine> {
    try {
      return await this.wasm.glue.SchemaEngine.new(
        { datamodels: this.schemaFiles.map((file): [string, string] => [file.path, file.content]) },
        () => undefined,
        database.factory,
      )
    } catch (error) {
      throw new SchemaEngineCallError(`Prisma's schema engine did not start: ${errorMessage(error)}`, undefined, false)
    }
  }
}
