import type { AlterTableCmd, AlterTableType, Node } from 'libpg-query'
import {
  addedColumn,
  addedConstraint,
  alterTableCommands,
  columnConstraint,
  droppedRefs,
  names,
  nodeAs,
  optionIsOn,
  refOfNames,
  showTable,
  tableOf,
  type TableRef,
} from './nodes'
import type { SchemaHistory } from './schema'

/** PostgreSQL's table lock modes that block someone (ROW EXCLUSIVE and weaker only block schema changes). */
export type LockMode = 'ACCESS EXCLUSIVE' | 'EXCLUSIVE' | 'SHARE ROW EXCLUSIVE' | 'SHARE' | 'SHARE UPDATE EXCLUSIVE'

/** Stronger modes conflict with more: a transaction holding one holds every weaker one's effect. */
export const LOCK_STRENGTH: Record<LockMode, number> = {
  'SHARE UPDATE EXCLUSIVE': 1,
  SHARE: 2,
  'SHARE ROW EXCLUSIVE': 3,
  EXCLUSIVE: 4,
  'ACCESS EXCLUSIVE': 5,
}

/** What application traffic waits for while the lock is held (or queued: a waiting lock blocks those behind it). */
export const LOCK_BLOCKS: Record<LockMode, string> = {
  'ACCESS EXCLUSIVE': 'every read and write of it',
  EXCLUSIVE: 'every write to it',
  'SHARE ROW EXCLUSIVE': 'every INSERT, UPDATE and DELETE on it',
  SHARE: 'every INSERT, UPDATE and DELETE on it',
  'SHARE UPDATE EXCLUSIVE': 'other schema changes and VACUUM on it (reads and writes continue)',
}

export interface TableLock {
  mode: LockMode
  /** The locked table; undefined when only an index name is known (an index from before the history). */
  table?: TableRef
  /** How messages name what is locked. */
  target: string
}

/** `takes an ACCESS EXCLUSIVE lock on "users", which blocks every read and write of it until the migration commits` */
export function lockPhrase(lock: TableLock): string {
  const article = lock.mode.startsWith('S') ? 'a' : 'an'
  return `takes ${article} ${lock.mode} lock on ${lock.target}, which blocks ${LOCK_BLOCKS[lock.mode]} until the migration commits`
}

/** ALTER TABLE sub-commands that take less than ACCESS EXCLUSIVE (PostgreSQL's ALTER TABLE documentation). */
const ALTER_TABLE_LOCKS: Partial<Record<AlterTableType, LockMode>> = {
  AT_SetStatistics: 'SHARE UPDATE EXCLUSIVE',
  AT_ClusterOn: 'SHARE UPDATE EXCLUSIVE',
  AT_DropCluster: 'SHARE UPDATE EXCLUSIVE',
  AT_ValidateConstraint: 'SHARE UPDATE EXCLUSIVE',
  AT_AttachPartition: 'SHARE UPDATE EXCLUSIVE',
  AT_EnableTrig: 'SHARE ROW EXCLUSIVE',
  AT_EnableAlwaysTrig: 'SHARE ROW EXCLUSIVE',
  AT_EnableReplicaTrig: 'SHARE ROW EXCLUSIVE',
  AT_DisableTrig: 'SHARE ROW EXCLUSIVE',
  AT_EnableTrigAll: 'SHARE ROW EXCLUSIVE',
  AT_DisableTrigAll: 'SHARE ROW EXCLUSIVE',
  AT_EnableTrigUser: 'SHARE ROW EXCLUSIVE',
  AT_DisableTrigUser: 'SHARE ROW EXCLUSIVE',
  // Column options (n_distinct, n_distinct_inherited): planner statistics only.
  AT_SetOptions: 'SHARE UPDATE EXCLUSIVE',
  AT_ResetOptions: 'SHARE UPDATE EXCLUSIVE',
}

/** Storage parameters whose change takes ACCESS EXCLUSIVE; every other one (fillfactor, autovacuum_*, toast_tuple_target, parallel_workers…) takes SHARE UPDATE EXCLUSIVE (reloptions.c). */
const ACCESS_EXCLUSIVE_STORAGE_PARAMETERS = new Set(['user_catalog_table'])

function alterTableLock(cmd: AlterTableCmd): LockMode {
  if (cmd.subtype === 'AT_SetRelOptions' || cmd.subtype === 'AT_ResetRelOptions') {
    const parameters = (nodeAs(cmd.def, 'List')?.items ?? []).flatMap((item) => nodeAs(item, 'DefElem')?.defname ?? [])
    return parameters.some((name) => ACCESS_EXCLUSIVE_STORAGE_PARAMETERS.has(name)) ? 'ACCESS EXCLUSIVE' : 'SHARE UPDATE EXCLUSIVE'
  }
  return ALTER_TABLE_LOCKS[cmd.subtype ?? 'AT_AddColumn'] ?? 'ACCESS EXCLUSIVE'
}

/** PostgreSQL's LOCKMODE numbers, as LOCK TABLE's parse tree carries them. */
const LOCK_STATEMENT_MODES: Record<number, LockMode | undefined> = {
  4: 'SHARE UPDATE EXCLUSIVE',
  5: 'SHARE',
  6: 'SHARE ROW EXCLUSIVE',
  7: 'EXCLUSIVE',
  8: 'ACCESS EXCLUSIVE',
}

/** The lock a statement takes on a table it names. */
export function lockOn(table: TableRef, mode: LockMode): TableLock {
  return { table, mode, target: showTable(table) }
}

function strongest(locks: TableLock[]): TableLock[] {
  const byTarget = new Map<string, TableLock>()
  for (const lock of locks) {
    const known = byTarget.get(lock.target)
    if (!known || LOCK_STRENGTH[lock.mode] > LOCK_STRENGTH[known.mode]) byTarget.set(lock.target, lock)
  }
  return [...byTarget.values()]
}

/** The table locks a statement takes that block application traffic, strongest per table. */
export function statementLocks(node: Node, schema: SchemaHistory): TableLock[] {
  const commands = alterTableCommands(node)
  if (commands.length > 0) {
    return strongest(
      commands.flatMap(({ table, cmd }) => {
        const constraint = addedConstraint(cmd)
        const column = addedColumn(cmd)
        const foreignKey = constraint?.contype === 'CONSTR_FOREIGN' ? constraint : column && columnConstraint(column, 'CONSTR_FOREIGN')
        const referenced = tableOf(foreignKey?.pktable)
        const own: LockMode = constraint?.contype === 'CONSTR_FOREIGN' ? 'SHARE ROW EXCLUSIVE' : alterTableLock(cmd)
        const detachConcurrently = cmd.subtype === 'AT_DetachPartition' && nodeAs(cmd.def, 'PartitionCmd')?.concurrent === true
        const locks = [lockOn(table, detachConcurrently ? 'SHARE UPDATE EXCLUSIVE' : own)]
        if (referenced) locks.push(lockOn(referenced, 'SHARE ROW EXCLUSIVE'))
        return locks
      }),
    )
  }
  const index = nodeAs(node, 'IndexStmt')
  const indexed = tableOf(index?.relation)
  if (index && indexed) return [lockOn(indexed, index.concurrent ? 'SHARE UPDATE EXCLUSIVE' : 'SHARE')]
  const drop = nodeAs(node, 'DropStmt')
  if (drop?.removeType === 'OBJECT_TABLE') return droppedRefs(drop.objects).map((ref) => lockOn(ref, 'ACCESS EXCLUSIVE'))
  if (drop?.removeType === 'OBJECT_INDEX') {
    const mode: LockMode = drop.concurrent ? 'SHARE UPDATE EXCLUSIVE' : 'ACCESS EXCLUSIVE'
    return droppedRefs(drop.objects).map((ref) => {
      const table = schema.index(ref)?.table
      return table ? { mode, table, target: showTable(table) } : { mode, target: `the table of index ${showTable(ref)}` }
    })
  }
  const rename = nodeAs(node, 'RenameStmt')
  const renamed = tableOf(rename?.relation)
  if (rename && renamed) {
    if (rename.renameType === 'OBJECT_INDEX') return []
    if (['OBJECT_TABLE', 'OBJECT_COLUMN', 'OBJECT_TABCONSTRAINT'].includes(rename.renameType ?? '')) {
      return [lockOn(renamed, 'ACCESS EXCLUSIVE')]
    }
  }
  const truncate = nodeAs(node, 'TruncateStmt')
  if (truncate) {
    return (truncate.relations ?? []).flatMap((item) => {
      const ref = tableOf(nodeAs(item, 'RangeVar'))
      return ref ? [lockOn(ref, 'ACCESS EXCLUSIVE')] : []
    })
  }
  const lock = nodeAs(node, 'LockStmt')
  const lockMode = LOCK_STATEMENT_MODES[lock?.mode ?? 0]
  if (lock && lockMode) {
    return (lock.relations ?? []).flatMap((item) => {
      const ref = tableOf(nodeAs(item, 'RangeVar'))
      return ref ? [lockOn(ref, lockMode)] : []
    })
  }
  const trigger = tableOf(nodeAs(node, 'CreateTrigStmt')?.relation)
  if (trigger) return [lockOn(trigger, 'SHARE ROW EXCLUSIVE')]
  if (drop?.removeType === 'OBJECT_TRIGGER') {
    return (drop.objects ?? []).flatMap((object) => {
      const table = refOfNames(names(nodeAs(object, 'List')?.items).slice(0, -1))
      return table ? [lockOn(table, 'ACCESS EXCLUSIVE')] : []
    })
  }
  const clusterStmt = nodeAs(node, 'ClusterStmt')
  const cluster = tableOf(clusterStmt?.relation)
  if (cluster) return [lockOn(cluster, 'ACCESS EXCLUSIVE')]
  if (clusterStmt) return [{ mode: 'ACCESS EXCLUSIVE', target: 'every table clustered before (CLUSTER without a table)' }]
  return [...maintenanceLocks(node, schema), ...viewLocks(node)]
}

/** REINDEX, VACUUM FULL: maintenance that blocks traffic unless run CONCURRENTLY (REINDEX) or not FULL (VACUUM). */
function maintenanceLocks(node: Node, schema: SchemaHistory): TableLock[] {
  const reindex = nodeAs(node, 'ReindexStmt')
  if (reindex) {
    if (optionIsOn(reindex.params, 'concurrently')) return []
    const relation = tableOf(reindex.relation)
    if (reindex.kind === 'REINDEX_OBJECT_TABLE' && relation) {
      // The table is locked against writes; each index, while it is rebuilt, against every query that uses it.
      return [
        lockOn(relation, 'SHARE'),
        { mode: 'ACCESS EXCLUSIVE', table: relation, target: `each index of ${showTable(relation)} while it is rebuilt` },
      ]
    }
    if (reindex.kind === 'REINDEX_OBJECT_INDEX' && relation) {
      const table = schema.index(relation)?.table
      const index = { mode: 'ACCESS EXCLUSIVE' as const, target: `index ${showTable(relation)}`, ...(table ? { table } : {}) }
      return table ? [lockOn(table, 'SHARE'), index] : [index]
    }
    const scope = reindex.kind === 'REINDEX_OBJECT_SCHEMA' ? `schema ${reindex.name ?? ''}` : 'the database'
    return [{ mode: 'ACCESS EXCLUSIVE', target: `every index in ${scope}` }]
  }
  const vacuum = nodeAs(node, 'VacuumStmt')
  const full = optionIsOn(vacuum?.options, 'full')
  if (vacuum?.is_vacuumcmd && full) {
    const tables = (vacuum.rels ?? []).flatMap((item) => tableOf(nodeAs(item, 'VacuumRelation')?.relation) ?? [])
    return tables.length > 0
      ? tables.map((table) => lockOn(table, 'ACCESS EXCLUSIVE'))
      : [{ mode: 'ACCESS EXCLUSIVE', target: 'every table of the database' }]
  }
  return []
}

/** REFRESH MATERIALIZED VIEW (CONCURRENTLY still blocks writers… of the view, which has none: EXCLUSIVE), DROP VIEW. */
function viewLocks(node: Node): TableLock[] {
  const refresh = nodeAs(node, 'RefreshMatViewStmt')
  const view = tableOf(refresh?.relation)
  if (refresh && view) return [lockOn(view, refresh.concurrent ? 'EXCLUSIVE' : 'ACCESS EXCLUSIVE')]
  const drop = nodeAs(node, 'DropStmt')
  if (drop?.removeType === 'OBJECT_VIEW' || drop?.removeType === 'OBJECT_MATVIEW') {
    return droppedRefs(drop.objects).map((ref) => lockOn(ref, 'ACCESS EXCLUSIVE'))
  }
  return []
}
