import { writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Project } from '../project'

/**
 * The variable the deploy config takes its URL from. Its own name, not DATABASE_URL: a project whose config reads
 * another variable must still deploy to the scratch database, never to the one that variable names.
 */
export const DEPLOY_URL_VARIABLE = 'MIGRATE_KIT_DEPLOY_DATABASE_URL'

/**
 * A Prisma config for `prisma migrate deploy --config <file>` that is the project's own with the migrations folder
 * and the database replaced (Prisma has no "deploy up to X": a folder holding the migrations up to X is how to say
 * it). The project's config is imported, not copied, so its settings stay what the project says; the schema is the one
 * the project resolved (its config's, or --schema), and the other relative paths are made absolute against the
 * config file's folder, as Prisma resolves them. The URL comes from DEPLOY_URL_VARIABLE, set by the caller.
 */
export function writeDeployConfig(project: Project, migrationsDir: string, into: string): string {
  const file = path.join(into, 'migrate-kit.deploy.config.ts')
  const projectConfig = project.configFile
  const base = JSON.stringify(projectConfig ? path.dirname(projectConfig) : project.root)
  const schema = JSON.stringify(project.schemaPath)
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
const absolute = (value: string | undefined) => (value ? resolve(${base}, value) : undefined)

export default {
  ...config,
  schema: ${schema},
  migrations: { ...config.migrations, path: ${migrations} },
  datasource: { ...config.datasource, url: process.env.${DEPLOY_URL_VARIABLE} },
  ...(config.views ? { views: { ...config.views, path: absolute(config.views.path) } } : {}),
  ...(config.typedSql ? { typedSql: { ...config.typedSql, path: absolute(config.typedSql.path) } } : {}),
}
`
    : `// Written by migrate-kit: the project has no prisma.config.ts; Prisma 7 takes the URL from here.
export default {
  schema: ${schema},
  migrations: { path: ${migrations} },
  datasource: { url: process.env.${DEPLOY_URL_VARIABLE} },
}
`
  writeFileSync(file, text)
  return file
}
