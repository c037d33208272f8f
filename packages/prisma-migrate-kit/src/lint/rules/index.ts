import type { Rule } from '../rule'
import { addingDomainConstraint } from './adding-domain-constraint'
import { addingEnumValueInTransaction } from './adding-enum-value-in-transaction'
import { addingExclusionConstraint } from './adding-exclusion-constraint'
import { addingFieldWithDefault } from './adding-field-with-default'
import { addingForeignKeyConstraint } from './adding-foreign-key-constraint'
import { addingNotNullableField } from './adding-not-nullable-field'
import { addingPrimaryKeyConstraint } from './adding-primary-key-constraint'
import { addingRequiredField } from './adding-required-field'
import { attachingPartition } from './attaching-partition'
import { banConcurrentlyInTransaction } from './ban-concurrently-in-transaction'
import { banDropColumn } from './ban-drop-column'
import { banDropDatabase } from './ban-drop-database'
import { banDropSchema } from './ban-drop-schema'
import { banDropTable } from './ban-drop-table'
import { banFullTableWrite } from './ban-full-table-write'
import { banTruncate } from './ban-truncate'
import { banVacuumFullAndCluster } from './ban-vacuum-full-and-cluster'
import { changingColumnType } from './changing-column-type'
import { changingTablePersistence } from './changing-table-persistence'
import { changingTrigger } from './changing-trigger'
import { concurrentlyFailure } from './concurrently-failure'
import { constraintMissingNotValid } from './constraint-missing-not-valid'
import { disallowedUniqueConstraint } from './disallowed-unique-constraint'
import { droppingConstraint } from './dropping-constraint'
import { enumValueUsedBeforeCommit } from './enum-value-used-before-commit'
import { renamingColumn } from './renaming-column'
import { renamingSchema } from './renaming-schema'
import { renamingTable } from './renaming-table'
import { requireConcurrentIndexCreation } from './require-concurrent-index-creation'
import { requireConcurrentIndexDeletion } from './require-concurrent-index-deletion'
import { requireConcurrentPartitionDetach } from './require-concurrent-partition-detach'
import { requireConcurrentRefresh } from './require-concurrent-refresh'
import { requireConcurrentReindex } from './require-concurrent-reindex'
import { requireLockTimeout } from './require-lock-timeout'
import { timeoutTooLong } from './timeout-too-long'
import { transactionControl } from './transaction-control'

/** Every statement rule, in the order findings for one statement are listed. */
export const RULES: readonly Rule[] = [
  addingRequiredField,
  addingFieldWithDefault,
  addingNotNullableField,
  addingForeignKeyConstraint,
  constraintMissingNotValid,
  disallowedUniqueConstraint,
  addingExclusionConstraint,
  addingDomainConstraint,
  addingPrimaryKeyConstraint,
  changingColumnType,
  changingTablePersistence,
  renamingColumn,
  renamingTable,
  renamingSchema,
  banDropColumn,
  banDropTable,
  banDropSchema,
  banDropDatabase,
  droppingConstraint,
  banTruncate,
  requireConcurrentIndexCreation,
  requireConcurrentIndexDeletion,
  requireConcurrentReindex,
  requireConcurrentRefresh,
  requireConcurrentPartitionDetach,
  attachingPartition,
  banVacuumFullAndCluster,
  changingTrigger,
  banConcurrentlyInTransaction,
  concurrentlyFailure,
  banFullTableWrite,
  enumValueUsedBeforeCommit,
  addingEnumValueInTransaction,
  requireLockTimeout,
  timeoutTooLong,
  transactionControl,
]
