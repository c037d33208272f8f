import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'

/**
 * A Prisma migration history of any length, shaped like a long-lived app's: tables created all along, columns added,
 * retyped, renamed and dropped, indexes made and renamed, enum types and their values, foreign keys, unique
 * constraints. Deterministic (the same count gives the same files), written as Prisma writes migrations, so that
 * `rollbacks generate` and `verify-rollbacks` can be timed on 100 or 820 migrations (`npm run bench:history`).
 */

interface Column {
  name: string
  type: 'INTEGER' | 'BIGINT' | 'TEXT'
  indexed: boolean
  /** Part of a foreign key or a unique constraint: never dropped or retyped. */
  pinned: boolean
}

interface Table {
  name: string
  columns: Column[]
  indexes: string[]
}

interface EnumType {
  name: string
  values: string[]
}

/** One migration: its folder name's suffix, what kind of change it makes, and its SQL. */
export interface SyntheticMigration {
  name: string
  kind: SyntheticKind
  sql: string
}

/** The kinds of change, in the order a block of ten migrations makes them. */
const STEPS = [
  'createTable',
  'addColumn',
  'createIndex',
  'createEnum',
  'addForeignKey',
  'renameColumn',
  'addEnumValue',
  'retypeColumn',
  'renameIndex',
  'dropColumnOrUnique',
] as const

type Step = (typeof STEPS)[number]

/** What a migration does (a step with nothing to act on yet adds a column instead). */
export type SyntheticKind = Exclude<Step, 'dropColumnOrUnique'> | 'dropColumn' | 'addUnique'

/** Every kind a history of 100 migrations or more holds. */
export const SYNTHETIC_KINDS: readonly SyntheticKind[] = [
  ...STEPS.filter((kind): kind is Exclude<Step, 'dropColumnOrUnique'> => kind !== 'dropColumnOrUnique'),
  'dropColumn',
  'addUnique',
]

const q = (name: string) => `"${name}"`

class HistoryShape {
  readonly tables: Table[] = []
  readonly enums: EnumType[] = []
  private counter = 0

  /** A fresh number for names, so no two objects ever share one. */
  next(): number {
    return ++this.counter
  }

  /** The n-th table counting back from the newest (recent tables change most, as in real apps). */
  recent(n: number): Table {
    return this.tables[Math.max(0, this.tables.length - 1 - (n % Math.min(this.tables.length, 12)))]
  }
}

function createTable(shape: HistoryShape): SyntheticMigration {
  const table: Table = {
    name: `table_${shape.next()}`,
    columns: [
      { name: 'id', type: 'INTEGER', indexed: true, pinned: true },
      { name: 'name', type: 'TEXT', indexed: false, pinned: false },
      { name: 'created_at', type: 'TEXT', indexed: false, pinned: true },
    ],
    indexes: [],
  }
  shape.tables.push(table)
  return {
    name: `create_${table.name}`,
    kind: 'createTable',
    sql:
      `-- CreateTable\nCREATE TABLE ${q(table.name)} (\n    "id" SERIAL NOT NULL,\n    "name" TEXT NOT NULL,\n` +
      `    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,\n\n    CONSTRAINT ${q(`${table.name}_pkey`)} PRIMARY KEY ("id")\n);\n`,
  }
}

function addColumn(shape: HistoryShape, table: Table): SyntheticMigration {
  const column: Column = { name: `field_${shape.next()}`, type: 'INTEGER', indexed: false, pinned: false }
  table.columns.push(column)
  return {
    name: `add_${table.name}_${column.name}`,
    kind: 'addColumn',
    sql: `-- AlterTable\nALTER TABLE ${q(table.name)} ADD COLUMN ${q(column.name)} INTEGER;\n`,
  }
}

function step(shape: HistoryShape, kind: Step, index: number): SyntheticMigration {
  if (kind === 'createTable' || shape.tables.length === 0) return createTable(shape)
  const table = shape.recent(index)
  const free = table.columns.filter((column) => !column.pinned)
  switch (kind) {
    case 'addColumn':
      return addColumn(shape, table)
    case 'createIndex': {
      const column = free.find((candidate) => !candidate.indexed && candidate.type !== 'TEXT')
      if (!column) return addColumn(shape, table)
      column.indexed = true
      const name = `${table.name}_${column.name}_idx`
      table.indexes.push(name)
      return {
        name: `index_${table.name}_${column.name}`,
        kind: 'createIndex',
        sql: `-- CreateIndex\nCREATE INDEX ${q(name)} ON ${q(table.name)}(${q(column.name)});\n`,
      }
    }
    case 'createEnum': {
      const type: EnumType = { name: `Status${shape.next()}`, values: ['ACTIVE', 'PAUSED'] }
      shape.enums.push(type)
      const column = `status_${shape.next()}`
      table.columns.push({ name: column, type: 'TEXT', indexed: false, pinned: true })
      return {
        name: `enum_${type.name.toLowerCase()}`,
        kind: 'createEnum',
        sql:
          `-- CreateEnum\nCREATE TYPE ${q(type.name)} AS ENUM (${type.values.map((value) => `'${value}'`).join(', ')});\n\n` +
          `-- AlterTable\nALTER TABLE ${q(table.name)} ADD COLUMN ${q(column)} ${q(type.name)} NOT NULL DEFAULT 'ACTIVE';\n`,
      }
    }
    case 'addForeignKey': {
      const target = shape.tables[index % shape.tables.length]
      const column: Column = { name: `${target.name}_ref_${shape.next()}`, type: 'INTEGER', indexed: false, pinned: true }
      table.columns.push(column)
      const constraint = `${table.name}_${column.name}_fkey`
      return {
        name: `link_${table.name}_${target.name}`,
        kind: 'addForeignKey',
        sql:
          `-- AlterTable\nALTER TABLE ${q(table.name)} ADD COLUMN ${q(column.name)} INTEGER;\n\n` +
          `-- AddForeignKey\nALTER TABLE ${q(table.name)} ADD CONSTRAINT ${q(constraint)} FOREIGN KEY (${q(column.name)}) ` +
          `REFERENCES ${q(target.name)}("id") ON DELETE SET NULL ON UPDATE CASCADE;\n`,
      }
    }
    case 'renameColumn': {
      const column = free.find((candidate) => !candidate.indexed && candidate.name !== 'name')
      if (!column) return addColumn(shape, table)
      const from = column.name
      column.name = `renamed_${shape.next()}`
      return {
        name: `rename_${table.name}_${from}`,
        kind: 'renameColumn',
        sql: `-- AlterTable\nALTER TABLE ${q(table.name)} RENAME COLUMN ${q(from)} TO ${q(column.name)};\n`,
      }
    }
    case 'addEnumValue': {
      const type = shape.enums.at(-1)
      if (!type) return addColumn(shape, table)
      const value = `STATE_${shape.next()}`
      type.values.push(value)
      return {
        name: `enum_${type.name.toLowerCase()}_${value.toLowerCase()}`,
        kind: 'addEnumValue',
        sql: `-- AlterEnum\nALTER TYPE ${q(type.name)} ADD VALUE '${value}';\n`,
      }
    }
    case 'retypeColumn': {
      const column = free.find((candidate) => candidate.type === 'INTEGER')
      if (!column) return addColumn(shape, table)
      column.type = 'BIGINT'
      return {
        name: `widen_${table.name}_${column.name}`,
        kind: 'retypeColumn',
        sql: `-- AlterTable\nALTER TABLE ${q(table.name)} ALTER COLUMN ${q(column.name)} SET DATA TYPE BIGINT;\n`,
      }
    }
    case 'renameIndex': {
      const at = table.indexes.length - 1
      if (at < 0) return addColumn(shape, table)
      const from = table.indexes[at]
      table.indexes[at] = `${table.name}_renamed_${shape.next()}_idx`
      return {
        name: `rename_index_${from}`,
        kind: 'renameIndex',
        sql: `-- RenameIndex\nALTER INDEX ${q(from)} RENAME TO ${q(table.indexes[at])};\n`,
      }
    }
    case 'dropColumnOrUnique': {
      const column = free.find((candidate) => !candidate.indexed && candidate.name !== 'name')
      if (column && index % 20 < 10) {
        table.columns.splice(table.columns.indexOf(column), 1)
        return {
          name: `drop_${table.name}_${column.name}`,
          kind: 'dropColumn',
          sql: `-- AlterTable\nALTER TABLE ${q(table.name)} DROP COLUMN ${q(column.name)};\n`,
        }
      }
      const unique = free.find((candidate) => !candidate.indexed && candidate.type !== 'TEXT')
      if (!unique) return addColumn(shape, table)
      unique.indexed = true
      unique.pinned = true
      const name = `${table.name}_${unique.name}_key`
      return {
        name: `unique_${table.name}_${unique.name}`,
        kind: 'addUnique',
        sql: `-- CreateIndex\nCREATE UNIQUE INDEX ${q(name)} ON ${q(table.name)}(${q(unique.name)});\n`,
      }
    }
  }
}

/** The migrations of a history of `count` migrations, in order. */
export function syntheticHistory(count: number): SyntheticMigration[] {
  const shape = new HistoryShape()
  return Array.from({ length: count }, (_, index) => step(shape, STEPS[index % STEPS.length], index))
}

/** Prisma's folder name: a 14-digit timestamp (one minute apart from 2020-01-01), then the name. */
export function migrationFolderName(index: number, name: string): string {
  const stamp = new Date(Date.UTC(2020, 0, 1) + index * 60_000).toISOString().replace(/\D/g, '').slice(0, 14)
  return `${stamp}_${name}`
}

/** Writes the history into `migrationsDir` (with Prisma's migration_lock.toml); returns its migrations and folders. */
export function writeSyntheticHistory(migrationsDir: string, count: number): Array<SyntheticMigration & { folder: string }> {
  mkdirSync(migrationsDir, { recursive: true })
  writeFileSync(
    path.join(migrationsDir, 'migration_lock.toml'),
    '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"\n',
  )
  return syntheticHistory(count).map((migration, index) => {
    const folder = migrationFolderName(index, migration.name)
    mkdirSync(path.join(migrationsDir, folder))
    writeFileSync(path.join(migrationsDir, folder, 'migration.sql'), migration.sql)
    return { ...migration, folder }
  })
}
