import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { createJiti } from 'jiti'
import { errorMessage } from '../errors'
import { relativePath, type Project } from '../project'
import { BackfillShapeError, isBackfill, type Backfill } from './definition'
import { BackfillDefinitionError, UnknownBackfillError, type DefinitionProblem } from './errors'
import { placeholderOf } from './sql'

/** A backfill file, loaded: the definition and where it came from. */
export interface LoadedBackfill {
  name: string
  definition: Backfill
  /** Absolute path. */
  file: string
  /** The path relative to the project root, for messages. */
  relativeFile: string
  /** sha256 of the file's bytes: recorded with the run, to notice a definition edited mid-way. */
  checksum: string
  after?: string
  before?: string
}

export interface LoadResult {
  backfills: LoadedBackfill[]
  /** Files that failed to load, export no backfill, or repeat a name. */
  problems: DefinitionProblem[]
}

const EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']

/** backfills/<name>.ts and friends; helpers stay loadable beside them when named _*.ts or *.d.ts. */
export function backfillFiles(project: Project): string[] {
  if (!existsSync(project.backfillsDir)) return []
  return readdirSync(project.backfillsDir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && EXTENSIONS.includes(path.extname(entry.name)))
    .map((entry) => entry.name)
    .filter((name) => !name.startsWith('_') && !name.startsWith('.') && !/\.d\.[cm]?ts$/.test(name) && !/\.test\./.test(name))
    .sort()
    .map((name) => path.join(project.backfillsDir, name))
}

/**
 * The library a backfill file imports as 'prisma-migrate-kit'. Backfill files import the package by its name, as a
 * user's would; pointing that name at the running copy means one definition module, whether or not the project has
 * the package installed under node_modules (this repository itself does not).
 */
function libraryEntry(): string {
  const base = path.resolve(__dirname, '..', 'index')
  return ['.js', '.ts'].map((extension) => base + extension).find((file) => existsSync(file)) ?? base
}

/** Loads every backfill file of a project. Never throws for a bad file: the caller decides what a problem blocks. */
export async function loadBackfills(project: Project): Promise<LoadResult> {
  const files = backfillFiles(project)
  const entry = libraryEntry()
  // In the compiled CLI, the entry is already in Node's module cache; jiti shares that cache, so the definitions of
  // backfill files are made by the very module the runner uses.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded for its place in the module cache, not a value
  if (entry.endsWith('.js')) require(entry)
  const jiti = createJiti(__filename, { alias: { 'prisma-migrate-kit': entry }, interopDefault: false })
  const backfills: LoadedBackfill[] = []
  const problems: DefinitionProblem[] = []
  for (const file of files) {
    const relativeFile = relativePath(project, file)
    // A file edited since the last load in this process (tests, long-lived tools) must be read again.
    delete require.cache[file]
    let exported: unknown
    try {
      const module = await jiti.import<Record<string, unknown>>(file)
      exported = isBackfill(module) ? module : module?.default
    } catch (error) {
      const message =
        error instanceof BackfillShapeError ? `bad definition: ${error.message}` : `cannot be loaded: ${firstLine(errorMessage(error))}`
      problems.push({ file: relativeFile, message })
      continue
    }
    if (!isBackfill(exported)) {
      problems.push({
        file: relativeFile,
        message:
          "does not export a backfill: expected `export default defineBackfill({ … })` (import { defineBackfill, sql } from 'prisma-migrate-kit')",
      })
      continue
    }
    const twin = backfills.find((loaded) => loaded.name === exported.name)
    if (twin) {
      problems.push({
        file: relativeFile,
        backfill: exported.name,
        field: 'name',
        message: `the name "${exported.name}" is already used by ${twin.relativeFile}: names must be unique`,
      })
      continue
    }
    const unfilled = placeholderProblems(exported, relativeFile)
    if (unfilled.length > 0) {
      problems.push(...unfilled)
      continue
    }
    backfills.push({
      name: exported.name,
      definition: exported,
      file,
      relativeFile,
      checksum: createHash('sha256').update(readFileSync(file)).digest('hex'),
      after: exported.after,
      before: exported.before,
    })
  }
  return { backfills, problems }
}

/** Every backfill of the project, refusing (exit 2) if any file is bad: a broken project is fixed before it runs. */
export async function loadAllBackfills(project: Project): Promise<LoadedBackfill[]> {
  const { backfills, problems } = await loadBackfills(project)
  if (problems.length > 0) throw new BackfillDefinitionError(problems)
  return backfills
}

export function findBackfill(backfills: LoadedBackfill[], name: string): LoadedBackfill {
  const found = backfills.find((loaded) => loaded.name === name)
  if (!found)
    throw new UnknownBackfillError(
      name,
      backfills.map((loaded) => loaded.name),
    )
  return found
}

/** Each placeholder() still in the definition: a backfill holding one must not run, or count as done. */
function placeholderProblems(backfill: Backfill, file: string): DefinitionProblem[] {
  const fields = { update: backfill.update, where: backfill.where, verify: backfill.verify, precheck: backfill.precheck }
  return Object.entries(fields).flatMap(([field, value]) => {
    const what = placeholderOf(value)
    return what === undefined ? [] : [{ file, backfill: backfill.name, field, message: `is a placeholder to replace with SQL: ${what}` }]
  })
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .find((line) => line.trim() !== '')
      ?.trim() ?? text
  )
}
