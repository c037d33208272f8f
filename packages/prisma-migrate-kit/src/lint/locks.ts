import type { AlterTableType, Node } from 'libpg-query'
import {
  addedColumn,
  addedConstraint,
  alterTableCommands,
  columnConstraint,
  droppedRefs,
  nodeAs,
  showTable,
  tableOf,
  type TableRef,
} from './nodes'
import type { SchemaHistory } from './schema'

/** PostgreSQL's table lock modes that block someone (ROW EXCLUSIVE and weaker only block schema changes). */
export type LockMode = 'ACCESS EXCLUSIVE' | 'EXCLUSIVE' | 'SHARE ROW EXCLUSIVE' | 'SHARE' | 'SHARE UPDATE EXCLUSIVE'

const STRENGTH: Record<LockMode, number> = {
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
    if (!known || STRENGTH[lock.mode] > STRENGTH[known.mode]) byTarget.set(lock.target, lock)
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
        const own: LockMode =
          constraint?.contype === 'CONSTR_FOREIGN'
            ? 'SHARE ROW EXCLUSIVE'
            : (ALTER_TABLE_LOCKS[cmd.subtype ?? 'AT_AddColumn'] ?? 'ACCESS EXCLUSIVE')
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
  const cluster = tableOf(nodeAs(node, 'ClusterStmt')?.relation)
  if (cluster) return [lockOn(cluster, 'ACCESS EXCLUSIVE')]
  return []
}
