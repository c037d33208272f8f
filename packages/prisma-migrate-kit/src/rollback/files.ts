import { existsSync } from 'node:fs'
import path from 'node:path'
import type { Project } from '../project'

/** rollbacks/<migration>/rollback.sql: the paired down script of a migration, named exactly like its folder. */
export function rollbackFile(project: Project, migrationName: string): string {
  return path.join(project.rollbacksDir, migrationName, 'rollback.sql')
}

export function hasRollback(project: Project, migrationName: string): boolean {
  return existsSync(rollbackFile(project, migrationName))
}

export { relativePath } from '../project'
