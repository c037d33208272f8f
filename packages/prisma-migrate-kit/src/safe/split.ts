import path from 'node:path'
import { existsSync } from 'node:fs'
import { BlockedError, UsageError } from '../errors'
import { lintProject, resolveTargets, type LintReport, type MigrationAnalysis } from '../lint'
import { listMigrations, migrationState, readMigrationRecords } from '../prisma/migrations'
import { relativePath, type Project } from '../project'
import { generateRollback, HistoryAnalyses, writeRollback } from '../rollback/generate'
import { rollbackFile } from '../rollback/files'
import { RollbackTrial } from '../rollback/trial'
import { withConnection } from '../db/connect'
import { readBackfillStatus } from '../backfill/status'
import { backfillFileText, isBackfilled, type BackfilledChange } from './backfill-file'
import {
  classifyChanges,
  docRenameHints,
  docTableRenameHints,
  RENAMED_FROM,
  type RenameHint,
  type SplitChange,
  type TableRenameHint,
} from './changes'
import { isTwoColumn, tableRename } from './steps-sql'
import { FileTransaction } from './file-transaction'
import { diffMigrationsToSchema } from './prisma-diff'
import { dropToWrite, listPlans, planFile, readPlan, writePlan, type SafeChangePlan } from './record'
import {
  applyEdits,
  readEnums,
  readModels,
  attributeFields,
  attributesOfField,
  ignoredFieldLine,
  withAttribute,
  withoutAttribute,
  renamedFieldLine,
  movedFieldLine,
  withoutAttributes,
  type FieldLine,
  withOptional,
  type ModelBlock,
  type SchemaEdit,
  type SchemaFile,
} from './schema-text'
import {
  asDraftMigrations,
  assertStepsSafe,
  contractDrafts,
  dropDrafts,
  dropSuffixes,
  expandDrafts,
  historyModel,
  migrationNames,
  readSchemaFiles,
  type StepDraft,
} from './steps'

export interface SafeChangeOptions {
  /** The development database: Prisma makes its shadow databases next to it; `--continue` reads backfill state in it. */
  databaseUrl: string
  renames?: RenameHint[]
  /** `--rename-table Old=New`. */
  tableRenames?: TableRenameHint[]
  now?: Date
}

export interface WrittenMigration {
  name: string
  /** migration.sql, relative to the project root. */
  file: string
  rollbackFile: string
  role: string
}

export interface SplitResult {
  plan: SafeChangePlan
  planFile: string
  migrations: WrittenMigration[]
  backfillFiles: string[]
  schemaFiles: string[]
  lint: LintReport
}

export type SafeChangeResult =
  /** Prisma's diff is empty; `notes` says why for renames done with @map (the column keeps its name). */
  | { kind: 'none'; notes: string[] }
  /** Nothing to split: Prisma's migration is safe as it is (the caller writes it as `new` does), with lint's reason. */
  | { kind: 'single'; reason: string }
  | ({ kind: 'split' } & SplitResult)

const KEEP_COMMENT = (plan: string) => `// kept until the contract of ${plan} (migrate-kit new --safe)`
const DROP_COMMENT = (plan: string) => `// kept until the drop of ${plan} (migrate-kit new --continue ${plan})`

/**
 * `migrate-kit new <name> --safe`: Prisma's diff of the migrations to the edited schema, read for changes that break
 * running code, written as the expand step of expand → backfill → contract: the expand migrations, their rollbacks,
 * one backfill per change, schema.prisma as the release that writes both shapes, and the plan for `--continue`.
 */
export async function createSafeChange(project: Project, name: string, options: SafeChangeOptions): Promise<SafeChangeResult> {
  if (existsSync(planFile(project, name))) {
    throw new UsageError(`${relativePath(project, planFile(project, name))} exists already: a split change of that name was started`, {
      hint: `Continue it (npx migrate-kit new --continue ${name}) or pick another name.`,
    })
  }
  const history = listMigrations(project)
  const { schema, analyses: historyAnalyses } = await historyModel(project, history)
  const finalFiles = readSchemaFiles(project)
  const finalScript = await diffMigrationsToSchema(project, options.databaseUrl, history, [], finalFiles)
  const models = readModels(finalFiles)
  const explicit = options.renames ?? []
  const documented = docRenameHints(models).filter((hint) => !explicit.some((other) => other.model === hint.model && other.to === hint.to))
  if (!finalScript) return { kind: 'none', notes: mappedRenames(models, explicit, documented) }

  const explicitTables = options.tableRenames ?? []
  const tableHints = [
    ...explicitTables,
    ...docTableRenameHints(models).filter((hint) => !explicitTables.some((other) => other.to === hint.to)),
  ]
  const { changes, renameCandidates } = await classifyChanges(
    finalScript,
    schema,
    models,
    explicit,
    documented,
    readEnums(finalFiles),
    tableHints,
  )
  if (renameCandidates.length > 0) {
    const candidate = renameCandidates[0]
    throw new UsageError(
      `Prisma's diff drops ${candidate.model}'s column "${candidate.dropped}" and adds "${candidate.added}": if that is a rename, its data would be lost`,
      {
        hint:
          `Say it is a rename: --rename ${candidate.model}.${candidate.dropped}=${candidate.added} (or a line "/// renamed from ${candidate.dropped}" above the field). ` +
          'If it is not, drop the old field in a change of its own, after a release that no longer reads it.',
      },
    )
  }

  assertOneChangePerField(changes)
  const expandFiles = applyEdits(finalFiles, expandEdits(name, changes, models))
  // A renamed table: what Prisma's diff holds once the table has its new name (the renames of its indexes).
  const renamedTable = changes.find((change) => change.kind === 'rename-table')
  const renamedFirst = renamedTable
    ? [
        {
          name: migrationNames(history.at(-1)?.name, [`${name}_rename`], options.now ?? new Date())[0],
          sql: tableRename(renamedTable).rename,
        },
      ]
    : []
  const expandScript = await diffMigrationsToSchema(project, options.databaseUrl, history, renamedFirst, expandFiles)
  const expand = await expandDrafts(name, changes, expandScript, schema)
  const now = options.now ?? new Date()
  const expandNames = migrationNames(
    history.at(-1)?.name,
    expand.map((draft) => draft.suffix),
    now,
  )

  if (changes.length === 0 && expand.length <= 1 && (expand[0]?.sql.includes(finalScript.trim()) ?? true)) {
    // Nothing to split and nothing to move out: Prisma's own migration is the safe one, if lint agrees.
    const [analysis] = await assertStepsSafe(project, schema, changes, { names: expandNames, drafts: expand }, { names: [], drafts: [] })
    return { kind: 'single', reason: analysis?.phaseReason ?? 'no change that breaks running code' }
  }

  // The contract as --continue will write it: from the expand release's schema, old fields of renames ignored, not removed.
  const contractFiles = applyEdits(expandFiles, contractEdits(name, changes, readModels(expandFiles), expandFiles))
  const contractScript =
    changes.length > 0
      ? await diffMigrationsToSchema(project, options.databaseUrl, history, asDraftMigrations(expandNames, expand), contractFiles)
      : undefined
  const contract = changes.length > 0 ? await contractDrafts(name, changes, contractScript) : []
  // Named as they will be, for lint's "created in this migration"; the real timestamps are given by --continue.
  const contractNames = migrationNames(
    expandNames.at(-1) ?? history.at(-1)?.name,
    contract.map((draft) => draft.suffix),
    now,
  )
  await assertStepsSafe(project, schema, changes, { names: expandNames, drafts: expand }, { names: contractNames, drafts: contract })

  const filled = changes.filter(isBackfilled)
  const backfillNames = backfillNamesOf(name, filled)
  const plan: SafeChangePlan = {
    version: 1,
    name,
    stage: 'expanded',
    createdAt: now.toISOString(),
    changes,
    expand: expandNames,
    backfills: backfillNames,
    contract: contract.map((draft) => draft.suffix),
    drop: dropSuffixes(name, changes),
  }

  const transaction = new FileTransaction()
  try {
    const migrations = await writeMigrations(project, options.databaseUrl, transaction, expandNames, expand, historyAnalyses)
    const backfillFiles = filled.map((change, index) => {
      const file = path.join(project.backfillsDir, `${backfillNames[index]}.ts`)
      if (existsSync(file)) {
        throw new UsageError(`${relativePath(project, file)} exists already; nothing was written`, {
          hint: 'Pick another name for the change.',
        })
      }
      transaction.write(
        file,
        backfillFileText({
          name: backfillNames[index],
          plan: name,
          change,
          after: expandNames.find((migration) => migration.endsWith(`_${name}_expand`)),
          before: contract[0].suffix,
          keyColumns: keyColumnsOf(models, change.target.model),
        }),
      )
      return relativePath(project, file)
    })
    const schemaFiles = writeSchemaFiles(project, transaction, finalFiles, expandFiles)
    const file = changes.length > 0 ? relativePath(project, writePlanIn(project, transaction, plan)) : ''
    const lint = await lintProject(project, resolveTargets(project, expandNames))
    return { kind: 'split', plan, planFile: file, migrations, backfillFiles, schemaFiles, lint }
  } catch (error) {
    transaction.undo()
    throw error
  }
}

/**
 * `migrate-kit new --continue <name>`: the next step of a split change. After the expand, once its backfills are done:
 * the contract (schema.prisma in its final shape, except that the old field of a rename stays as an ignored field;
 * the contract migrations). After the contract of a rename, once it is applied: the drop of the old columns. Each
 * refused while what it follows is not done (exit 3) or while schema.prisma holds other unmigrated changes (exit 2).
 */
export async function continueSafeChange(project: Project, name: string | undefined, options: SafeChangeOptions): Promise<SplitResult> {
  const plan = name ? readPlan(project, name) : onlyOpenPlan(project)
  if (plan.stage !== 'expanded' && !dropToWrite(plan)) {
    throw new UsageError(`every step of ${plan.name} is written already (${[...plan.contract, ...(plan.drop ?? [])].join(', ')})`, {
      hint: 'Deploy it: npx migrate-kit deploy (a contract waits for the backfills).',
    })
  }
  const drop = dropToWrite(plan)
  if (drop) await assertContractApplied(plan, options.databaseUrl)
  else await assertBackfillsDone(project, plan, options.databaseUrl)
  const history = listMigrations(project)
  const missing = [...plan.expand, ...(drop ? plan.contract : [])].filter(
    (migration) => !history.some((candidate) => candidate.name === migration),
  )
  if (missing.length > 0) {
    throw new UsageError(`migrations of ${plan.name} are missing: ${missing.join(', ')}`, {
      hint: `Restore them from version control: the ${drop ? 'drop' : 'contract'} is written after them.`,
    })
  }
  const current = readSchemaFiles(project)
  const pending = await diffMigrationsToSchema(project, options.databaseUrl, history, [], current)
  if (pending) {
    throw new UsageError(
      `schema.prisma has changes no migration makes yet, so the ${drop ? 'drop' : 'contract'} of ${plan.name} would include them; nothing was written`,
      {
        hint: 'Write them first (npx migrate-kit new <name>) or undo them, then run this again.',
      },
    )
  }
  const { schema, analyses: historyAnalyses } = await historyModel(project, history)
  const models = readModels(current)
  const nextFiles = applyEdits(current, drop ? dropEdits(plan, models) : contractEdits(plan.name, plan.changes, models, current))
  const script = await diffMigrationsToSchema(project, options.databaseUrl, history, [], nextFiles)
  const drafts = drop ? await dropDrafts(plan.name, plan.changes, script) : await contractDrafts(plan.name, plan.changes, script)
  const now = options.now ?? new Date()
  const names = migrationNames(
    history.at(-1)?.name,
    drafts.map((draft) => draft.suffix),
    now,
  )
  await assertStepsSafe(project, schema, plan.changes, { names: [], drafts: [] }, { names, drafts })

  const transaction = new FileTransaction()
  try {
    const migrations = await writeMigrations(project, options.databaseUrl, transaction, names, drafts, historyAnalyses)
    const schemaFiles = writeSchemaFiles(project, transaction, current, nextFiles)
    const updated: SafeChangePlan = drop
      ? { ...plan, stage: 'dropped', drop: names, droppedAt: now.toISOString() }
      : { ...plan, stage: 'contracted', contract: names, contractedAt: now.toISOString() }
    const file = relativePath(project, writePlanIn(project, transaction, updated))
    const lint = await lintProject(project, resolveTargets(project, names))
    return { plan: updated, planFile: file, migrations, backfillFiles: [], schemaFiles, lint }
  } catch (error) {
    transaction.undo()
    throw error
  }
}

function onlyOpenPlan(project: Project): SafeChangePlan {
  const open = listPlans(project).filter((plan) => plan.stage === 'expanded' || dropToWrite(plan))
  if (open.length === 1) return open[0]
  throw new UsageError(
    open.length === 0 ? 'no split change has a step left to write' : `${open.length} split changes have a step left to write: name one`,
    {
      hint: open.length === 0 ? 'Start one with: npx migrate-kit new <name> --safe' : `npx migrate-kit new --continue ${open[0].name}`,
    },
  )
}

/** Two changes of one field (made required and unique, say) are split one at a time: each has its own backfill and contract. */
function assertOneChangePerField(changes: SplitChange[]): void {
  const table = changes.find((change) => change.kind === 'rename-table')
  if (table && changes.length > 1) {
    throw new UsageError(`renaming ${table.from.table} to ${table.target.table} comes with other changes`, {
      hint: 'Rename the table in a change of its own (its fields unchanged), then make the other changes.',
    })
  }
  const seen = new Set<string>()
  for (const change of changes) {
    const key = `${change.target.model}.${change.target.field}`
    if (seen.has(key)) {
      throw new UsageError(
        `${key} changes in two ways at once (${changes
          .filter((other) => `${other.target.model}.${other.target.field}` === key)
          .map((other) => other.kind)
          .join(', ')})`,
        {
          hint: 'Split them one change at a time: undo one edit, run new --safe for the other, and make the second change after its contract.',
        },
      )
    }
    seen.add(key)
  }
}

/**
 * With nothing in Prisma's diff, the renames that kept their column through @map: Prisma Client gets the new name and
 * the database changes nothing. A --rename that is not one of those is a mistake, said as such.
 */
function mappedRenames(models: ModelBlock[], explicit: RenameHint[], documented: RenameHint[]): string[] {
  const notes: string[] = []
  for (const hint of [...explicit, ...documented]) {
    const field = models.find((model) => model.name === hint.model)?.fields.find((candidate) => candidate.name === hint.to)
    if (field?.column === hint.from) {
      notes.push(
        `${hint.model}.${hint.from} → ${hint.to} keeps its column "${hint.from}" through @map: Prisma Client gets the new name and the database changes nothing, so no migration is needed.`,
      )
    } else if (explicit.includes(hint)) {
      throw new UsageError(`--rename ${hint.model}.${hint.from}=${hint.to}: schema.prisma matches the migrations, so nothing is renamed`, {
        hint: `Rename the field in schema.prisma first (${hint.from} → ${hint.to}), then run this again.`,
      })
    }
  }
  return notes
}

/** Refused while a backfill of the plan is not done in the development database (exit 3, as the deploy gate). */
async function assertBackfillsDone(project: Project, plan: SafeChangePlan, databaseUrl: string): Promise<void> {
  if (plan.backfills.length === 0) return
  const statuses = await withConnection(
    databaseUrl,
    (client) => Promise.all(plan.backfills.map((backfill) => readBackfillStatus(client, backfill, undefined))),
    {
      applicationName: 'migrate-kit new --continue',
    },
  )
  const waiting = plan.backfills.flatMap((backfill, index) =>
    statuses[index]?.status === 'done' ? [] : [`${backfill} (${statuses[index]?.status ?? 'never run'})`],
  )
  if (waiting.length > 0) {
    throw new BlockedError(`the contract of ${plan.name} waits for its backfill: ${waiting.join(', ')}`, {
      hint:
        `Deploy the expand and run the backfill first: npx migrate-kit deploy && npx migrate-kit backfill run ${plan.backfills[0]}. ` +
        'The contract is for the release after the one that writes both shapes.',
    })
  }
}

/** The drop is for the release after the contract's: refused while the contract is not applied in the development database. */
async function assertContractApplied(plan: SafeChangePlan, databaseUrl: string): Promise<void> {
  const records = await withConnection(databaseUrl, (client) => readMigrationRecords(client), {
    applicationName: 'migrate-kit new --continue',
  })
  const waiting = plan.contract.filter((migration) => migrationState(records.filter((record) => record.name === migration)) !== 'applied')
  if (waiting.length > 0) {
    throw new BlockedError(`the drop of ${plan.name} waits for its contract to be applied: ${waiting.join(', ')}`, {
      hint:
        'Apply it (npx migrate-kit prisma migrate dev), ship the release of the contract schema and deploy it; write the drop once ' +
        'no older release runs.',
    })
  }
}

/** One backfill per change: the plan's name for one, `<plan>_<column>` for several. */
function backfillNamesOf(plan: string, changes: BackfilledChange[]): string[] {
  const names: string[] = []
  for (const change of changes) {
    const base = changes.length === 1 ? plan : `${plan}_${change.target.column}`.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60)
    let candidate = base
    for (let counter = 2; names.includes(candidate); counter++) candidate = `${base}_${counter}`
    names.push(candidate)
  }
  return names
}

/** The edits that make the edited schema the expand release's: new fields optional, old fields kept beside them. */
function expandEdits(plan: string, changes: SplitChange[], models: ModelBlock[]): SchemaEdit[] {
  const edits: SchemaEdit[] = []
  for (const change of changes) {
    // A renamed table: the expand's schema is the final one (the old name lives on as a view, which Prisma ignores).
    if (change.kind === 'rename-table') continue
    const model = models.find((candidate) => candidate.name === change.target.model)!
    if (change.kind === 'add-unique') {
      edits.push(uniqueEdit(change, model, 'remove'))
      continue
    }
    if (change.kind === 'add-foreign-key') {
      for (const line of change.relationLines) {
        const owner = models.find((candidate) => candidate.name === line.model)!
        const relation = owner.relations.find((candidate) => candidate.text === line.text)!
        edits.push({ kind: 'replace', file: owner.file, line: relation.line, text: parkedRelation(plan, line.text) })
      }
      continue
    }
    if (change.kind === 'drop-column') {
      const last = model.fields.at(-1)!
      edits.push({ kind: 'insert-after', file: model.file, line: last.line, lines: [`${change.fieldLine} ${KEEP_COMMENT(plan)}`] })
      continue
    }
    const field = model.fields.find((candidate) => candidate.name === change.target.field)!
    if (change.kind === 'change-type') {
      // The field as it was, and the new column beside it: no @default, which would hide the old release's writes from the trigger.
      const added = withOptional(withoutDefault(movedFieldLine(change.targetLine, change.expandField, change.target.column)), true)
      edits.push({ kind: 'replace', file: model.file, line: field.line, text: change.fromLine })
      edits.push({ kind: 'insert-after', file: model.file, line: field.line, lines: [`${added} ${KEEP_COMMENT(plan)}`] })
      continue
    }
    if (change.kind !== 'rename-column') {
      const optional = withOptional(field.text, true)
      edits.push({ kind: 'replace', file: model.file, line: field.line, text: optional })
      continue
    }
    edits.push({ kind: 'replace', file: model.file, line: field.line, text: withOptional(withoutDefault(field.text), true) })
    const oldLine = withOptional(
      renamedFieldLine(field.text, change.from.field, change.from.column, { unique: change.fromUnique }),
      !change.fromRequired,
    )
    edits.push({ kind: 'insert-after', file: model.file, line: field.line, lines: [`${oldLine} ${KEEP_COMMENT(plan)}`] })
  }
  return edits
}

/**
 * The edits that make the expand release's schema the contract's: new fields as the developer wrote them, deleted
 * fields removed, and the old field of a rename made optional and ignored (its column stays for the release running
 * while the contract deploys; the drop step removes it).
 */
function contractEdits(plan: string, changes: SplitChange[], models: ModelBlock[], files: SchemaFile[]): SchemaEdit[] {
  const edits: SchemaEdit[] = []
  const find = fieldFinder(plan, models)
  for (const change of changes) {
    if (change.kind === 'rename-table') {
      const model = models.find((candidate) => candidate.name === change.target.model)
      model?.docs.forEach((doc, index) => {
        if (RENAMED_FROM.test(doc.trim())) edits.push({ kind: 'remove', file: model.file, line: model.start - model.docs.length + index })
      })
      continue
    }
    if (change.kind === 'change-type') {
      const added = find(change.target.model, change.expandField)
      const old = find(change.from.model, change.from.field)
      // The field where it was, over the new column; the old column's ignored field after it, where the expand's new
      // field was (Prisma refuses a field mapped to "visits" above the field named visits: P1012 "already defined").
      edits.push({
        kind: 'replace',
        file: old.model.file,
        line: old.field.line,
        text: movedFieldLine(change.targetLine, change.target.field, change.target.column),
      })
      edits.push({
        kind: 'replace',
        file: added.model.file,
        line: added.field.line,
        text: ignoredFieldLine(movedFieldLine(withoutDefault(old.field.text), change.ignoredField, change.from.column), DROP_COMMENT(plan)),
      })
      continue
    }
    const { model, field } = find(change.target.model, change.target.field)
    if (change.kind === 'add-unique') {
      edits.push(uniqueEdit(change, model, 'restore'))
      continue
    }
    if (change.kind === 'add-foreign-key') {
      for (const line of change.relationLines) edits.push(restoredRelation(plan, line, models, files))
      continue
    }
    if (change.kind === 'drop-column') {
      edits.push({ kind: 'remove', file: model.file, line: field.line })
      continue
    }
    const required = change.kind === 'rename-column' ? change.required : true
    const final =
      change.kind === 'rename-column' && change.targetLine !== undefined ? change.targetLine : withOptional(field.text, !required)
    edits.push({ kind: 'replace', file: model.file, line: field.line, text: final })
    if (change.kind === 'rename-column') {
      const old = find(change.from.model, change.from.field)
      // No @default: on INSERT the contract's trigger takes a value in the old column for one a writer named.
      edits.push({
        kind: 'replace',
        file: old.model.file,
        line: old.field.line,
        text: ignoredFieldLine(withoutDefault(old.field.text), DROP_COMMENT(plan)),
      })
      const lines = renamedFromLines(model, field.line)
      for (const line of lines) edits.push({ kind: 'remove', file: model.file, line })
    }
  }
  return edits
}

/** The expand leaves a new @unique / @@unique out of the schema (the database has no such index yet); the contract puts it back. */
function uniqueEdit(change: Extract<SplitChange, { kind: 'add-unique' }>, model: ModelBlock, step: 'remove' | 'restore'): SchemaEdit {
  const { text, on } = change.attribute
  if (on === 'model') {
    if (step === 'restore') return { kind: 'insert-after', file: model.file, line: model.end - 1, lines: [`  ${text}`] }
    const line = model.attributes.find((attribute) => attribute.text === text)!
    return { kind: 'remove', file: model.file, line: line.line }
  }
  const field = model.fields.find((candidate) => candidate.name === change.target.field)!
  return {
    kind: 'replace',
    file: model.file,
    line: field.line,
    text: step === 'remove' ? withoutAttribute(field.text, text) : withAttribute(field.text, text),
  }
}

/** A relation field the expand leaves out of the schema (the database has no foreign key yet), commented out where it was. */
function parkedRelation(plan: string, text: string): string {
  return `${/^\s*/.exec(text)?.[0] ?? ''}// ${text.trim()} // migrate-kit: the contract of ${plan} puts this line back`
}

function restoredRelation(plan: string, line: { model: string; text: string }, models: ModelBlock[], files: SchemaFile[]): SchemaEdit {
  const model = models.find((candidate) => candidate.name === line.model)
  const lines = files.find((file) => file.path === model?.file)?.content.split('\n') ?? []
  const parked = parkedRelation(plan, line.text)
  const index = model ? lines.findIndex((text, at) => at > model.start && at < model.end && text === parked) : -1
  if (!model || index < 0) {
    throw new UsageError(
      `the line "${parked.trim()}" is not in model ${line.model} any more, so the contract of ${plan} cannot put it back`,
      {
        hint: 'Put it back as the expand wrote it (commented out), then run this again.',
      },
    )
  }
  return { kind: 'replace', file: model.file, line: index, text: line.text }
}

/** The edits of the drop step: the ignored old fields of renames removed. */
function dropEdits(plan: SafeChangePlan, models: ModelBlock[]): SchemaEdit[] {
  const find = fieldFinder(plan.name, models)
  return plan.changes.flatMap((change): SchemaEdit[] => {
    if (!isTwoColumn(change)) return []
    const old = find(change.from.model, change.kind === 'change-type' ? change.ignoredField : change.from.field)
    return [{ kind: 'remove', file: old.model.file, line: old.field.line }]
  })
}

function withoutDefault(text: string): string {
  return withoutAttributes(text, (name) => name === '@default')
}

/** Finds a field the plan needs in schema.prisma, or says how to put it back. */
function fieldFinder(
  plan: string,
  models: ModelBlock[],
): (modelName: string, fieldName: string) => { model: ModelBlock; field: FieldLine } {
  return (modelName, fieldName) => {
    const model = models.find((candidate) => candidate.name === modelName)
    const field = model?.fields.find((candidate) => candidate.name === fieldName)
    if (!model || !field) {
      throw new UsageError(`${modelName}.${fieldName} is not in schema.prisma any more, so the next step of ${plan} cannot be written`, {
        hint: `Put the field back as the last step left it (see safe-changes/${plan}.json), then run this again.`,
      })
    }
    return { model, field }
  }
}

/** The `/// renamed from …` lines above a field: said once, for the expand. */
function renamedFromLines(model: ModelBlock, fieldLine: number): number[] {
  const field = model.fields.find((candidate) => candidate.line === fieldLine)
  if (!field) return []
  return field.docs.flatMap((doc, index) => (RENAMED_FROM.test(doc.trim()) ? [fieldLine - field.docs.length + index] : []))
}

function keyColumnsOf(models: ModelBlock[], modelName: string): string[] {
  const model = models.find((candidate) => candidate.name === modelName)
  if (!model) return []
  const single = model.fields.filter((field) => attributesOfField(field.text).some((attribute) => attribute.name === '@id'))
  if (single.length > 0) return single.map((field) => field.column)
  const compound = model.attributes.flatMap((attribute) => attributeFields(attribute.text, '@@id') ?? [])
  return compound.flatMap((name) => model.fields.find((field) => field.name === name)?.column ?? [])
}

function writeSchemaFiles(project: Project, transaction: FileTransaction, before: SchemaFile[], after: SchemaFile[]): string[] {
  const written: string[] = []
  after.forEach((file, index) => {
    if (file.content === before[index]?.content) return
    transaction.write(file.path, file.content)
    written.push(relativePath(project, file.path))
  })
  return written
}

function writePlanIn(project: Project, transaction: FileTransaction, plan: SafeChangePlan): string {
  const file = planFile(project, plan.name)
  transaction.track(file)
  return writePlan(project, plan)
}

/** Writes the migrations, then each one's rollback.sql from Prisma's diff plus the SQL the step adds, tried on a scratch database. */
async function writeMigrations(
  project: Project,
  databaseUrl: string,
  transaction: FileTransaction,
  names: string[],
  drafts: StepDraft[],
  historyAnalyses: MigrationAnalysis[],
): Promise<WrittenMigration[]> {
  if (drafts.length === 0) return []
  drafts.forEach((draft, index) => {
    const dir = path.join(project.migrationsDir, names[index])
    transaction.folder(dir)
    transaction.write(path.join(dir, 'migration.sql'), draft.sql)
  })
  const history = listMigrations(project)
  const trial = await RollbackTrial.open(project, databaseUrl)
  // The history before the drafts is analysed already: only the drafts are, for their rollbacks.
  const analyses = new HistoryAnalyses(project, historyAnalyses)
  try {
    const written: WrittenMigration[] = []
    for (const [index, draft] of drafts.entries()) {
      const generated = await generateRollback(project, names[index], { databaseUrl, trial, analyses, history, extra: draft.rollback })
      transaction.folder(path.dirname(rollbackFile(project, names[index])))
      writeRollback(project, generated)
      written.push({
        name: names[index],
        file: relativePath(project, path.join(project.migrationsDir, names[index], 'migration.sql')),
        rollbackFile: relativePath(project, generated.file),
        role: draft.role,
      })
    }
    return written
  } finally {
    await trial.close()
  }
}
