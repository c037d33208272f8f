import type { ColumnDef } from 'libpg-query'
import { UsageError } from '../errors'
import { loadSqlParser, type SchemaHistory } from '../lint'
import { columnTypeOf, showType, typeChange, type ColumnType } from '../lint/column-types'
import { prismaTypeOf } from './field-of-column'
import { quoted, refName } from './steps-sql'
import {
  addedColumn,
  addedConstraint,
  alterTableCommands,
  columnConstraint,
  droppedRefs,
  names,
  nodeAs,
  tableOf,
  type TableRef,
} from '../lint/nodes'
import { parseSql } from '../lint/parser'
import { SourceText } from '../sql/source'
import {
  attributeFields,
  attributesOfField,
  modelOfTable,
  retypedFieldLine,
  withOptional,
  withoutAttributes,
  type FieldLine,
  type ModelBlock,
} from './schema-text'

/**
 * What in Prisma's diff of the migrations to the edited schema cannot run as one migration under running code, and
 * that `new --safe` knows how to write as expand → backfill → contract. Everything else in the diff stays as Prisma
 * wrote it; the lint of the steps decides whether that is safe.
 */

/** A column as the schema and the database both name it. */
export interface ColumnRef {
  model: string
  field: string
  /** As PostgreSQL names it: `User`, or `app.User` outside the default schema. */
  table: string
  column: string
}

export type SplitChange =
  | {
      /** An existing column becomes NOT NULL (`String?` → `String`). */
      kind: 'make-required'
      target: ColumnRef
      /** The field has a @default: the backfill writes it (`SET col = DEFAULT`); otherwise a placeholder. */
      hasDefault: boolean
    }
  | {
      /** A new NOT NULL column without a default: it cannot be added to a table with rows. */
      kind: 'add-required'
      target: ColumnRef
      hasDefault: false
    }
  | {
      /** A field renamed together with its column (Prisma's diff: drop the column, add an empty one). */
      kind: 'rename-column'
      from: ColumnRef
      target: ColumnRef
      /** The new column is NOT NULL in the end. */
      required: boolean
      /** The old column is NOT NULL now (what its field line in the expand schema says). */
      fromRequired: boolean
      /** The old column has Prisma's unique index (`<table>_<column>_key`): its field line keeps `@unique`. */
      fromUnique: boolean
      /**
       * The new field's line as the developer wrote it: the expand leaves its @default out (a default would hide the
       * old release's writes from the sync trigger), the contract writes it back. Absent in plans of older versions.
       */
      targetLine?: string
    }
  | {
      /**
       * A column's type changed in a way that rewrites the table (or that has no cast: Prisma's diff drops the column
       * and adds an empty one). The expand adds `<column>_new` of the new type, kept equal to the old one by a trigger
       * through a conversion function; the backfill converts the rows, refusing to start while a value does not
       * convert; the contract gives the field its name over the new column through @map; the drop step drops the old one.
       */
      kind: 'change-type'
      /** The old column, under the field's name. */
      from: ColumnRef
      /** The new column (`<column>_new`), under the same field name: the field keeps its name through @map. */
      target: ColumnRef
      required: boolean
      fromRequired: boolean
      /** The old and the new type, as SQL writes them (`integer` → `bigint`), for the conversion functions. */
      fromType: string
      toType: string
      /** The expand's field of the new column (`age_new`), beside the old field unchanged. */
      expandField: string
      /** The contract's name of the old field, kept with @ignore until the drop step (`age_old`). */
      ignoredField: string
      /** The old field's line for the expand: the developer's line with the old type. */
      fromLine: string
      /** The field's line as the developer wrote it (the contract adds @map of the new column). */
      targetLine: string
    }
  | {
      /**
       * A field deleted from the schema: its column stays until the contract, nullable, with a field Prisma Client
       * ignores (`@ignore`), so that the release without the field can insert rows while the old one still reads it.
       */
      kind: 'drop-column'
      /** The column; `field` is the name of the field the expand schema keeps for it. */
      target: ColumnRef
      /** That field's line: `legacyId Int? @ignore`. */
      fieldLine: string
    }
  | {
      /**
       * A model's table renamed (the model renamed, or its @@map changed): Prisma's diff drops the table and creates an
       * empty one. The expand renames it and leaves an updatable view under the old name for the running release; the
       * contract drops the view.
       */
      kind: 'rename-table'
      /** The table under its new name; `field`/`column` are its first field's, for the shape every change shares. */
      target: ColumnRef
      /** The old table as PostgreSQL names it (`User`, or `app.User`). */
      from: { table: string }
    }
  | {
      /**
       * A unique index over columns that hold rows already: built plainly it blocks writes while it scans, and one
       * duplicate makes it fail. The expand leaves it out of the schema, a backfill removes the duplicates, and the
       * contract builds it CONCURRENTLY under Prisma's name.
       */
      kind: 'add-unique'
      /** The first column; `field` is its field. */
      target: ColumnRef
      /** Every column of the index, in order. */
      columns: string[]
      /** Prisma's index name (`User_email_key`): the contract builds it under that name, so Prisma sees no drift. */
      index: string
      /** Where the schema says it: an attribute of the target field (`@unique`) or a model line (`@@unique([a, b])`). */
      attribute: { on: 'field' | 'model'; text: string }
    }
  | {
      /**
       * A foreign key over columns that hold rows already: added plainly it checks every row while holding a lock
       * that blocks writes to both tables, and one orphan makes it fail. The expand leaves the relation out of the
       * schema, a backfill fixes the orphans, and the contract adds it NOT VALID, then VALIDATEs it.
       */
      kind: 'add-foreign-key'
      /** The first referencing column; `field` is its field. */
      target: ColumnRef
      columns: string[]
      /** The referenced table (as PostgreSQL names it) and columns. */
      references: { table: string; columns: string[] }
      /** Prisma's constraint name (`Post_authorId_fkey`), kept so that Prisma sees no drift. */
      constraint: string
      /** The relation field lines the expand leaves out (both sides), as the developer wrote them: the contract restores them. */
      relationLines: Array<{ model: string; text: string }>
    }

/**
 * A dropped column as a split change: the field line the expand schema keeps for it, from the column's type as the
 * history made it. A type this cannot write as a Prisma field is refused with the recipe by hand.
 */
function dropChange(
  model: string,
  table: string,
  ref: TableRef,
  column: string,
  history: SchemaHistory,
  enums: ReadonlyMap<string, string>,
): SplitChange {
  const type = history.column(ref, column)?.type
  const prisma = type ? prismaTypeOf(type, enums) : undefined
  if (!type || !prisma) {
    throw new UsageError(
      `${model} drops the column "${column}"${type ? ` (${showType(type)})` : ''}, and new --safe cannot write a Prisma field for that type to keep it until the contract`,
      {
        hint:
          `Drop it in two changes by hand: first put the field back as optional with @ignore (npx migrate-kit new ${column}_ignored), ` +
          'ship that release, then delete the field (npx migrate-kit new <name>).',
      },
    )
  }
  const plain = /^[A-Za-z][A-Za-z0-9_]*$/.test(column)
  const field = plain ? column : `f_${column.replace(/[^A-Za-z0-9_]/g, '_')}`
  const unique = history.index({ ...ref, name: `${ref.name}_${column}_key` }) !== undefined
  const attributes = [
    prisma.native,
    unique ? '@unique' : undefined,
    plain ? undefined : `@map("${column.replace(/"/g, '\\"')}")`,
    '@ignore',
  ]
  return {
    kind: 'drop-column',
    target: { model, field, table, column },
    fieldLine: `  ${field} ${prisma.type}? ${attributes.filter(Boolean).join(' ')}`,
  }
}

/** A type as SQL writes it in a CAST: `bigint`, `varchar(20)`, `"Role"`. */
export function sqlType(type: ColumnType): string {
  const name = /^[a-z_][a-z0-9_]*$/.test(type.name) ? type.name : quoted(type.name)
  const modifiers = type.modifiers.length > 0 ? `(${type.modifiers.join(',')})` : ''
  return `${type.schema ? `${quoted(type.schema)}.` : ''}${name}${modifiers}${type.array ? '[]' : ''}`
}

const NUMERIC_SCALARS = new Set(['Int', 'BigInt', 'Float', 'Decimal'])

/**
 * A field's column changing type as a split change; undefined when PostgreSQL keeps the stored bytes (varchar → text:
 * Prisma's ALTER is safe as it is). What the change cannot carry (a key or indexed field, a list, a type this cannot
 * write as a Prisma field) is refused with the recipe by hand.
 */
function typeChangeOf(
  model: ModelBlock | undefined,
  field: FieldLine | undefined,
  table: string,
  ref: TableRef,
  definition: ColumnDef,
  history: SchemaHistory,
  enums: ReadonlyMap<string, string>,
): SplitChange | undefined {
  const column = definition.colname ?? field?.column ?? ''
  const state = history.column(ref, field?.column ?? column)
  const change = typeChange(definition, state?.type)
  if (!change.rewrite && !definition.colname) return undefined
  const { from, to } = change
  const old = from ? prismaTypeOf(from, enums) : undefined
  const shown = `${from ? showType(from) : 'its type'} → ${to ? showType(to) : 'the new type'}`
  const byHand = (why: string) =>
    new UsageError(`${model?.name ?? table}.${field?.name ?? column} changes type (${shown}), and new --safe cannot split it: ${why}`, {
      hint:
        `Change it by hand in three releases: add ${column}_new of the new type with a trigger that converts, backfill it, ` +
        `then give the field its name over the new column with @map("${column}_new") and drop the old one.`,
    })
  if (!model || !field || !from || !to || !old) throw byHand(`this cannot write a Prisma field for the old type`)
  const used = [
    ...attributesOfField(field.text).filter((attribute) => ['@id', '@unique'].includes(attribute.name)),
    ...model.attributes.filter((attribute) =>
      new RegExp(`^@@(?:id|unique|index)\\([^\\]]*\\b${field.name}\\b`).test(attribute.text.trim()),
    ),
  ]
  if (used.length > 0 || model.relations.some((relation) => relation.fields?.includes(field.name))) {
    throw byHand('it is part of a key, an index or a relation (their indexes would move to the new column too)')
  }
  const expandField = `${field.name}_new`
  const ignoredField = `${field.name}_old`
  const newColumn = `${field.column}_new`
  const taken = [expandField, ignoredField].filter((name) => model.fields.some((other) => other.name === name))
  if (taken.length > 0 || history.column(ref, newColumn)) {
    throw byHand(`${[...taken, ...(history.column(ref, newColumn) ? [`the column ${newColumn}`] : [])].join(' and ')} exists already`)
  }
  const sameLiterals = old.type === field.type || (NUMERIC_SCALARS.has(old.type) && NUMERIC_SCALARS.has(field.type))
  const fromRequired = state?.notNull ?? !field.optional
  const kept = sameLiterals ? field.text : withoutAttributes(field.text, (name) => name === '@default')
  return {
    kind: 'change-type',
    from: { model: model.name, field: field.name, table, column: field.column },
    target: { model: model.name, field: field.name, table, column: newColumn },
    required: !field.optional,
    fromRequired,
    fromType: sqlType(from),
    toType: sqlType(to),
    expandField,
    ignoredField,
    fromLine: retypedFieldLine(withOptional(kept, !fromRequired), old.type, old.native),
    targetLine: field.text,
  }
}

/** `--rename-table User=Account`: the table's old name (or its old model's, the same without @@map) and the new model. */
export interface TableRenameHint {
  from: string
  to: string
}

export function parseTableRenameHint(text: string): TableRenameHint {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)=([A-Za-z_][A-Za-z0-9_]*)$/.exec(text.trim())
  if (!match) {
    throw new UsageError(`--rename-table ${text}: expected <old table>=<new model>`, {
      hint: 'Name the old table (its old model name when it had no @@map) and the model as schema.prisma now writes it: --rename-table User=Account',
    })
  }
  return { from: match[1], to: match[2] }
}

/** `/// renamed from User` above a model says the same as --rename-table User=<that model>. */
export function docTableRenameHints(models: ModelBlock[]): TableRenameHint[] {
  return models.flatMap((model) =>
    model.docs.flatMap((doc) => {
      const match = RENAMED_FROM.exec(doc.trim())
      return match ? [{ from: match[1], to: model.name }] : []
    }),
  )
}

/** `--rename User.name=displayName`: the model, the field's old name and its new one. */
export interface RenameHint {
  model: string
  from: string
  to: string
}

export function parseRenameHint(text: string): RenameHint {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)=([A-Za-z_][A-Za-z0-9_]*)$/.exec(text.trim())
  if (!match) {
    throw new UsageError(`--rename ${text}: expected <Model>.<old field>=<new field>`, {
      hint: 'Name the Prisma model and fields as schema.prisma writes them: --rename User.name=displayName',
    })
  }
  return { model: match[1], from: match[2], to: match[3] }
}

/** `/// renamed from name` (or `/// migrate-kit: renamed from name`) above a field says the same as --rename. */
export const RENAMED_FROM = /^(?:migrate-kit:\s*)?renamed from\s+([A-Za-z_][A-Za-z0-9_]*)\s*$/i

export function docRenameHints(models: ModelBlock[]): RenameHint[] {
  return models.flatMap((model) =>
    model.fields.flatMap((field) =>
      field.docs.flatMap((doc) => {
        const match = RENAMED_FROM.exec(doc.trim())
        return match ? [{ model: model.name, from: match[1], to: field.name }] : []
      }),
    ),
  )
}

interface TableChanges {
  ref: TableRef
  dropped: string[]
  added: Map<string, ColumnDef>
  setNotNull: string[]
  /** ALTER COLUMN … SET DATA TYPE: the column and its new definition. */
  retyped: Map<string, ColumnDef>
}

/** The column-level changes of Prisma's script, per table. */
async function tableChanges(script: string): Promise<Map<string, TableChanges>> {
  await loadSqlParser()
  const tables = new Map<string, TableChanges>()
  for (const statement of parseSql(new SourceText(script), false).statements) {
    for (const { table, cmd } of alterTableCommands(statement.node)) {
      const key = refName(table)
      let changes = tables.get(key)
      if (!changes) tables.set(key, (changes = { ref: table, dropped: [], added: new Map(), setNotNull: [], retyped: new Map() }))
      const added = addedColumn(cmd)
      const retyped = cmd.subtype === 'AT_AlterColumnType' ? nodeAs(cmd.def, 'ColumnDef') : undefined
      if (retyped && cmd.name) changes.retyped.set(cmd.name, retyped)
      else if (added?.colname) changes.added.set(added.colname, added)
      else if (cmd.subtype === 'AT_DropColumn' && cmd.name) changes.dropped.push(cmd.name)
      else if (cmd.subtype === 'AT_SetNotNull' && cmd.name) changes.setNotNull.push(cmd.name)
    }
  }
  return tables
}

export interface Classification {
  changes: SplitChange[]
  /** Drops and adds in one table that look like a rename nobody confirmed: refused until a hint says what they are. */
  renameCandidates: Array<{ model: string; dropped: string; added: string }>
}

/**
 * The changes of Prisma's diff (migrations → the edited schema) that `new --safe` splits. `history` is what the
 * migrations built (lint's model: which tables and columns exist, which are NOT NULL), `models` the edited schema.
 */
export async function classifyChanges(
  script: string,
  history: SchemaHistory,
  models: ModelBlock[],
  explicit: RenameHint[],
  documented: RenameHint[] = [],
  enums: ReadonlyMap<string, string> = new Map(),
  tableHints: TableRenameHint[] = [],
): Promise<Classification> {
  const hints = [...explicit, ...documented]
  const changes: SplitChange[] = []
  const renameCandidates: Classification['renameCandidates'] = []
  const usedHints = new Set<RenameHint>()
  const scriptTables = await tableChanges(script)
  changes.push(...tableRenames(script, history, models, tableHints))
  for (const [table, tableChange] of scriptTables) {
    const existing = history.table(tableChange.ref)
    if (!existing) continue
    const model = modelOfTable(models, table)
    const fieldOf = (column: string): FieldLine | undefined => model?.fields.find((field) => field.column === column)
    const refOf = (field: FieldLine): ColumnRef => ({ model: model!.name, field: field.name, table, column: field.column })
    const renamedTo = new Set<string>()

    // A type change: Prisma's ALTER COLUMN … TYPE, or a drop and an add of the same column when no cast exists.
    const retyped = [...tableChange.retyped, ...[...tableChange.added].filter(([column]) => tableChange.dropped.includes(column))]
    for (const [column, definition] of retyped) {
      const change = typeChangeOf(model, fieldOf(column), table, tableChange.ref, definition, history, enums)
      // Kept in storage (varchar → text): Prisma's ALTER stays, and a SET NOT NULL with it is a change of its own.
      if (!change) continue
      changes.push(change)
      tableChange.dropped = tableChange.dropped.filter((dropped) => dropped !== column)
      tableChange.added.delete(column)
      tableChange.setNotNull = tableChange.setNotNull.filter((tightened) => tightened !== column)
    }

    for (const hint of hints.filter((candidate) => candidate.model === model?.name)) {
      const target = model?.fields.find((field) => field.name === hint.to)
      const isExplicit = explicit.includes(hint)
      if ((!target || !tableChange.added.has(target.column)) && !isExplicit) continue
      if (!target || !tableChange.added.has(target.column)) {
        throw new UsageError(`--rename ${hint.model}.${hint.from}=${hint.to}: Prisma's diff adds no column for ${hint.model}.${hint.to}`, {
          hint: `Rename the field in schema.prisma first (${hint.from} → ${hint.to}, its type unchanged), then run this again.`,
        })
      }
      const fromColumn = tableChange.dropped.includes(hint.from)
        ? hint.from
        : tableChange.dropped.length === 1
          ? tableChange.dropped[0]
          : undefined
      if (fromColumn === undefined && !isExplicit) continue
      if (fromColumn === undefined) {
        throw new UsageError(
          `--rename ${hint.model}.${hint.from}=${hint.to}: Prisma's diff drops ${tableChange.dropped.length === 0 ? 'no column' : `the columns ${tableChange.dropped.join(', ')}`} of ${table}, none of them "${hint.from}"`,
          { hint: 'Name the field as it was before the edit (its column when it had no @map).' },
        )
      }
      const fromState = history.column(tableChange.ref, fromColumn)
      const toType = columnTypeOf(tableChange.added.get(target.column)!.typeName)
      if (fromState?.type && toType && showType(fromState.type) !== showType(toType)) {
        // A rename with a type change is two changes: each is split on its own.
        throw new UsageError(
          `${hint.model}.${hint.from} → ${hint.to} changes the type too (${showType(fromState.type)} → ${showType(toType)})`,
          { hint: 'Rename it first with the type unchanged (new --safe --rename), then change the type in a change of its own.' },
        )
      }
      usedHints.add(hint)
      renamedTo.add(target.column)
      tableChange.dropped = tableChange.dropped.filter((column) => column !== fromColumn)
      changes.push({
        kind: 'rename-column',
        from: { model: model!.name, field: hint.from, table, column: fromColumn },
        target: refOf(target),
        required: !target.optional,
        fromRequired: fromState?.notNull ?? !target.optional,
        fromUnique: history.index({ ...tableChange.ref, name: `${tableChange.ref.name}_${fromColumn}_key` }) !== undefined,
        targetLine: target.text,
      })
    }

    let candidates = 0
    for (const [column, definition] of tableChange.added) {
      if (renamedTo.has(column)) continue
      const notNull = columnConstraint(definition, 'CONSTR_NOTNULL') !== undefined
      const hasDefault = columnConstraint(definition, 'CONSTR_DEFAULT') !== undefined
      const field = fieldOf(column)
      if (notNull && !hasDefault && field) changes.push({ kind: 'add-required', target: refOf(field), hasDefault: false })
      for (const dropped of tableChange.dropped) {
        if (model) renameCandidates.push({ model: model.name, dropped, added: field?.name ?? column })
        candidates++
      }
    }
    if (model && candidates === 0) {
      for (const column of tableChange.dropped) changes.push(dropChange(model.name, table, tableChange.ref, column, history, enums))
    }
    for (const column of tableChange.setNotNull) {
      const field = fieldOf(column)
      if (!field || tableChange.added.has(column) || renamedTo.has(column)) continue
      changes.push({ kind: 'make-required', target: refOf(field), hasDefault: /@default\(/.test(field.text) })
    }
  }
  changes.push(...uniqueChanges(script, history, models, scriptTables))
  changes.push(...foreignKeyChanges(script, history, models, scriptTables))
  // A `/// renamed from` comment left in the schema after its change is history; a --rename that matched nothing is a mistake.
  const unused = explicit.filter((hint) => !usedHints.has(hint))
  if (unused.length > 0) {
    const hint = unused[0]
    throw new UsageError(`--rename ${hint.model}.${hint.from}=${hint.to}: no table of model ${hint.model} changes in Prisma's diff`, {
      hint: 'Check the model name (as schema.prisma writes it) and that the field is renamed in schema.prisma.',
    })
  }
  return { changes, renameCandidates }
}

/**
 * Prisma's CREATE UNIQUE INDEX statements over columns of existing tables that hold data already (a column the same
 * script adds is empty: its index is safe in the expand), each with the schema attribute that asks for it.
 */
function uniqueChanges(script: string, history: SchemaHistory, models: ModelBlock[], tables: Map<string, TableChanges>): SplitChange[] {
  const changes: SplitChange[] = []
  for (const statement of parseSql(new SourceText(script), false).statements) {
    const index = nodeAs(statement.node, 'IndexStmt')
    const ref = tableOf(index?.relation)
    if (!index?.unique || !ref || !history.table(ref) || !index.idxname) continue
    const table = refName(ref)
    const columns = (index.indexParams ?? []).flatMap((item) => nodeAs(item, 'IndexElem')?.name ?? [])
    const added = tables.get(table)?.added
    if (columns.length === 0 || columns.every((column) => added?.has(column))) continue
    const model = modelOfTable(models, table)
    const fields = columns.map((column) => model?.fields.find((field) => field.column === column))
    const attribute = model && fields.every(Boolean) ? uniqueAttribute(model, fields as FieldLine[]) : undefined
    if (!model || !attribute) {
      throw new UsageError(
        `Prisma's diff adds the unique index ${index.idxname} on ${table}(${columns.join(', ')}), and new --safe cannot find the @unique or @@unique that asks for it`,
        { hint: 'Write it as @unique on the field or @@unique([…]) in the model, then run this again.' },
      )
    }
    const first = fields[0]!
    changes.push({
      kind: 'add-unique',
      target: { model: model.name, field: first.name, table, column: first.column },
      columns,
      index: index.idxname,
      attribute,
    })
  }
  return changes
}

function uniqueAttribute(model: ModelBlock, fields: FieldLine[]): { on: 'field' | 'model'; text: string } | undefined {
  if (fields.length === 1) {
    const unique = attributesOfField(fields[0].text).find((attribute) => attribute.name === '@unique')
    if (unique) return { on: 'field', text: unique.text }
  }
  const names = fields.map((field) => field.name)
  const line = model.attributes.find((attribute) => {
    const named = attributeFields(attribute.text, '@@unique')
    return named !== undefined && named.length === names.length && named.every((name, index) => name === names[index])
  })
  return line ? { on: 'model', text: line.text } : undefined
}

/**
 * Prisma's ADD CONSTRAINT … FOREIGN KEY over columns of an existing table that hold data already (a column the same
 * script adds is empty), each with the relation fields that ask for it: the one with `fields: […]` and its other side.
 */
function foreignKeyChanges(script: string, history: SchemaHistory, models: ModelBlock[], tables: Map<string, TableChanges>): SplitChange[] {
  const changes: SplitChange[] = []
  for (const statement of parseSql(new SourceText(script), false).statements) {
    for (const { table: ref, cmd } of alterTableCommands(statement.node)) {
      const constraint = addedConstraint(cmd)
      const parent = tableOf(constraint?.pktable)
      if (constraint?.contype !== 'CONSTR_FOREIGN' || !constraint.conname || !parent || !history.table(ref)) continue
      // Dropped and added again (its parent table renamed, say): the key exists already, over the same rows.
      if (history.table(ref)?.constraints.has(constraint.conname)) continue
      const table = refName(ref)
      const columns = names(constraint.fk_attrs)
      const added = tables.get(table)?.added
      if (columns.length === 0 || columns.every((column) => added?.has(column))) continue
      const model = modelOfTable(models, table)
      const fields = columns.map((column) => model?.fields.find((field) => field.column === column))
      const owner = model?.relations.find(
        (relation) => relation.fields?.length === fields.length && relation.fields.every((name, index) => name === fields[index]?.name),
      )
      const parentModel = owner && models.find((candidate) => candidate.name === owner.type)
      const otherSides = parentModel?.relations.filter(
        (relation) => relation.type === model?.name && relation.fields === undefined && relation.relationName === owner?.relationName,
      )
      if (!model || !owner || !parentModel || !otherSides || otherSides.length > 1 || fields.some((field) => !field)) {
        throw new UsageError(
          `Prisma's diff adds the foreign key ${constraint.conname} on ${table}(${columns.join(', ')}), and new --safe cannot tell which relation fields ask for it`,
          {
            hint: 'Name the relation on both sides (@relation("name", …)), then run this again; or add it by hand as NOT VALID, then VALIDATE.',
          },
        )
      }
      const parentTable = refName(parent)
      changes.push({
        kind: 'add-foreign-key',
        target: { model: model.name, field: fields[0]!.name, table, column: columns[0] },
        columns,
        references: { table: parentTable, columns: names(constraint.pk_attrs) },
        constraint: constraint.conname,
        relationLines: [
          { model: model.name, text: owner.text },
          ...otherSides.map((relation) => ({ model: parentModel.name, text: relation.text })),
        ],
      })
    }
  }
  return changes
}

/**
 * Tables renamed, as Prisma's diff writes them (DROP TABLE the old, CREATE TABLE the new): confirmed by a hint, with
 * the same columns of the same types. A dropped table and a created one with the same columns and no hint is refused:
 * Prisma's migration would lose every row.
 */
function tableRenames(script: string, history: SchemaHistory, models: ModelBlock[], hints: TableRenameHint[]): SplitChange[] {
  const dropped: TableRef[] = []
  const created = new Map<string, ColumnDef[]>()
  for (const statement of parseSql(new SourceText(script), false).statements) {
    const drop = nodeAs(statement.node, 'DropStmt')
    if (drop?.removeType === 'OBJECT_TABLE') dropped.push(...droppedRefs(drop.objects).filter((ref) => history.table(ref)))
    const create = nodeAs(statement.node, 'CreateStmt')
    const ref = tableOf(create?.relation)
    if (create && ref) {
      created.set(
        refName(ref),
        (create.tableElts ?? []).flatMap((element) => nodeAs(element, 'ColumnDef') ?? []),
      )
    }
  }
  const sameColumns = (old: TableRef, columns: ColumnDef[]): boolean => {
    const state = history.table(old)
    if (!state || state.columns.size !== columns.length) return false
    return columns.every((column) => {
      const before = column.colname ? state.columns.get(column.colname)?.type : undefined
      const after = columnTypeOf(column.typeName)
      return before !== undefined && after !== undefined && showType(before) === showType(after)
    })
  }
  const changes: SplitChange[] = []
  const used = new Set<TableRef>()
  for (const hint of hints) {
    const model = models.find((candidate) => candidate.name === hint.to)
    const table = model ? (model.dbSchema ? `${model.dbSchema}.${model.table}` : model.table) : undefined
    const columns = table ? created.get(table) : undefined
    const old = dropped.find((ref) => ref.name === hint.from) ?? (dropped.length === 1 ? dropped[0] : undefined)
    if (!model || !table || !columns || !old) {
      throw new UsageError(
        `--rename-table ${hint.from}=${hint.to}: Prisma's diff does not drop "${hint.from}" and create the table of model ${hint.to}`,
        {
          hint: 'Rename the model (or change its @@map) in schema.prisma, fields unchanged, then run this again.',
        },
      )
    }
    if (!sameColumns(old, columns)) {
      throw new UsageError(`${hint.from} → ${hint.to} changes the columns too, not only the table's name`, {
        hint: 'Rename the table first with its fields unchanged (new --safe --rename-table), then change the fields in a change of their own.',
      })
    }
    if ((old.schema ?? '') !== (table.includes('.') ? table.slice(0, table.indexOf('.')) : '')) {
      throw new UsageError(`${hint.from} → ${hint.to} moves the table to another PostgreSQL schema`, {
        hint: 'Rename it within its schema first (new --safe --rename-table), then move it (ALTER TABLE … SET SCHEMA) by hand.',
      })
    }
    used.add(old)
    const first = model.fields[0]
    changes.push({
      kind: 'rename-table',
      target: { model: model.name, field: first?.name ?? '', table, column: first?.column ?? '' },
      from: { table: refName(old) },
    })
  }
  for (const old of dropped.filter((ref) => !used.has(ref))) {
    const twin = [...created].find(([, columns]) => sameColumns(old, columns))
    if (twin) {
      const model = modelOfTable(models, twin[0])
      throw new UsageError(
        `Prisma's diff drops the table ${refName(old)} and creates ${twin[0]} with the same columns: if that is a rename, every row would be lost`,
        {
          hint:
            `Say it is a rename: --rename-table ${old.name}=${model?.name ?? twin[0]} (or a line "/// renamed from ${old.name}" above the model). ` +
            `To rename only the model, keep the table: @@map("${old.name}").`,
        },
      )
    }
  }
  return changes
}
