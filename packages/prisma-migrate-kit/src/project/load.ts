import { existsSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { ProjectConfigError } from './errors'
import { loadEnvFile, type Project } from './index'
import { findConfigFile, readPrismaConfig, type PrismaConfigRead } from './prisma-config'
import { projectSettingsFields, readProjectSettings } from './settings'

export interface LoadProjectOptions {
  /** Where the command runs; the project is found from here upwards. */
  cwd: string
  /** `--config <file>`, relative to cwd: the Prisma config to read instead of the one found. */
  config?: string
  /** `--schema <path>`, relative to cwd: the schema file or folder instead of the config's. */
  schema?: string
  /** `new` may run before the first migration: a configured migrations folder need not exist yet. */
  allowMissingMigrations?: boolean
}

const DEFAULT_SCHEMAS = [path.join('prisma', 'schema.prisma'), 'schema.prisma']

function isDirectory(file: string): boolean {
  return statSync(file, { throwIfNoEntry: false })?.isDirectory() ?? false
}

/** The folder a found config file sits in is the project root (`.config/prisma.ts` belongs to the folder above). */
function folderOfConfig(configFile: string): string {
  const dir = path.dirname(configFile)
  return path.basename(dir) === '.config' ? path.dirname(dir) : dir
}

function nearestPackageRoot(cwd: string): string | undefined {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir
    if (path.dirname(dir) === dir) return undefined
  }
}

/** The schema's files as Prisma reads them: the one file, or every .prisma file under the folder. */
export function schemaFilesOf(schemaPath: string): string[] {
  return isDirectory(schemaPath) ? prismaFilesUnder(schemaPath).sort() : [schemaPath]
}

function prismaFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : prismaFilesUnder(full)
    return entry.name.endsWith('.prisma') ? [full] : []
  })
}

function migrationFolders(dir: string): string[] {
  if (!isDirectory(dir)) return []
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
}

function resolveConfigFile(options: LoadProjectOptions): string | undefined {
  if (options.config === undefined) return findConfigFile(options.cwd)
  const file = path.resolve(options.cwd, options.config)
  if (!statSync(file, { throwIfNoEntry: false })?.isFile()) {
    throw new ProjectConfigError(
      `--config ${options.config}: ${file} does not exist or is not a file`,
      file,
      {
        hint: 'Give the path of your prisma.config.ts (relative to the current folder), or leave --config out to use the one found from here.',
      },
      '--config',
    )
  }
  return file
}

interface SchemaChoice {
  path: string
  /** Where the path came from, for messages. */
  source: string
  setting: string
}

function chooseSchema(options: LoadProjectOptions, root: string, config: PrismaConfigRead | undefined): SchemaChoice {
  if (options.schema !== undefined)
    return { path: path.resolve(options.cwd, options.schema), source: `--schema ${options.schema}`, setting: '--schema' }
  if (config?.schema) return { path: config.schema, source: `\`schema\` in ${config.file}`, setting: 'schema' }
  const found = DEFAULT_SCHEMAS.map((name) => path.join(root, name)).find((file) => existsSync(file))
  const where = config
    ? `${config.file} sets no \`schema\`, and Prisma's default`
    : `no Prisma config file in ${root} or above, and Prisma's default`
  return { path: found ?? path.join(root, DEFAULT_SCHEMAS[0]), source: where, setting: 'schema' }
}

function checkSchema(choice: SchemaChoice, configFile: string | undefined, root: string): void {
  const stat = statSync(choice.path, { throwIfNoEntry: false })
  if (!stat && !configFile && choice.setting === 'schema') {
    // Nothing of Prisma's here at all: say so, and what was looked for, rather than blame a setting nobody wrote.
    throw new ProjectConfigError(
      `${root} is not a Prisma project: no Prisma config file (prisma.config.ts, .config/prisma.ts, … with .js/.mjs/.cjs/.mts/.cts) in it or any folder above, and no ${DEFAULT_SCHEMAS.join(' or ')} in it`,
      undefined,
      {
        hint: 'Run the command in your Prisma project (any subfolder will do), or set one up first: npx prisma init --datasource-provider postgresql',
      },
      'schema',
    )
  }
  if (!stat) {
    throw new ProjectConfigError(
      `${choice.source}: the schema ${choice.path} does not exist`,
      configFile,
      {
        hint: 'Point `schema` in prisma.config.ts (or --schema) at your schema file or at the folder of your .prisma files.',
      },
      choice.setting,
    )
  }
  if (stat.isDirectory() && prismaFilesUnder(choice.path).length === 0) {
    throw new ProjectConfigError(
      `${choice.source}: the schema folder ${choice.path} holds no .prisma file`,
      configFile,
      {
        hint: 'A multi-file schema is a folder of .prisma files (one of them with the datasource block).',
      },
      choice.setting,
    )
  }
}

function checkMigrations(
  migrationsDir: string,
  schemaRoot: string,
  root: string,
  config: PrismaConfigRead | undefined,
  options: LoadProjectOptions,
): void {
  const configured = config?.migrationsPath !== undefined
  const source = configured ? `\`migrations.path\` in ${config.file}` : "the migrations folder next to the schema (Prisma's default)"
  if (existsSync(migrationsDir) && !isDirectory(migrationsDir)) {
    throw new ProjectConfigError(
      `${source}: ${migrationsDir} is not a folder`,
      config?.file,
      {
        hint: 'Point `migrations.path` in prisma.config.ts at the folder of your migrations.',
      },
      'migrations.path',
    )
  }
  // Prisma's own place for them (what `prisma init` writes) is missing in every project before its first migration;
  // any other configured folder that is missing is a typo or a checkout without it.
  const defaultDirs = [path.join(schemaRoot, 'migrations'), path.join(root, 'prisma', 'migrations')].map((dir) => path.resolve(dir))
  const isDefault = defaultDirs.includes(path.resolve(migrationsDir))
  if (configured && !isDefault && !existsSync(migrationsDir) && !options.allowMissingMigrations) {
    throw new ProjectConfigError(
      `${source}: the folder ${migrationsDir} does not exist`,
      config.file,
      {
        hint: 'Fix `migrations.path` in prisma.config.ts, or create your first migration with `npx migrate-kit new <name>`.',
      },
      'migrations.path',
    )
  }
  // A config that moved the migrations but whose new folder is empty, while Prisma's default folder holds the
  // history, is almost surely a typo or a move half done: reading it would report "nothing to deploy".
  const defaultDir = path.join(root, 'prisma', 'migrations')
  if (path.resolve(migrationsDir) !== path.resolve(defaultDir) && migrationFolders(migrationsDir).length === 0) {
    const left = migrationFolders(defaultDir)
    if (left.length > 0) {
      throw new ProjectConfigError(
        `${source}: ${migrationsDir} holds no migration, but ${defaultDir} holds ${left.length} (${left[0]}${left.length > 1 ? ', …' : ''})`,
        config?.file,
        { hint: 'Point `migrations.path` at the folder that holds your migrations, or move them there; nothing was read or changed.' },
        'migrations.path',
      )
    }
  }
}

/**
 * The project as Prisma sees it from `cwd`: the config file Prisma would pick (found walking up, or --config), read
 * with Prisma's own loader; its schema (file or folder) and migrations folder; our folders. Whatever cannot be read
 * or does not exist is refused here (exit 2), naming the file and the setting, before any command starts.
 */
export async function loadProject(options: LoadProjectOptions): Promise<Project> {
  const configFile = resolveConfigFile(options)
  // A found config marks the root; with --config (as with Prisma's) the project is where the command runs.
  const root =
    configFile && options.config === undefined ? folderOfConfig(configFile) : (nearestPackageRoot(options.cwd) ?? path.resolve(options.cwd))
  // Before the config runs: its `import 'dotenv/config'` reads the .env of the current folder, which from a
  // subfolder is not the project's.
  loadEnvFile({ root })
  const config = configFile ? await readPrismaConfig(configFile, root) : undefined
  const schema = chooseSchema(options, root, config)
  checkSchema(schema, configFile, root)
  const schemaRoot = isDirectory(schema.path) ? schema.path : path.dirname(schema.path)
  const migrationsDir = config?.migrationsPath ?? path.join(schemaRoot, 'migrations')
  checkMigrations(migrationsDir, schemaRoot, root, config, options)
  const settings = readProjectSettings(root)
  return {
    root,
    configFile,
    schemaPath: schema.path,
    schemaFromFlag: options.schema !== undefined,
    migrationsDir,
    rollbacksDir: settings.rollbacks ? path.resolve(root, settings.rollbacks) : path.join(root, 'rollbacks'),
    backfillsDir: settings.backfills ? path.resolve(root, settings.backfills) : path.join(root, 'backfills'),
    safeChangesDir: settings.safeChanges ? path.resolve(root, settings.safeChanges) : path.join(root, 'safe-changes'),
    checksDir: settings.checks ? path.resolve(root, settings.checks) : path.join(path.dirname(migrationsDir), 'checks'),
    stateDir: path.join(root, '.migrate-kit'),
    ...projectSettingsFields(settings),
    datasource: config ? { url: config.datasourceUrl, unsetVariable: config.unsetUrlVariable } : undefined,
    ...(config ? { schemaFilter: { externalTables: config.externalTables, externalEnums: config.externalEnums } } : {}),
  }
}
