import { existsSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Project } from '../project'

/**
 * The variable the deploy config takes its URL from. Its own name, not DATABASE_URL: a project whose config reads
 * another variable must still deploy to the scratch database, never to the one that variable names.
 */
export const DEPLOY_URL_VARIABLE = 'MIGRATE_KIT_DEPLOY_DATABASE_URL'

const CONFIG_NAMES = ['prisma.config.ts', 'prisma.config.mts', 'prisma.config.cts', 'prisma.config.js', 'prisma.config.mjs', 'prisma.config.cjs']

export function projectPrismaConfig(project: Project): string | undefined {
  return CONFIG_NAMES.map((name) => path.join(project.root, name)).find((file) => existsSync(file))
}

/**
 * A Prisma config for `prisma migrate deploy --config <file>` that is the project's own with the migrations folder
 * and the database replaced (Prisma has no "deploy up to X": a folder holding the migrations up to X is how to say
 * it). The project's config is imported, not copied, so its schema and settings stay what the project says; Prisma
 * resolves relative paths from the config file's folder, so the ones the project's config gives are made absolute
 * against the project root. The URL comes from DEPLOY_URL_VARIABLE, set by the caller.
 */
export function writeDeployConfig(project: Project, migrationsDir: string, into: string): string {
  const file = path.join(into, 'migrate-kit.deploy.config.ts')
  const projectConfig = projectPrismaConfig(project)
  const root = JSON.stringify(project.root)
  const migrations = JSON.stringify(migrationsDir)
  const text = projectConfig
    ? `// Written by migrate-kit: the project's Prisma config, deploying from a temporary migrations folder.
import { resolve } from 'node:path'
import base from ${JSON.stringify(projectConfig)}

type Paths = {
  schema?: string
  migrations?: Record<string, unknown>
  datasource?: Record<string, unknown>
  views?: { path?: string }
  typedSql?: { path?: string }
}
const config = base as unknown as Paths & Record<string, unknown>
const absolute = (value: string | undefined) => (value ? resolve(${root}, value) : undefined)

export default {
  ...config,
  schema: absolute(config.schema) ?? resolve(${root}, 'prisma', 'schema.prisma'),
  migrations: { ...config.migrations, path: ${migrations} },
  datasource: { ...config.datasource, url: process.env.${DEPLOY_URL_VARIABLE} },
  ...(config.views ? { views: { ...config.views, path: absolute(config.views.path) } } : {}),
  ...(config.typedSql ? { typedSql: { ...config.typedSql, path: absolute(config.typedSql.path) } } : {}),
}
`
    : `// Written by migrate-kit: the project has no prisma.config.ts; Prisma 7 takes the URL from here.
export default {
  schema: ${JSON.stringify(project.schemaFile)},
  migrations: { path: ${migrations} },
  datasource: { url: process.env.${DEPLOY_URL_VARIABLE} },
}
`
  writeFileSync(file, text)
  return file
}
