import type { Node } from 'libpg-query'
import { alterTableEffects } from './alter-table-effects'
import { allNew, tableEffect, type Draft, type EffectScope } from './effect-model'
import { droppedRefs, nodeAs, nodeTag, names, plainTable, refOfNames, tableOf, type NodeTag, type TableRef } from './nodes'

export type { Draft, Effect, EffectKind, EffectPhase, EffectScope, Phase } from './effect-model'

/** Objects this model does not follow, as a person names them: `creates a trigger audit on users`. */
const CREATED_OBJECTS: Partial<Record<NodeTag, (node: Node) => string>> = {
  CreateFunctionStmt: (node) => {
    const fn = nodeAs(node, 'CreateFunctionStmt')
    return `${fn?.is_procedure ? 'a procedure' : 'a function'} ${names(fn?.funcname).join('.')}`
  },
  CreateTrigStmt: (node) => {
    const trigger = nodeAs(node, 'CreateTrigStmt')
    const table = tableOf(trigger?.relation)
    return `a trigger ${trigger?.trigname ?? ''}${table ? ` on ${plainTable(table)}` : ''}`
  },
  ViewStmt: (node) => `a view ${plainName(tableOf(nodeAs(node, 'ViewStmt')?.view))}`,
  CreateExtensionStmt: (node) => `the extension ${nodeAs(node, 'CreateExtensionStmt')?.extname ?? ''}`,
  CreateSeqStmt: (node) => `a sequence ${plainName(tableOf(nodeAs(node, 'CreateSeqStmt')?.sequence))}`,
  CreateSchemaStmt: (node) => `the schema ${nodeAs(node, 'CreateSchemaStmt')?.schemaname ?? ''}`,
  CreatePolicyStmt: (node) => {
    const policy = nodeAs(node, 'CreatePolicyStmt')
    const table = tableOf(policy?.table)
    return `a row-level security policy ${policy?.policy_name ?? ''}${table ? ` on ${plainTable(table)}` : ''}`
  },
  CreateDomainStmt: (node) => `a domain ${names(nodeAs(node, 'CreateDomainStmt')?.domainname).join('.')}`,
  CompositeTypeStmt: (node) => `a composite type ${plainName(tableOf(nodeAs(node, 'CompositeTypeStmt')?.typevar))}`,
}

/** Statements named in words where the tag alone would read as a parser's (`DoStmt`). */
const OTHER_STATEMENTS: Partial<Record<NodeTag, string>> = {
  DoStmt: 'runs a DO block',
  RuleStmt: 'creates a rule',
  AlterExtensionStmt: 'updates an extension',
  AlterFunctionStmt: 'alters a function',
  AlterSeqStmt: 'alters a sequence',
  AlterDomainStmt: 'alters a domain',
  AlterPolicyStmt: 'alters a row-level security policy',
  CreateEventTrigStmt: 'creates an event trigger',
  RefreshMatViewStmt: 'refreshes a materialized view',
  CallStmt: 'calls a procedure',
  CopyStmt: 'copies rows (COPY)',
  ClusterStmt: 'clusters a table',
  ReindexStmt: 'rebuilds indexes (REINDEX)',
}

function plainName(ref: TableRef | undefined): string {
  return ref ? plainTable(ref) : ''
}

/** `AlterOpFamilyStmt` → `ALTER OP FAMILY`: the statement's own words, for what no entry above names. */
function statementWords(tag: NodeTag): string {
  return tag
    .replace(/Stmt$/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toUpperCase()
}

/** Statements that change neither schema nor data: they have no effect for the gate. */
const WITHOUT_EFFECT = new Set([
  'TransactionStmt',
  'VariableSetStmt',
  'VariableShowStmt',
  'CommentStmt',
  'GrantStmt',
  'GrantRoleStmt',
  'SelectStmt',
  'AlterOwnerStmt',
  'AlterDefaultPrivilegesStmt',
  'VacuumStmt',
  'LockStmt',
  'SecLabelStmt',
])

/** The effects of one statement, given the schema before it. */
export function statementEffects(node: Node, scope: EffectScope): Draft[] {
  const tag = nodeTag(node)
  if (WITHOUT_EFFECT.has(tag)) return []
  if (tag === 'AlterTableStmt') return alterTableEffects(scope, node)
  const drop = nodeAs(node, 'DropStmt')
  if (drop) return dropEffects(scope, drop.removeType, drop.objects)
  if (nodeAs(node, 'RenameStmt')) return renameEffects(scope, node)
  if (nodeAs(node, 'IndexStmt')) return indexEffects(scope, node)
  const created = tableOf(nodeAs(node, 'CreateStmt')?.relation ?? nodeAs(node, 'CreateTableAsStmt')?.into?.rel)
  if (created) {
    const table = plainTable(created)
    return [{ kind: 'create_table', table, phase: 'expand', description: `creates table ${table}` }]
  }
  const alterEnum = nodeAs(node, 'AlterEnumStmt')
  if (alterEnum) {
    const type = names(alterEnum.typeName).join('.')
    return alterEnum.oldVal === undefined
      ? [{ kind: 'add_enum_value', type, phase: 'expand', description: `adds '${alterEnum.newVal}' to enum ${type}` }]
      : [{ kind: 'rename_enum_value', type, phase: 'breaking', description: `renames '${alterEnum.oldVal}' of ${type}` }]
  }
  const createEnum = nodeAs(node, 'CreateEnumStmt')
  if (createEnum) {
    const type = names(createEnum.typeName).join('.')
    return [{ kind: 'create_type', type, phase: 'expand', description: `creates enum ${type}` }]
  }
  const data = dataEffects(scope, node)
  if (data) return data
  const object = CREATED_OBJECTS[tag]
  if (object) return [{ kind: 'create_object', phase: 'expand', description: `creates ${object(node).trim()}` }]
  // DO blocks and anything else this model does not read: listed, but they decide no phase.
  return [{ kind: 'other', phase: 'neutral', description: OTHER_STATEMENTS[tag] ?? `runs ${statementWords(tag)}` }]
}

/** A unique index tightens what running code may insert, unless it only covers columns this migration adds. */
function indexEffects(scope: EffectScope, node: Node): Draft[] {
  const index = nodeAs(node, 'IndexStmt')
  const indexed = tableOf(index?.relation)
  if (!index || !indexed) return []
  const columns = (index.indexParams ?? []).flatMap((item) => nodeAs(item, 'IndexElem')?.name ?? [])
  const tightens = index.unique === true && !allNew(scope, indexed, columns)
  const draft: Omit<Draft, 'table'> = {
    kind: 'create_index',
    phase: tightens ? 'contract' : 'expand',
    description: `creates ${index.unique ? 'unique ' : ''}index ${index.idxname ?? ''} on ${plainTable(indexed)}`,
  }
  if (index.idxname) draft.index = index.idxname
  return [tableEffect(scope, indexed, draft)]
}

/** Rows written by the migration itself: no schema change, so no phase; TRUNCATE removes data running code reads. */
function dataEffects(scope: EffectScope, node: Node): Draft[] | undefined {
  const written = [
    { kind: 'insert_rows', table: tableOf(nodeAs(node, 'InsertStmt')?.relation), verb: 'inserts rows into' },
    { kind: 'update_rows', table: tableOf(nodeAs(node, 'UpdateStmt')?.relation), verb: 'updates rows of' },
    { kind: 'delete_rows', table: tableOf(nodeAs(node, 'DeleteStmt')?.relation), verb: 'deletes rows of' },
  ] as const
  for (const { kind, table, verb } of written) {
    if (table) return [{ kind, table: plainTable(table), phase: 'neutral', description: `${verb} ${plainTable(table)}` }]
  }
  const truncate = nodeAs(node, 'TruncateStmt')
  if (!truncate) return undefined
  return (truncate.relations ?? []).flatMap((item) => {
    const table = tableOf(nodeAs(item, 'RangeVar'))
    if (!table) return []
    const description = `truncates ${plainTable(table)}`
    return [tableEffect(scope, table, { kind: 'truncate', phase: 'contract', description })]
  })
}

const DROPPED_KINDS: Record<string, string> = {
  OBJECT_MATVIEW: 'a materialized view',
  OBJECT_FUNCTION: 'a function',
  OBJECT_PROCEDURE: 'a procedure',
  OBJECT_TRIGGER: 'a trigger',
  OBJECT_VIEW: 'a view',
  OBJECT_EXTENSION: 'an extension',
  OBJECT_SEQUENCE: 'a sequence',
  OBJECT_SCHEMA: 'a schema',
  OBJECT_POLICY: 'a row-level security policy',
  OBJECT_DOMAIN: 'a domain',
  OBJECT_FOREIGN_TABLE: 'a foreign table',
  OBJECT_RULE: 'a rule',
}

function dropEffects(scope: EffectScope, removeType: string | undefined, objects: Node[] | undefined): Draft[] {
  if (removeType === 'OBJECT_TABLE') {
    return droppedRefs(objects).map((table) => {
      const description = `drops table ${plainTable(table)}`
      return tableEffect(scope, table, { kind: 'drop_table', phase: 'contract', description })
    })
  }
  if (removeType === 'OBJECT_INDEX') {
    return droppedRefs(objects).map((ref) => {
      const table = scope.schema.index(ref)?.table
      const draft: Omit<Draft, 'table'> = {
        kind: 'drop_index',
        index: ref.name,
        phase: 'contract',
        description: `drops index ${ref.name}`,
      }
      return table ? tableEffect(scope, table, draft) : draft
    })
  }
  if (removeType === 'OBJECT_TYPE') {
    return (objects ?? []).flatMap((object): Draft[] => {
      const type = names(nodeAs(object, 'TypeName')?.names).join('.')
      return type ? [{ kind: 'drop_type', type, phase: 'contract', description: `drops type ${type}` }] : []
    })
  }
  const what = DROPPED_KINDS[removeType ?? ''] ?? (removeType ?? 'OBJECT').replace('OBJECT_', '').replace(/_/g, ' ').toLowerCase()
  return [{ kind: 'drop_object', phase: 'contract', description: `drops ${what}` }]
}

function renameEffects(scope: EffectScope, node: Node): Draft[] {
  const rename = nodeAs(node, 'RenameStmt')
  const table = tableOf(rename?.relation)
  const to = rename?.newname
  if (!rename || to === undefined) return []
  if (rename.renameType === 'OBJECT_TABLE' && table) {
    const description = `renames table ${plainTable(table)} to ${to}`
    return [tableEffect(scope, table, { kind: 'rename_table', to, phase: 'breaking', description })]
  }
  if (rename.renameType === 'OBJECT_COLUMN' && table && rename.subname) {
    const description = `renames column ${plainTable(table)}.${rename.subname} to ${to}`
    const column = rename.subname
    const phase = allNew(scope, table, [column]) ? 'expand' : 'breaking'
    return [tableEffect(scope, table, { kind: 'rename_column', column, to, phase, description })]
  }
  if (rename.renameType === 'OBJECT_TYPE') {
    const type = refOfNames(names(nodeAs(rename.object, 'List')?.items))?.name ?? ''
    // Prisma casts enum parameters by type name, so the running release's queries fail after a type rename.
    return [{ kind: 'rename_type', type, to, phase: 'breaking', description: `renames type ${type} to ${to}` }]
  }
  // Constraint and index names are invisible to queries.
  return []
}
