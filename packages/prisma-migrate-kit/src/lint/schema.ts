import type { ColumnDef, Constraint, CreateStmt, Node } from 'libpg-query'
import { columnTypeOf, type ColumnType } from './column-types'
import {
  addedColumn,
  addedConstraint,
  alterTableCommands,
  checkColumns,
  columnConstraints,
  constraintColumns,
  droppedRefs,
  names,
  nodeAs,
  notNullCheckColumn,
  refOfNames,
  tableKey,
  tableOf,
  withName,
  type TableRef,
} from './nodes'

export interface ColumnState {
  name: string
  /** Unknown for tables made outside the migration history (a baseline, `CREATE TABLE … AS`). */
  type?: ColumnType
  notNull: boolean
  createdIn?: string
}

export type ConstraintKind = 'check' | 'foreign_key' | 'unique' | 'primary_key' | 'exclusion'

export interface ConstraintState {
  name: string
  kind: ConstraintKind
  columns: string[]
  /** Every column it reads: a CHECK's whole expression, an FK's or a key's columns (what the deploy gate matches). */
  references: string[]
  /** For a CHECK that proves `column IS NOT NULL`: that column (what lets SET NOT NULL skip its scan). */
  notNullColumn?: string
  validated: boolean
  createdIn?: string
  /** The migration that validated it (the one that added it, unless it was added NOT VALID). */
  validatedIn?: string
}

export interface TableState {
  ref: TableRef
  /** The migration whose SQL created the table; undefined when it predates the history. */
  createdIn?: string
  /** The migration that wrote rows into it (INSERT, COPY, CREATE TABLE … AS): a new table then has rows too. */
  filledIn?: string
  columns: Map<string, ColumnState>
  constraints: Map<string, ConstraintState>
  primaryKey: string[]
}

export interface IndexState {
  name: string
  table: TableRef
  /** Plain column keys, in order; expressions are left out. */
  columns: string[]
  createdIn?: string
}

/**
 * What the migrations read so far have built: tables, their columns, constraints and indexes, enum types. It is
 * what makes "existing table" mean something: a table this migration created is empty and unseen by running code;
 * one from an earlier migration (or from before the history) is neither. Only what the SQL says is known; a table
 * the history never created is assumed to exist, with unknown columns.
 */
export class SchemaHistory {
  private readonly tables = new Map<string, TableState>()
  private readonly indexes = new Map<string, IndexState>()
  private readonly enums = new Map<string, { values: string[]; createdIn?: string }>()
  /** Domains and schemas the history created: name → migration. */
  private readonly domains = new Map<string, string>()
  private readonly schemas = new Map<string, string>()
  /**
   * Table states this history may change in place. A clone shares the others with the history it came from and
   * copies one only before changing it: a history of hundreds of migrations would otherwise copy every table for
   * every migration.
   */
  private readonly owned = new Set<TableState>()

  clone(): SchemaHistory {
    const copy = new SchemaHistory()
    for (const [key, table] of this.tables) copy.tables.set(key, table)
    for (const [key, index] of this.indexes) copy.indexes.set(key, { ...index })
    for (const [key, type] of this.enums) copy.enums.set(key, { ...type, values: [...type.values] })
    for (const [name, migration] of this.domains) copy.domains.set(name, migration)
    for (const [name, migration] of this.schemas) copy.schemas.set(name, migration)
    return copy
  }

  table(ref: TableRef): TableState | undefined {
    return this.tables.get(tableKey(ref))
  }

  /** Whether the migration being read created the table (so it is empty and no running code uses it). */
  createdIn(ref: TableRef, migration: string): boolean {
    return this.table(ref)?.createdIn === migration
  }

  index(ref: TableRef): IndexState | undefined {
    return this.indexes.get(tableKey(ref))
  }

  /** The migration that created the domain (`name` as written, schema-qualified or not); undefined when none did. */
  domainCreatedIn(name: string): string | undefined {
    return this.domains.get(name)
  }

  schemaCreatedIn(name: string): string | undefined {
    return this.schemas.get(name)
  }

  enumValues(ref: TableRef): string[] | undefined {
    return this.enums.get(tableKey(ref))?.values
  }

  column(ref: TableRef, column: string): ColumnState | undefined {
    return this.table(ref)?.columns.get(column)
  }

  /** A validated CHECK (column IS NOT NULL), as PostgreSQL 12+ needs to SET NOT NULL without scanning. */
  validatedNotNullCheck(ref: TableRef, column: string): ConstraintState | undefined {
    for (const constraint of this.table(ref)?.constraints.values() ?? []) {
      if (constraint.validated && constraint.notNullColumn === column) return constraint
    }
    return undefined
  }

  constraint(ref: TableRef, name: string): ConstraintState | undefined {
    return this.table(ref)?.constraints.get(name)
  }

  /** Records what one statement of `migration` changed. Statements this model does not track change nothing. */
  apply(node: Node, migration: string): void {
    const create = nodeAs(node, 'CreateStmt')
    if (create) return this.createTable(create, migration)
    const createAs = nodeAs(node, 'CreateTableAsStmt')
    const createdAs = tableOf(createAs?.into?.rel)
    // A materialized view is a relation too: the rules that spare what this migration created spare it.
    const relation = createAs?.objtype === 'OBJECT_TABLE' || createAs?.objtype === 'OBJECT_MATVIEW'
    if (createAs && relation && createdAs && !(createAs.if_not_exists && this.table(createdAs))) {
      const table = this.own(tableKey(createdAs), emptyTable(createdAs, migration))
      if (!createAs.into?.skipData) table.filledIn = migration
      return
    }
    const filled = tableOf(nodeAs(node, 'InsertStmt')?.relation ?? nodeAs(node, 'CopyStmt')?.relation)
    if (filled && this.table(filled)?.createdIn === migration) {
      this.ensureTable(filled).filledIn = migration
      return
    }
    const domain = names(nodeAs(node, 'CreateDomainStmt')?.domainname).join('.')
    if (domain) {
      this.domains.set(domain, migration)
      return
    }
    const schema = nodeAs(node, 'CreateSchemaStmt')?.schemaname
    if (schema) {
      this.schemas.set(schema, migration)
      return
    }
    if (nodeAs(node, 'AlterTableStmt')) return this.alterTable(node, migration)
    const rename = nodeAs(node, 'RenameStmt')
    const renamedType = refOfNames(names(nodeAs(rename?.object, 'List')?.items))
    if (rename?.renameType === 'OBJECT_TYPE' && renamedType && rename.newname) return this.renameType(renamedType, rename.newname)
    if (rename) return this.rename(rename.renameType, tableOf(rename.relation), rename.subname, rename.newname)
    const drop = nodeAs(node, 'DropStmt')
    if (drop) {
      for (const ref of droppedRefs(drop.objects)) {
        if (drop.removeType === 'OBJECT_TABLE') this.dropTable(ref)
        if (drop.removeType === 'OBJECT_INDEX') this.indexes.delete(tableKey(ref))
      }
      for (const object of drop.objects ?? []) {
        const ref = refOfNames(names(nodeAs(object, 'TypeName')?.names))
        if (drop.removeType === 'OBJECT_TYPE' && ref) this.enums.delete(tableKey(ref))
      }
      return
    }
    const index = nodeAs(node, 'IndexStmt')
    const indexed = tableOf(index?.relation)
    if (index?.idxname && indexed) {
      const columns = (index.indexParams ?? []).flatMap((item) => nodeAs(item, 'IndexElem')?.name ?? [])
      const state: IndexState = { name: index.idxname, table: indexed, columns, createdIn: migration }
      this.indexes.set(tableKey(withName(indexed, index.idxname)), state)
      return
    }
    const createEnum = nodeAs(node, 'CreateEnumStmt')
    const enumRef = refOfNames(names(createEnum?.typeName))
    if (createEnum && enumRef) {
      const values = (createEnum.vals ?? []).flatMap((value) => names([value]))
      this.enums.set(tableKey(enumRef), { values, createdIn: migration })
      return
    }
    const alterEnum = nodeAs(node, 'AlterEnumStmt')
    const alteredEnum = refOfNames(names(alterEnum?.typeName))
    if (alterEnum?.newVal !== undefined && alterEnum.oldVal === undefined && alteredEnum) {
      const known = this.enums.get(tableKey(alteredEnum)) ?? { values: [] }
      known.values.push(alterEnum.newVal)
      this.enums.set(tableKey(alteredEnum), known)
    }
  }

  /**
   * The table's state, ready to change: copied first when it is shared with another history, created as "from
   * before the history" when the SQL never created it.
   */
  private ensureTable(ref: TableRef): TableState {
    const key = tableKey(ref)
    const shared = this.tables.get(key)
    if (shared && this.owned.has(shared)) return shared
    const table: TableState = shared
      ? {
          ...shared,
          columns: new Map([...shared.columns].map(([name, column]) => [name, { ...column }])),
          constraints: new Map([...shared.constraints].map(([name, constraint]) => [name, { ...constraint }])),
          primaryKey: [...shared.primaryKey],
        }
      : emptyTable(ref, undefined)
    return this.own(key, table)
  }

  private own(key: string, table: TableState): TableState {
    this.tables.set(key, table)
    this.owned.add(table)
    return table
  }

  private createTable(stmt: CreateStmt, migration: string): void {
    const ref = tableOf(stmt.relation)
    if (!ref || (stmt.if_not_exists && this.table(ref))) return
    const table = this.own(tableKey(ref), emptyTable(ref, migration))
    for (const element of stmt.tableElts ?? []) {
      const column = nodeAs(element, 'ColumnDef')
      if (column) this.addColumn(table, column, migration)
      const constraint = nodeAs(element, 'Constraint')
      if (constraint) this.addConstraint(table, constraint, migration)
    }
  }

  private addColumn(table: TableState, column: ColumnDef, migration: string): void {
    if (!column.colname) return
    const inline = columnConstraints(column)
    const notNull = inline.some((item) => item.contype === 'CONSTR_NOTNULL' || item.contype === 'CONSTR_PRIMARY')
    const state: ColumnState = { name: column.colname, notNull, createdIn: migration }
    const type = columnTypeOf(column.typeName)
    if (type) state.type = type
    table.columns.set(column.colname, state)
    for (const constraint of inline) this.addConstraint(table, constraint, migration, column.colname)
  }

  private addConstraint(table: TableState, constraint: Constraint, migration: string, column?: string): void {
    const kind = CONSTRAINT_KINDS[constraint.contype ?? 'CONSTR_NULL']
    if (!kind) return
    const notNullColumn = notNullCheckColumn(constraint)
    // What a constraint is about: its column when written on one, the column a NOT NULL CHECK proves, its keys.
    const columns = column
      ? [column]
      : kind === 'check'
        ? [notNullColumn].filter((name) => name !== undefined)
        : constraintColumns(constraint)
    if (kind === 'primary_key') table.primaryKey = columns
    const validated = !constraint.skip_validation
    const name = constraint.conname ?? defaultConstraintName(table.ref, columns, kind)
    const references = column ? [column] : kind === 'check' ? checkColumns(constraint) : constraintColumns(constraint)
    const state: ConstraintState = { name, kind, columns, references, validated, createdIn: migration }
    if (validated) state.validatedIn = migration
    if (notNullColumn) state.notNullColumn = notNullColumn
    table.constraints.set(name, state)
  }

  private alterTable(node: Node, migration: string): void {
    for (const { table: ref, cmd } of alterTableCommands(node)) {
      const table = this.ensureTable(ref)
      const column = addedColumn(cmd)
      if (column) this.addColumn(table, column, migration)
      const constraint = addedConstraint(cmd)
      if (constraint) this.addConstraint(table, constraint, migration)
      const target = cmd.name === undefined ? undefined : table.columns.get(cmd.name)
      switch (cmd.subtype) {
        case 'AT_DropColumn':
          if (cmd.name !== undefined) table.columns.delete(cmd.name)
          break
        case 'AT_AlterColumnType': {
          const type = columnTypeOf(nodeAs(cmd.def, 'ColumnDef')?.typeName)
          if (target && type) target.type = type
          break
        }
        case 'AT_SetNotNull':
          if (target) target.notNull = true
          break
        case 'AT_DropNotNull':
          if (target) target.notNull = false
          break
        case 'AT_ValidateConstraint': {
          const validated = cmd.name === undefined ? undefined : table.constraints.get(cmd.name)
          if (validated) {
            validated.validated = true
            validated.validatedIn = migration
          }
          break
        }
        case 'AT_DropConstraint':
          if (cmd.name !== undefined) table.constraints.delete(cmd.name)
          break
        default:
          break
      }
    }
  }

  private rename(kind: string | undefined, ref: TableRef | undefined, from: string | undefined, to: string | undefined) {
    if (!ref || to === undefined) return
    if (kind === 'OBJECT_TABLE') {
      // A table from before the history gets a state here, so that it stays "existing" under its new name.
      this.ensureTable(ref)
      const renamed = withName(ref, to)
      rekey(this.tables, tableKey(ref), tableKey(renamed), (state) => (state.ref = renamed))
      for (const index of this.indexes.values()) {
        if (tableKey(index.table) === tableKey(ref)) index.table = renamed
      }
      return
    }
    if (kind === 'OBJECT_INDEX') {
      rekey(this.indexes, tableKey(ref), tableKey(withName(ref, to)), (index) => (index.name = to))
      return
    }
    if (from === undefined) return
    const table = this.ensureTable(ref)
    if (kind === 'OBJECT_COLUMN') {
      rekey(table.columns, from, to, (column) => (column.name = to))
      const follow = (name: string) => (name === from ? to : name)
      for (const constraint of table.constraints.values()) {
        constraint.columns = constraint.columns.map(follow)
        constraint.references = constraint.references.map(follow)
        if (constraint.notNullColumn === from) constraint.notNullColumn = to
      }
      table.primaryKey = table.primaryKey.map(follow)
    }
    if (kind === 'OBJECT_TABCONSTRAINT') rekey(table.constraints, from, to, (constraint) => (constraint.name = to))
  }

  /** ALTER TYPE … RENAME TO: the enum's values and every column of that type follow the new name. */
  private renameType(ref: TableRef, to: string): void {
    rekey(this.enums, tableKey(ref), tableKey(withName(ref, to)), () => undefined)
    const isRenamed = (type: ColumnType | undefined) => type?.name === ref.name && (ref.schema === undefined || type.schema === ref.schema)
    for (const table of [...this.tables.values()]) {
      if (![...table.columns.values()].some((column) => isRenamed(column.type))) continue
      for (const column of this.ensureTable(table.ref).columns.values()) {
        if (column.type && isRenamed(column.type)) column.type = { ...column.type, name: to }
      }
    }
  }

  private dropTable(ref: TableRef): void {
    this.tables.delete(tableKey(ref))
    for (const [key, index] of this.indexes) {
      if (tableKey(index.table) === tableKey(ref)) this.indexes.delete(key)
    }
  }
}

const CONSTRAINT_KINDS: Partial<Record<NonNullable<Constraint['contype']>, ConstraintKind>> = {
  CONSTR_CHECK: 'check',
  CONSTR_FOREIGN: 'foreign_key',
  CONSTR_UNIQUE: 'unique',
  CONSTR_PRIMARY: 'primary_key',
  CONSTR_EXCLUSION: 'exclusion',
}

function emptyTable(ref: TableRef, createdIn: string | undefined): TableState {
  const table: TableState = { ref, columns: new Map(), constraints: new Map(), primaryKey: [] }
  if (createdIn !== undefined) table.createdIn = createdIn
  return table
}

/** PostgreSQL's name for an unnamed constraint: `users_email_check`, `users_pkey`, `users_email_key`, `…_fkey`. */
function defaultConstraintName(table: TableRef, columns: string[], kind: ConstraintKind): string {
  const suffix = { check: 'check', foreign_key: 'fkey', unique: 'key', primary_key: 'pkey', exclusion: 'excl' }[kind]
  const middle = kind === 'primary_key' || columns.length === 0 ? '' : `_${columns.join('_')}`
  return `${table.name}${middle}_${suffix}`
}

/** Moves a map entry to a new key and lets the value record its new name. */
function rekey<V>(map: Map<string, V>, from: string, to: string, rename: (value: V) => void): void {
  const value = map.get(from)
  if (value === undefined) return
  map.delete(from)
  rename(value)
  map.set(to, value)
}
