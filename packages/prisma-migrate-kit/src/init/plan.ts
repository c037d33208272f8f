import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Project } from '../project'
import { addOfflineEngineImport } from './config-line'
import { addIgnoreEntries } from './gitignore'
import { ciWorkflow, detectPackageManager, repositoryRoot, workflowRunningMigrateKit } from './workflow'

/** One file init creates, updates or leaves as it is, with what that means for the user. */
export interface InitFileChange {
  /** Absolute path. */
  file: string
  action: 'create' | 'update' | 'keep'
  what: string
  /** The whole new text (create, update). */
  text?: string
}

export interface InitPlanOptions {
  /** The variable the project's Prisma config reads for the database URL (the workflow sets it). */
  urlVariable: string
}

function configLine(project: Project): InitFileChange | undefined {
  const file = project.configFile
  if (!file) return undefined
  const change = addOfflineEngineImport(readFileSync(file, 'utf8'), file)
  if (!change) return { file, action: 'keep', what: 'imports prisma-migrate-kit/offline-engine already' }
  return {
    file,
    action: 'update',
    what: `line ${change.line}: ${change.statement.replace(/ \/\/.*$/, '')} (plain \`npx prisma migrate …\` gets the offline engine when the native one is missing)`,
    text: change.text,
  }
}

function folder(dir: string, what: string): InitFileChange {
  if (existsSync(dir)) return { file: dir, action: 'keep', what: `${what} (exists)` }
  return { file: path.join(dir, '.gitkeep'), action: 'create', what, text: '' }
}

function gitignore(project: Project): InitFileChange {
  const file = path.join(project.root, '.gitignore')
  const before = existsSync(file) ? readFileSync(file, 'utf8') : undefined
  const change = addIgnoreEntries(before)
  if (!change) return { file, action: 'keep', what: 'ignores .migrate-kit/ already' }
  return { file, action: before === undefined ? 'create' : 'update', what: `ignores ${change.added.join(', ')}`, text: change.text }
}

function workflow(project: Project, options: InitPlanOptions): InitFileChange {
  const repoRoot = repositoryRoot(project.root) ?? project.root
  const workflowsDir = path.join(repoRoot, '.github', 'workflows')
  const existing = workflowRunningMigrateKit(workflowsDir)
  if (existing) return { file: existing, action: 'keep', what: 'a CI workflow that runs migrate-kit (yours: left as it is)' }
  const file = path.join(workflowsDir, 'migrate-kit.yml')
  const workingDirectory = path.relative(repoRoot, project.root).split(path.sep).join('/')
  const { manager } = detectPackageManager(project.root, repoRoot)
  return {
    file,
    action: 'create',
    what: `the CI workflow to review and commit: deploy, check and verify-rollbacks on a throwaway PostgreSQL (${manager})`,
    text: ciWorkflow({ packageManager: manager, workingDirectory, urlVariable: options.urlVariable }),
  }
}

/**
 * The files init would touch, computed from the files as they are: nothing is written here. Applying the plan and
 * planning again gives only `keep` (init is idempotent). Rollbacks of the history and the lint report are the
 * command's other steps (they need Prisma and a database).
 */
export function planInitFiles(project: Project, options: InitPlanOptions): InitFileChange[] {
  return [
    configLine(project),
    folder(project.backfillsDir, 'the folder of backfill files'),
    folder(project.rollbacksDir, 'the folder of rollbacks/<migration>/rollback.sql'),
    gitignore(project),
    workflow(project, options),
  ].filter((change): change is InitFileChange => change !== undefined)
}

/** Writes the plan's creates and updates. */
export function applyInitFiles(changes: InitFileChange[]): void {
  for (const change of changes) {
    if (change.action === 'keep' || change.text === undefined) continue
    mkdirSync(path.dirname(change.file), { recursive: true })
    writeFileSync(change.file, change.text)
  }
}
