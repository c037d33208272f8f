import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import type { Finding } from '../lint'
import { listMigrations } from '../prisma/migrations'
import type { Project } from '../project'
import { relativePath, rollbackFile } from './files'
import { parseRollbackScript } from './script'

/** A finding in the shape of `lint --json` and `check --json`. */
export type RollbackFinding = Finding

/** The rules of the static rollback check, as findings name them. */
export const ROLLBACK_RULES = {
  missing: 'rollback-missing',
  orphaned: 'rollback-orphaned',
  invalid: 'rollback-invalid',
} as const

/**
 * The rollback pairs without a database, for `check`: every migration has its rollback.sql, every rollback folder
 * has its migration, and every rollback.sql parses and can run inside the one transaction `rollback` uses. Whether a
 * rollback really restores the schema needs a database: that is verify-rollbacks.
 */
export async function checkRollbackPairs(project: Project): Promise<RollbackFinding[]> {
  const migrations = listMigrations(project)
  const names = new Set(migrations.map((migration) => migration.name))
  const findings: RollbackFinding[] = []
  for (const migration of migrations) {
    const file = rollbackFile(project, migration.name)
    if (!existsSync(file)) {
      findings.push({
        level: 'error',
        rule: ROLLBACK_RULES.missing,
        file: relativePath(project, migration.sqlFile),
        line: 1,
        message:
          `${migration.name} has no ${relativePath(project, file)}: \`migrate-kit rollback\` cannot revert it and ` +
          'verify-rollbacks fails',
        help: `Generate it from the migration history, review it and commit it: npx migrate-kit rollbacks generate ${migration.name}`,
      })
      continue
    }
    const script = await parseRollbackScript(readFileSync(file, 'utf8'))
    for (const problem of script.problems) {
      findings.push({
        level: 'error',
        rule: ROLLBACK_RULES.invalid,
        file: relativePath(project, file),
        line: problem.line,
        ...(problem.column === undefined ? {} : { column: problem.column }),
        message: `${problem.message}; \`migrate-kit rollback ${migration.name}\` refuses to run it`,
        help: `Fix the statement, then prove the file: npx migrate-kit verify-rollbacks`,
      })
    }
  }
  const folders = existsSync(project.rollbacksDir)
    ? readdirSync(project.rollbacksDir).filter((entry) => statSync(path.join(project.rollbacksDir, entry)).isDirectory())
    : []
  for (const folder of folders.sort()) {
    if (names.has(folder)) continue
    const file = rollbackFile(project, folder)
    findings.push({
      level: 'warning',
      rule: ROLLBACK_RULES.orphaned,
      file: relativePath(project, existsSync(file) ? file : path.join(project.rollbacksDir, folder)),
      line: 1,
      message: `${relativePath(project, path.join(project.rollbacksDir, folder))} belongs to no migration: ${relativePath(project, path.join(project.migrationsDir, folder))} does not exist (renamed or deleted?)`,
      help: "Rename the folder to its migration's folder name, or delete it if that migration is gone for good.",
    })
  }
  return findings
}
