import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export const REPO_ROOT = path.resolve(__dirname, '..', '..')
/** The package itself (what `npm pack` ships): its bin/, src/ and, after `npm run build`, dist/. */
export const PACKAGE_ROOT = path.join(REPO_ROOT, 'packages', 'prisma-migrate-kit')

export interface TempProject {
  root: string
  /** Writes a file relative to the project root, creating folders. */
  write(relative: string, content: string): string
  path(...parts: string[]): string
  remove(): void
}

export interface TempProjectOptions {
  /** Copy the example app (schema, migrations, rollbacks, checks, backfills) of this repository. Default true. */
  exampleApp?: boolean
  /** Keep only these migration folders of the example app (by name prefix); default all. */
  migrations?: (name: string) => boolean
  /** Opt in to the embedded PostgreSQL (package.json "migrateKit.embeddedDatabase"), as the example app does. */
  embeddedDatabase?: boolean
}

/**
 * A project folder outside the repository that looks like a user's: prisma.config.ts, the schema, and a node_modules
 * link to this repository's, so `prisma` and `prisma-migrate-kit` resolve as they would after `npm install`.
 */
export function createTempProject(options: TempProjectOptions = {}): TempProject {
  const root = mkdtempSync(path.join(os.tmpdir(), 'mk-project-'))
  // mkdtemp makes 0700; the embedded PostgreSQL runs as an unprivileged user when we are root and must enter it.
  chmodSync(root, 0o755)
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir')
  const manifest = { name: 'mk-test-app', private: true, ...(options.embeddedDatabase ? { migrateKit: { embeddedDatabase: true } } : {}) }
  writeFileSync(path.join(root, 'package.json'), JSON.stringify(manifest, null, 2))
  cpSync(path.join(REPO_ROOT, 'prisma.config.ts'), path.join(root, 'prisma.config.ts'))
  if (options.exampleApp ?? true) {
    const keep = options.migrations ?? (() => true)
    cpSync(path.join(REPO_ROOT, 'prisma', 'schema.prisma'), path.join(root, 'prisma', 'schema.prisma'), { recursive: true })
    for (const folder of ['prisma/migrations', 'rollbacks']) {
      const source = path.join(REPO_ROOT, folder)
      if (!existsSync(source)) continue
      cpSync(source, path.join(root, folder), {
        recursive: true,
        filter: (file) => {
          const relative = path.relative(source, file)
          const top = relative.split(path.sep)[0] ?? ''
          return relative === '' || top === 'migration_lock.toml' || keep(top)
        },
      })
    }
    for (const folder of ['prisma/checks', 'backfills']) {
      const source = path.join(REPO_ROOT, folder)
      if (existsSync(source)) cpSync(source, path.join(root, folder), { recursive: true })
    }
  } else {
    // A project always has a schema (the config names it, and it is refused when missing): the datasource alone.
    mkdirSync(path.join(root, 'prisma'), { recursive: true })
    writeFileSync(path.join(root, 'prisma', 'schema.prisma'), 'datasource db {\n  provider = "postgresql"\n}\n')
  }
  return {
    root,
    write(relative, content) {
      const file = path.join(root, relative)
      mkdirSync(path.dirname(file), { recursive: true })
      writeFileSync(file, content)
      return file
    },
    path: (...parts) => path.join(root, ...parts),
    remove: () => rmSync(root, { recursive: true, force: true }),
  }
}
