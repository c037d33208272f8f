import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { errorMessage } from '../errors'
import { ProjectConfigError } from './errors'
import { settingMs } from '../lint/timeout-settings'
import type { Project } from './index'

/**
 * package.json's "migrateKit": the settings that are ours (Prisma's are in its config). Each one's parser, default
 * and meaning are in this table and nowhere else; README's "Adopting it in your project" documents them.
 */
export interface ProjectSettings {
  /** Folder of rollbacks/<migration>/rollback.sql, relative to the root. Default: rollbacks/ at the root. */
  rollbacks?: string
  /** Folder of the backfill files. Default: backfills/ at the root. */
  backfills?: string
  /** Folder of the plans `new --safe` records (one JSON file per split change). Default: safe-changes/ at the root. */
  safeChanges?: string
  /** Folder of the integrity checks (*.sql). Default: checks/ next to the migrations folder. */
  checks?: string
  /** With no database URL, development commands may start the embedded PostgreSQL (never in CI). Default: false. */
  embeddedDatabase: boolean
  /** The longest lock_timeout a migration may set, in ms ("10s", "500ms" or a number of ms). Default: 10 s (lint). */
  maxLockTimeout?: number
  /** The longest statement_timeout a migration may set, in ms. Default: none (only turning it off is reported). */
  maxStatementTimeout?: number
  /** The environment variable holding the URL of the database whose table sizes set lint's levels (production or a replica). */
  sizesFrom?: string
}

type Parser = (value: unknown) => string | boolean | number | undefined

const folder: Parser = (value) => (typeof value === 'string' && value.trim() !== '' ? value : undefined)
const flag: Parser = (value) => (typeof value === 'boolean' ? value : undefined)
/** The NAME of an environment variable (never a URL: package.json is committed, a password must not be). */
const variableName: Parser = (value) => (typeof value === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(value) ? value : undefined)
/** PostgreSQL's way of writing a time setting: "10s", "500ms", "1min", or a number of milliseconds. */
const duration: Parser = (value) => {
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? settingMs(value) : undefined
  return ms !== undefined && Number.isFinite(ms) && ms > 0 ? ms : undefined
}

const SETTINGS: Record<keyof ProjectSettings, { parse: Parser; example: string }> = {
  rollbacks: { parse: folder, example: '"rollbacks": "db/rollbacks"' },
  backfills: { parse: folder, example: '"backfills": "db/backfills"' },
  safeChanges: { parse: folder, example: '"safeChanges": "db/safe-changes"' },
  checks: { parse: folder, example: '"checks": "db/checks"' },
  embeddedDatabase: { parse: flag, example: '"embeddedDatabase": true' },
  maxLockTimeout: { parse: duration, example: '"maxLockTimeout": "10s"' },
  maxStatementTimeout: { parse: duration, example: '"maxStatementTimeout": "30min"' },
  sizesFrom: { parse: variableName, example: '"sizesFrom": "PRODUCTION_REPLICA_URL"' },
}

/** Reads and checks the "migrateKit" key of `root`/package.json; anything it cannot take is refused (exit 2). */
export function readProjectSettings(root: string): ProjectSettings {
  const file = path.join(root, 'package.json')
  if (!existsSync(file)) return { embeddedDatabase: false }
  let manifest: unknown
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new ProjectConfigError(`cannot read ${file}: ${errorMessage(error)}`, file, { hint: 'Fix the JSON of package.json.' })
  }
  const section = (manifest as { migrateKit?: unknown } | null)?.migrateKit
  if (section === undefined) return { embeddedDatabase: false }
  const examples = Object.values(SETTINGS)
    .map((setting) => setting.example)
    .join(', ')
  if (typeof section !== 'object' || section === null || Array.isArray(section)) {
    throw new ProjectConfigError(
      `"migrateKit" in ${file} must be an object`,
      file,
      { hint: `For example: "migrateKit": { ${examples} }` },
      'migrateKit',
    )
  }
  const settings: ProjectSettings = { embeddedDatabase: false }
  for (const [key, value] of Object.entries(section)) {
    const setting = SETTINGS[key as keyof ProjectSettings]
    if (!setting) {
      throw new ProjectConfigError(
        `"migrateKit.${key}" in ${file} is not a setting of migrate-kit`,
        file,
        { hint: `The settings are: ${examples}.` },
        `migrateKit.${key}`,
      )
    }
    const parsed = setting.parse(value)
    if (parsed === undefined) {
      throw new ProjectConfigError(
        `"migrateKit.${key}" in ${file} cannot be ${JSON.stringify(value)}`,
        file,
        { hint: `For example: "migrateKit": { ${setting.example} }` },
        `migrateKit.${key}`,
      )
    }
    Object.assign(settings, { [key]: parsed })
  }
  return settings
}

/** The Project fields package.json's "migrateKit" gives beyond the folders. */
export function projectSettingsFields(
  settings: ProjectSettings,
): Pick<Project, 'embeddedDatabase' | 'maxLockTimeoutMs' | 'maxStatementTimeoutMs' | 'sizesFromVariable'> {
  return {
    embeddedDatabase: settings.embeddedDatabase,
    ...(settings.maxLockTimeout === undefined ? {} : { maxLockTimeoutMs: settings.maxLockTimeout }),
    ...(settings.maxStatementTimeout === undefined ? {} : { maxStatementTimeoutMs: settings.maxStatementTimeout }),
    ...(settings.sizesFrom === undefined ? {} : { sizesFromVariable: settings.sizesFrom }),
  }
}
