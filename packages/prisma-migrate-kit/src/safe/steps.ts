import { readFileSync } from 'node:fs'
import path from 'node:path'
import { UsageError } from '../errors'
import { analyzeMigrations, loadSqlParser, SchemaHistory, type Finding, type MigrationAnalysis } from '../lint'
import { addedConstraint, alterTableCommands, droppedRefs, nodeAs, tableOf, type TableRef } from '../lint/nodes'
import type { IndexStmt, Node } from 'libpg-query'
import { parseSql } from '../lint/parser'
import { projectLintSettings } from '../lint/project'
import type { MigrationOnDisk } from '../prisma/migrations'
import { relativePath, type Project } from '../project'
import { schemaFilesOf } from '../project/load'
import { SourceText } from '../sql/source'
import type { SplitChange } from './changes'
import type { DraftMigration } from './prisma-diff'
import type { SchemaFile } from './schema-text'
import {
  bareTable,
  contractSync,
  conversionFunctions,
  converted,
  dropCheck,
  isTwoColumn,
  notValidCheck,
  quoted,
  refName,
  syncTrigger,
  tableRename,
  tableSql,
  tightened,
  validateCheck,
  type SqlPair,
  type TwoColumnChange,
} from './steps-sql'

/**
 * The migrations of a split change before they are written: their SQL, the SQL their rollbacks add to Prisma's
 * inverse, and what each is for. Shared by the expand (`new --safe`) and the contract (`new --continue`).
 */
export interface StepDraft {
  /** The folder name after the timestamp: `<plan>_expand`, `<plan>_contract`. */
  suffix: string
  sql: string
  rollback: { first?: string; last?: string; transform?: (prismaScript: string) => string }
  /** For people: what this migration does in the sequence. */
  role: string
}

export function readSchemaFiles(project: Project): SchemaFile[] {
  return schemaFilesOf(project.schemaPath).map((file) => ({ path: file, content: readFileSync(file, 'utf8') }))
}

/** What the history builds, by lint's model: which tables exist and which of their columns are NOT NULL. */
export async function historyModel(
  project: Project,
  history: MigrationOnDisk[],
): Promise<{ schema: SchemaHistory; analyses: MigrationAnalysis[] }> {
  const analyses = await analyzeMigrations(
    history.map((migration) => ({
      name: migration.name,
      file: relativePath(project, migration.sqlFile),
      sql: readFileSync(migration.sqlFile, 'utf8'),
    })),
    { settings: projectLintSettings(project) },
  )
  return { schema: analyses.at(-1)?.schema ?? new SchemaHistory(), analyses }
}

function header(plan: string, role: string): string {
  return `-- ${role}\n-- Written by migrate-kit new --safe (safe-changes/${plan}.json)\n`
}

/**
 * How long a statement of ours waits for its lock before the migration fails (and rolls back whole) instead of
 * queueing every read and write of the table behind it. Never in a CONCURRENTLY migration: it must stay one statement.
 */
const LOCK_TIMEOUT = "SET lock_timeout = '5s';\n"

/** SQL with no statement in it: comments and blank lines only. */
function hasStatements(script: string): boolean {
  return (
    script
      .replace(/--[^\n]*/g, '')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .trim() !== ''
  )
}

/** `table.column` of each column a deleted field leaves: the contract drops it. */
function droppingColumns(changes: SplitChange[]): Set<string> {
  return new Set(changes.flatMap((change) => (change.kind === 'drop-column' ? [`${change.target.table}.${change.target.column}`] : [])))
}

/**
 * New columns a unique index may cover in the expand without restricting the release running now: a column that
 * release never writes (a new required field, NULL until the new release writes it), or the new side of a rename
 * whose old column is unique already (the trigger copies values that are unique).
 */
function uniqueReady(changes: SplitChange[]): Set<string> {
  return new Set(
    changes.flatMap((change) =>
      change.kind === 'add-required' || (change.kind === 'rename-column' && change.fromUnique)
        ? [`${change.target.table}.${change.target.column}`]
        : [],
    ),
  )
}

/**
 * Prisma's expand script cut into migrations: every CREATE INDEX on a table that exists already becomes CREATE INDEX
 * CONCURRENTLY alone in a migration of its own (PostgreSQL refuses CONCURRENTLY inside a transaction, and a
 * multi-statement migration runs in one), the rest stays one migration, followed by the sync triggers of renames.
 */
export async function expandDrafts(
  plan: string,
  changes: SplitChange[],
  script: string | undefined,
  history: SchemaHistory,
): Promise<StepDraft[]> {
  await loadSqlParser()
  const table = changes.find((change) => change.kind === 'rename-table')
  if (table) return [tableRenameDraft(plan, table, script)]
  const synced = changes.filter(isTwoColumn)
  const added = uniqueReady(changes)
  const { rest: expanded, drafts: created } = concurrentIndexes(
    script ?? '',
    (count) => (count === 1 ? `${plan}_index` : `${plan}_index_${count}`),
    (name) => `${header(plan, `expand: index ${name} built CONCURRENTLY, alone in its migration (writes go on)`)}`,
    (index, table, columns) => {
      if (index.concurrent || !history.table(table.ref)) return undefined
      if (index.unique && !columns.every((column) => added.has(`${table.name}.${column}`))) {
        throw new UsageError(
          `the expand would add a unique index over existing data (${index.idxname ?? 'unnamed'} on ${table.name}(${columns.join(', ')}))`,
          {
            hint: 'Make the @unique a change of its own: with nothing else changed, new --safe writes it as de-duplicate, then CREATE UNIQUE INDEX CONCURRENTLY.',
          },
        )
      }
      return `expand: CREATE INDEX CONCURRENTLY ${index.idxname ?? ''} on ${table.name} (writes go on while it builds)`
    },
  )
  const dropped = concurrentIndexDrops(plan, expanded, history, droppingColumns(changes))
  // A foreign key on a table with rows, over a column this script adds (all NULL: no orphan): NOT VALID here, so
  // that no row is scanned under the lock that blocks writes, and VALIDATE in a migration of its own.
  const keys = foreignKeysOf(dropped.rest, (constraint, table) => history.table(table) !== undefined)
  const main = keys.added.length > 0 ? `${keys.rest.trim()}\n${keys.added.map((key) => key.notValid).join('\n')}\n` : dropped.rest
  const validations: StepDraft[] =
    keys.added.length > 0
      ? [
          {
            suffix: `${plan}_validate`,
            sql:
              header(plan, 'expand: the new foreign keys validated, a scan that lets writes go on') +
              LOCK_TIMEOUT +
              keys.added.map((key) => key.validate).join('\n') +
              '\n',
            rollback: { first: keys.added.map((key) => key.restore).join('\n') },
            role: `expand: VALIDATE ${keys.added.map((key) => `${key.name} on ${key.table}`).join(', ')} (a scan that lets writes go on)`,
          },
        ]
      : []
  const indexes = [...validations, ...dropped.drafts, ...created]
  const conversions = changes.flatMap((change) => (change.kind === 'change-type' ? [conversionFunctions(change)] : []))
  const triggers = [...conversions, ...synced.map((change) => syncTrigger(change))]
  const drafts: StepDraft[] = []
  if (hasStatements(main) || triggers.length > 0) {
    drafts.push({
      suffix: `${plan}_expand`,
      sql:
        header(plan, 'expand: the new shape next to the old one; code running now keeps working') +
        LOCK_TIMEOUT +
        (hasStatements(main) ? `${main.trim()}\n` : '') +
        triggers.map((trigger) => `\n${trigger.forward.replace(/^CREATE TRIGGER/m, `${TRIGGER_NEEDED}\nCREATE TRIGGER`)}\n`).join(''),
      rollback:
        triggers.length > 0
          ? {
              first: [...triggers]
                .reverse()
                .map((trigger) => trigger.inverse)
                .join('\n'),
            }
          : {},
      role: 'expand: ' + expandRole(changes),
    })
  }
  return [...drafts, ...indexes]
}

/**
 * The statements of Prisma's script that `pick` takes (returning what it makes of each), cut out; the rest of the
 * script, without the section comments left with nothing under them.
 */
function cutStatements<T>(script: string, pick: (node: Node, text: string) => T | undefined): { rest: string; picked: T[] } {
  if (!script) return { rest: '', picked: [] }
  const source = new SourceText(script)
  const kept: string[] = []
  const picked: T[] = []
  let from = 0
  for (const statement of parseSql(source, false).statements) {
    const taken = pick(statement.node, source.slice(statement.start, statement.end))
    if (taken === undefined) continue
    kept.push(source.slice(from, statement.start))
    from = statement.end + 1
    picked.push(taken)
  }
  kept.push(source.slice(from))
  return { rest: kept.join('').replace(/^-- (?:CreateIndex|DropIndex|AddForeignKey)\n(?=\s*(?:\n|--|$))/gm, ''), picked }
}

/** The statements `pick` takes (returning each one's migration SQL and role), each moved to a migration of its own. */
function moveAlone(
  script: string,
  suffix: (count: number) => string,
  pick: (node: Node, text: string) => { sql: string; role: string } | undefined,
): { rest: string; drafts: StepDraft[] } {
  const { rest, picked } = cutStatements(script, pick)
  return { rest, drafts: picked.map((draft, index) => ({ suffix: suffix(index + 1), sql: draft.sql, rollback: {}, role: draft.role })) }
}

/**
 * The CREATE INDEX statements of Prisma's script that `role` picks (it returns the migration's role, or undefined to
 * leave the statement where it is), each made CONCURRENTLY and moved to a migration of its own; the rest of the script.
 */
function concurrentIndexes(
  script: string,
  suffix: (count: number) => string,
  heading: (index: string) => string,
  role: (index: IndexStmt, table: { ref: TableRef; name: string }, columns: string[]) => string | undefined,
): { rest: string; drafts: StepDraft[] } {
  return moveAlone(script, suffix, (node, text) => {
    const index = nodeAs(node, 'IndexStmt')
    const ref = tableOf(index?.relation)
    if (!index || !ref) return undefined
    const name = refName(ref)
    const columns = (index.indexParams ?? []).flatMap((item) => nodeAs(item, 'IndexElem')?.name ?? [])
    const picked = role(index, { ref, name }, columns)
    if (picked === undefined) return undefined
    const concurrent = text.replace(
      /^CREATE(\s+UNIQUE)?\s+INDEX\s+/i,
      (match, unique: string | undefined) => `CREATE${unique ?? ''} INDEX CONCURRENTLY `,
    )
    return { sql: `${heading(index.idxname ?? '')}${concurrent};\n`, role: picked }
  })
}

/**
 * Prisma's DROP INDEX of indexes that cover only columns being dropped: CONCURRENTLY, each alone in a migration of the
 * expand (a plain DROP INDEX waits for, then blocks, every read and write of the table).
 */
function concurrentIndexDrops(
  plan: string,
  script: string,
  history: SchemaHistory,
  dropping: Set<string>,
): { rest: string; drafts: StepDraft[] } {
  return moveAlone(
    script,
    (count) => (count === 1 ? `${plan}_drop_index` : `${plan}_drop_index_${count}`),
    (node) => {
      const drop = nodeAs(node, 'DropStmt')
      if (drop?.removeType !== 'OBJECT_INDEX' || drop.concurrent || (drop.objects ?? []).length !== 1) return undefined
      const [ref] = droppedRefs(drop.objects)
      const index = ref ? history.index(ref) : undefined
      const table = index ? refName(index.table) : ''
      if (!index || index.columns.length === 0 || !index.columns.every((column) => dropping.has(`${table}.${column}`))) return undefined
      const name = ref.schema ? `${quoted(ref.schema)}.${quoted(ref.name)}` : quoted(ref.name)
      return {
        sql: `${header(plan, `expand: index ${ref.name} of a column being dropped, dropped CONCURRENTLY alone in its migration`)}DROP INDEX CONCURRENTLY ${drop.missing_ok ? 'IF EXISTS ' : ''}${name};\n`,
        role: `expand: DROP INDEX CONCURRENTLY ${ref.name} (${index.columns.join(', ')} of ${table}, dropped by the contract)`,
      }
    },
  )
}

/**
 * The expand of a renamed table: RENAME TO, Prisma's renames of its indexes and constraints (what is left of its diff
 * once the table has the new name), and an updatable view under the old name, through which the running release
 * reads and writes. Its rollback is written here: Prisma's inverse would drop the table and create an empty one.
 */
function tableRenameDraft(plan: string, change: Extract<SplitChange, { kind: 'rename-table' }>, script: string | undefined): StepDraft {
  const { rename, view } = tableRename(change)
  const renames = script ? renamesOf(script, change) : []
  const back = `ALTER TABLE ${tableSql(change.target.table)} RENAME TO ${quoted(bareTable(change.from.table))};`
  return {
    suffix: `${plan}_expand`,
    sql:
      header(plan, 'expand: the table under its new name, and a view under the old one for the release running now') +
      LOCK_TIMEOUT +
      `-- migrate-kit-ignore renaming-table: the view ${tableSql(change.from.table)} created below keeps the running release's queries working until the contract drops it\n` +
      `${rename}\n` +
      renames.map((statement) => `${statement.forward}\n`).join('') +
      `${view.forward}\n`,
    rollback: {
      transform: () => [view.inverse, back, ...renames.map((statement) => statement.inverse).reverse()].join('\n') + '\n',
    },
    role: `expand: renames ${change.from.table} to ${change.target.table}; the view ${change.from.table} serves the running release`,
  }
}

/** Prisma's renames of a renamed table's indexes and constraints, each with its inverse; anything else is refused. */
function renamesOf(script: string, change: Extract<SplitChange, { kind: 'rename-table' }>): SqlPair[] {
  const source = new SourceText(script)
  return parseSql(source, false).statements.map((statement) => {
    const rename = nodeAs(statement.node, 'RenameStmt')
    const forward = `${source.slice(statement.start, statement.end).trim()};`
    const schema = rename?.relation?.schemaname ? `${quoted(rename.relation.schemaname)}.` : ''
    if (rename?.renameType === 'OBJECT_INDEX' && rename.relation?.relname && rename.newname) {
      return { forward, inverse: `ALTER INDEX ${schema}${quoted(rename.newname)} RENAME TO ${quoted(rename.relation.relname)};` }
    }
    if (rename?.renameType === 'OBJECT_TABCONSTRAINT' && rename.subname && rename.newname) {
      return {
        forward,
        inverse: `ALTER TABLE ${tableSql(change.from.table)} RENAME CONSTRAINT ${quoted(rename.newname)} TO ${quoted(rename.subname)};`,
      }
    }
    throw new UsageError(`renaming ${change.from.table} to ${change.target.table} comes with other changes in Prisma's diff: ${forward}`, {
      hint: 'Rename the table in a change of its own (fields, indexes and relations unchanged), then make the other changes.',
    })
  })
}

function expandRole(changes: SplitChange[]): string {
  const parts = changes.map((change) => {
    const target = `${change.target.table}.${change.target.column}`
    if (change.kind === 'rename-column') return `adds ${target} next to ${change.from.column} and a trigger keeping them equal`
    if (change.kind === 'change-type') {
      return `adds ${target} (${change.toType}) next to ${change.from.column} (${change.fromType}), the conversion functions and a trigger converting every write`
    }
    if (change.kind === 'add-required') return `adds ${target} as nullable`
    if (change.kind === 'drop-column') return `${target} stays, nullable, a field Prisma Client ignores`
    if (change.kind === 'add-unique') return `${change.index} left out until its duplicates are gone`
    if (change.kind === 'add-foreign-key') return `${change.constraint} left out until its orphans are fixed`
    if (change.kind === 'rename-table') return `${change.from.table} renamed to ${change.target.table}, a view under the old name`
    return `${target} stays nullable`
  })
  return parts.length > 0 ? parts.join('; ') : "Prisma's script"
}

/**
 * The contract: with columns to make NOT NULL, first a migration adding CHECK (col IS NOT NULL) NOT VALID (new writes
 * are checked at once, no scan under a strong lock), then one that validates it (a scan that lets writes go on), runs
 * Prisma's script (SET NOT NULL, now without a scan; deleted fields' columns dropped; a rename's old column made
 * nullable, its field ignored by Prisma Client) and drops the CHECKs. A rename's old column and trigger stay: the
 * release running while the contract deploys still reads and writes it; the drop step removes them.
 */
export async function contractDrafts(plan: string, changes: SplitChange[], script: string | undefined): Promise<StepDraft[]> {
  await loadSqlParser()
  const tight = tightened(changes)
  const uniques = changes.flatMap((change) => (change.kind === 'add-unique' ? [change] : []))
  // A unique index over existing rows: CONCURRENTLY, alone, after its duplicates are gone (the backfill before it).
  const moved = concurrentIndexes(
    script ?? '',
    (count) => (count === 1 ? `${plan}_unique` : `${plan}_unique_${count}`),
    (name) => header(plan, `contract: unique index ${name} built CONCURRENTLY, alone in its migration (writes go on)`),
    (index, table) =>
      uniques.some((change) => change.index === index.idxname && change.target.table === table.name)
        ? `contract: CREATE UNIQUE INDEX CONCURRENTLY ${index.idxname ?? ''} on ${table.name} (fails, leaving an invalid index to drop, if a duplicate came back)`
        : undefined,
  )
  // A foreign key over existing rows: added NOT VALID (new writes are checked, no row is), then VALIDATEd apart.
  const keys = foreignKeysOf(moved.rest, (constraint) =>
    changes.some((change) => change.kind === 'add-foreign-key' && change.constraint === constraint),
  )
  const rest = hasStatements(keys.rest) ? keys.rest : undefined
  const drafts: StepDraft[] = []
  if (tight.length > 0 || keys.added.length > 0) {
    const checks = tight.map(notValidCheck)
    drafts.push({
      suffix: `${plan}_contract_check`,
      sql:
        header(plan, 'contract 1/2: constraints added NOT VALID: every new write is checked, no row is scanned') +
        LOCK_TIMEOUT +
        [...checks.map((check) => check.forward), ...keys.added.map((key) => key.notValid)].join('\n') +
        '\n',
      rollback: checks.length > 0 ? { first: checks.map((check) => check.inverse).join('\n') } : {},
      role: `contract: NOT VALID ${[
        ...tight.map((column) => `CHECK (${column.table}.${column.column} IS NOT NULL)`),
        ...keys.added.map((key) => `FOREIGN KEY ${key.name} on ${key.table}`),
      ].join(', ')}`,
    })
  }
  const drops = tight.map(dropCheck)
  const syncs = changes.filter(isTwoColumn).map(contractSync)
  const views = changes.flatMap((change) => (change.kind === 'rename-table' ? [tableRename(change)] : []))
  const body = [
    ...views.map((view) => view.dropView),
    ...tight.map(validateCheck),
    ...keys.added.map((key) => key.validate),
    ...(rest ? [(await acknowledgeDrops(plan, changes, rest)).trim()] : []),
    ...drops.map((drop) => drop.forward),
    ...syncs.map((sync) => sync.forward),
  ]
  if (body.length === 0) return [...drafts, ...moved.drafts]
  drafts.push({
    suffix: `${plan}_contract`,
    sql:
      header(plan, `contract${tight.length > 0 ? ' 2/2' : ''}: validate, tighten, drop what no running release reads`) +
      LOCK_TIMEOUT +
      body.join('\n') +
      '\n',
    rollback: {
      // A validated foreign key cannot become NOT VALID again: dropped and added back as the first migration left it.
      first:
        [...keys.added.map((key) => key.restore), ...views.map((view) => view.view.forward), ...syncs.map((sync) => sync.inverse)].join(
          '\n',
        ) || undefined,
      last: drops.map((drop) => drop.inverse).join('\n') || undefined,
    },
    role: `contract: ${[
      tight.length > 0 ? `VALIDATE + SET NOT NULL on ${tight.map((column) => `${column.table}.${column.column}`).join(', ')}` : '',
      ...keys.added.map((key) => `VALIDATE ${key.name} (a scan that lets writes go on)`),
      ...changes.flatMap((change) =>
        isTwoColumn(change)
          ? [`${change.from.table}.${change.from.column} stays (nullable, ignored by Prisma Client) until the drop step`]
          : change.kind === 'drop-column'
            ? [`drops ${change.target.table}.${change.target.column}`]
            : change.kind === 'rename-table'
              ? [`drops the view ${change.from.table}`]
              : [],
      ),
    ]
      .filter(Boolean)
      .join('; ')}`,
  })
  return [...drafts, ...moved.drafts]
}

interface AddedForeignKey {
  name: string
  table: string
  /** Prisma's statement with NOT VALID. */
  notValid: string
  validate: string
  /** A validated key cannot become NOT VALID again: dropped and added back NOT VALID (the VALIDATE's rollback). */
  restore: string
}

/** Prisma's ADD CONSTRAINT … FOREIGN KEY statements of the named constraints, cut out of the script. */
function foreignKeysOf(script: string, pick: (constraint: string, table: TableRef) => boolean): { rest: string; added: AddedForeignKey[] } {
  const { rest, picked } = cutStatements(script, (node, text): AddedForeignKey | undefined => {
    const commands = alterTableCommands(node)
    const constraint = commands.length === 1 ? addedConstraint(commands[0].cmd) : undefined
    if (constraint?.contype !== 'CONSTR_FOREIGN' || !constraint.conname || !pick(constraint.conname, commands[0].table)) return undefined
    const table = refName(commands[0].table)
    const notValid = `${text.trim()} NOT VALID;`
    return {
      name: constraint.conname,
      table,
      notValid,
      validate: `ALTER TABLE ${tableSql(table)} VALIDATE CONSTRAINT ${quoted(constraint.conname)};`,
      restore: `ALTER TABLE ${tableSql(table)} DROP CONSTRAINT IF EXISTS ${quoted(constraint.conname)};\n${notValid}`,
    }
  })
  return { rest, added: picked }
}

/** The drop step's migration names after the timestamp: one for a plan with renames, none otherwise. */
export function dropSuffixes(plan: string, changes: SplitChange[]): string[] {
  return changes.some(isTwoColumn) ? [`${plan}_drop`] : []
}

/**
 * The drop step of renames, for the release after the contract's (which ignores the old fields): the sync triggers
 * and Prisma's DROP COLUMN of the old columns. Its rollback brings each old column back filled from the new one.
 */
export async function dropDrafts(plan: string, changes: SplitChange[], script: string | undefined): Promise<StepDraft[]> {
  const renames = changes.filter(isTwoColumn)
  if (renames.length === 0) return []
  const triggers = renames.map((change) => syncTrigger(change, 'contract'))
  const conversions = changes.flatMap((change) => (change.kind === 'change-type' ? [conversionFunctions(change)] : []))
  const body = [
    ...triggers.map((trigger) => `${TRIGGER_UNNEEDED}\n${trigger.inverse}`),
    ...conversions.map((conversion) => conversion.inverse),
    ...(script ? [(await acknowledgeDrops(plan, changes, script)).trim()] : []),
  ]
  return [
    {
      suffix: `${plan}_drop`,
      sql:
        header(plan, 'drop: the old columns of renames, which no running release reads any more') + LOCK_TIMEOUT + body.join('\n') + '\n',
      rollback: {
        last: [
          ...conversions.map((conversion) => conversion.forward),
          ...renames.map(refill),
          ...triggers.map((trigger) => trigger.forward),
        ].join('\n'),
      },
      role: `drop: ${renames.map((change) => `drops ${change.from.table}.${change.from.column} and its trigger`).join('; ')}`,
    },
  ]
}

/**
 * Prisma's script with each drop of a renamed-away column acknowledged for lint: dropping a column breaks releases
 * that read it, and here the plan is what says none runs any more (the contract is written after the backfill, for
 * the release after the one that writes both shapes).
 */
async function acknowledgeDrops(plan: string, changes: SplitChange[], script: string): Promise<string> {
  await loadSqlParser()
  const dropped = new Map(
    changes.flatMap((change): Array<[string, string]> =>
      isTwoColumn(change)
        ? [
            [
              `${change.from.table}.${change.from.column}`,
              `${change.kind === 'rename-column' ? 'renamed away' : 'replaced by a column of the new type'} by ${plan}; its drop is written once the contract's release, which ignores it, shipped`,
            ],
          ]
        : change.kind === 'drop-column'
          ? [
              [
                `${change.target.table}.${change.target.column}`,
                `dropped by ${plan}; its contract is written once the release without the field shipped`,
              ],
            ]
          : [],
    ),
  )
  const source = new SourceText(script)
  const pieces: string[] = []
  let from = 0
  for (const statement of parseSql(source, false).statements) {
    const reasons = alterTableCommands(statement.node).flatMap(({ table, cmd }) => {
      const name = refName(table)
      const reason = cmd.subtype === 'AT_DropColumn' && cmd.name !== undefined ? dropped.get(`${name}.${cmd.name}`) : undefined
      return reason ? [reason] : []
    })
    if (reasons.length === 0) continue
    pieces.push(source.slice(from, statement.start))
    pieces.push(`-- migrate-kit-ignore ban-drop-column: ${[...new Set(reasons)].join('; ')}\n`)
    from = statement.start
  }
  pieces.push(source.slice(from))
  return pieces.join('')
}

const TRIGGER_NEEDED = '-- migrate-kit-ignore changing-trigger: the release that writes both names relies on it'
const TRIGGER_UNNEEDED =
  "-- migrate-kit-ignore changing-trigger: only the contract's release and later run now, and they write the new column alone"

/** The drop's rollback refills the old column (Prisma's inverse re-adds it empty, nullable as the contract left it). */
function refill(change: TwoColumnChange): string {
  const from = quoted(change.from.column)
  return `UPDATE ${tableSql(change.from.table)} SET ${from} = ${converted(change, quoted(change.target.column), 'back')} WHERE ${from} IS NULL;`
}

/** Prisma's migration folder names for new migrations: after the migration named (the last one), one second apart. */
export function migrationNames(after: string | undefined, suffixes: string[], now: Date): string[] {
  const last = after?.slice(0, 14)
  let time = Math.floor(now.getTime() / 1000) * 1000
  if (last && /^\d{14}$/.test(last) && timestamp(new Date(time)) <= last) time = parseTimestamp(last) + 1000
  return suffixes.map((suffix, index) => `${timestamp(new Date(time + index * 1000))}_${suffix}`)
}

function timestamp(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14)
}

function parseTimestamp(text: string): number {
  const [y, mo, d, h, mi, s] = [
    text.slice(0, 4),
    text.slice(4, 6),
    text.slice(6, 8),
    text.slice(8, 10),
    text.slice(10, 12),
    text.slice(12, 14),
  ].map(Number)
  return Date.UTC(y, mo - 1, d, h, mi, s)
}

/** Drafts as Prisma's diff sees them, named: the history it replays before a later diff. */
export function asDraftMigrations(names: string[], drafts: StepDraft[]): DraftMigration[] {
  return drafts.map((draft, index) => ({ name: names[index], sql: draft.sql }))
}

/** Whether the index covers only columns in `columns` (`table.column`): an index of columns being dropped. */
function indexOnlyOn(history: SchemaHistory, table: string | undefined, index: string | undefined, columns: Set<string>): boolean {
  if (!table || !index) return false
  const dot = table.indexOf('.')
  const state = history.index(dot < 0 ? { name: index } : { schema: table.slice(0, dot), name: index })
  return state !== undefined && state.columns.length > 0 && state.columns.every((column) => columns.has(`${table}.${column}`))
}

/** The columns an effect concerns: `columns`, or its one `column`. */
function columnsOf(effect: MigrationAnalysis['effects'][number]): string[] {
  return effect.columns ?? (effect.column ? [effect.column] : [])
}

/**
 * What the written steps must satisfy before anything is written: lint finds no error in any of them, and the expand
 * changes nothing running code relies on. Returns lint's analyses of the drafts.
 */
export async function assertStepsSafe(
  project: Project,
  history: SchemaHistory,
  changes: SplitChange[],
  expand: { names: string[]; drafts: StepDraft[] },
  contract: { names: string[]; drafts: StepDraft[] },
): Promise<MigrationAnalysis[]> {
  const sources = [expand, contract].flatMap((step) =>
    step.drafts.map((draft, index) => ({
      name: step.names[index],
      file: relativePath(project, path.join(project.migrationsDir, step.names[index], 'migration.sql')),
      sql: draft.sql,
    })),
  )
  const analyses = await analyzeMigrations(sources, { schema: history, settings: projectLintSettings(project) })
  const problems: string[] = []
  const ready = uniqueReady(changes)
  // The old side of each rename: the release running during the expand reads and writes it as it is.
  const frozen = changes.flatMap((change) => (isTwoColumn(change) ? [`${change.from.table}.${change.from.column}`] : []))
  // A column being dropped: the expand may only make it nullable (for the release that no longer writes it).
  const dropping = changes.flatMap((change) => (change.kind === 'drop-column' ? [`${change.target.table}.${change.target.column}`] : []))
  // Columns the expand adds: the running release never writes them, so validating a key over them restricts nothing.
  const addedByExpand = new Set(
    analyses
      .slice(0, expand.drafts.length)
      .flatMap((analysis) =>
        analysis.effects.flatMap((effect) => (effect.kind === 'add_column' && effect.column ? [`${effect.table}.${effect.column}`] : [])),
      ),
  )
  analyses.forEach((analysis, index) => {
    const isExpand = index < expand.drafts.length
    for (const finding of analysis.findings.filter((candidate: Finding) => candidate.level === 'error')) {
      problems.push(`${analysis.migration}: ${finding.rule}: ${finding.message}`)
    }
    if (isExpand) {
      const restricts = (effect: MigrationAnalysis['effects'][number]) =>
        (effect.phase === 'contract' || effect.phase === 'breaking') &&
        !(
          (effect.kind === 'create_index' || effect.kind === 'add_unique') &&
          columnsOf(effect).every((column) => ready.has(`${effect.table}.${column}`))
        ) &&
        !(effect.kind === 'drop_index' && indexOnlyOn(history, effect.table, effect.index, new Set(dropping))) &&
        // The view under the old name keeps the running release working.
        !(
          effect.kind === 'rename_table' && changes.some((change) => change.kind === 'rename-table' && change.from.table === effect.table)
        ) &&
        !(
          effect.kind === 'validate_constraint' &&
          columnsOf(effect).length > 0 &&
          columnsOf(effect).every((column) => addedByExpand.has(`${effect.table}.${column}`))
        )
      for (const effect of analysis.effects.filter(restricts)) {
        problems.push(`${analysis.migration}: ${effect.description} (${effect.phase}: running code would break)`)
      }
      for (const effect of analysis.effects) {
        const columns = columnsOf(effect)
        if (columns.some((column) => dropping.includes(`${effect.table}.${column}`)) && effect.kind !== 'drop_not_null') {
          problems.push(
            `${analysis.migration}: ${effect.description}: a field being dropped keeps its column as it is until the contract (only NOT NULL is dropped); ` +
              'drop it by hand in two changes (first optional with @ignore, then deleted)',
          )
        }
        if (columns.some((column) => frozen.includes(`${effect.table}.${column}`)) && effect.kind !== 'create_object') {
          problems.push(
            `${analysis.migration}: ${effect.description}: the old field of a rename must stay as it is while the old release runs`,
          )
        }
      }
    }
  })
  if (problems.length > 0) {
    throw new UsageError(
      `new --safe cannot write this change as safe steps yet; nothing was written:\n${problems.map((problem) => `  ${problem}`).join('\n')}`,
      {
        hint:
          'new --safe splits renames (--rename Model.old=new), new required fields, fields made required, deleted fields, a new @unique ' +
          'and a new relation over existing rows. Split the rest ' +
          "by hand, one change at a time (npx migrate-kit new <name> writes Prisma's migration as it is, and lint says why it is unsafe).",
      },
    )
  }
  return analyses
}
