import type { Rule } from '../rule'
import { addingEnumValueInTransaction } from './adding-enum-value-in-transaction'
import { addingFieldWithDefault } from './adding-field-with-default'
import { addingForeignKeyConstraint } from './adding-foreign-key-constraint'
import { addingNotNullableField } from './adding-not-nullable-field'
import { addingPrimaryKeyConstraint } from './adding-primary-key-constraint'
import { addingRequiredField } from './adding-required-field'
import { banConcurrentlyInTransaction } from './ban-concurrently-in-transaction'
import { banDropColumn } from './ban-drop-column'
import { banDropTable } from './ban-drop-table'
import { banFullTableWrite } from './ban-full-table-write'
import { banTruncate } from './ban-truncate'
import { changingColumnType } from './changing-column-type'
import { concurrentlyFailure } from './concurrently-failure'
import { constraintMissingNotValid } from './constraint-missing-not-valid'
import { disallowedUniqueConstraint } from './disallowed-unique-constraint'
import { enumValueUsedBeforeCommit } from './enum-value-used-before-commit'
import { renamingColumn } from './renaming-column'
import { renamingTable } from './renaming-table'
import { requireConcurrentIndexCreation } from './require-concurrent-index-creation'
import { requireConcurrentIndexDeletion } from './require-concurrent-index-deletion'
import { requireLockTimeout } from './require-lock-timeout'
import { transactionControl } from './transaction-control'

/** Every statement rule, in the order findings for one statement are listed. */
export const RULES: readonly Rule[] = [
  addingRequiredField,
  addingFieldWithDefault,
  addingNotNullableField,
  addingForeignKeyConstraint,
  constraintMissingNotValid,
  disallowedUniqueConstraint,
  addingPrimaryKeyConstraint,
  changingColumnType,
  renamingColumn,
  renamingTable,
  banDropColumn,
  banDropTable,
  banTruncate,
  requireConcurrentIndexCreation,
  requireConcurrentIndexDeletion,
  banConcurrentlyInTransaction,
  concurrentlyFailure,
  banFullTableWrite,
  enumValueUsedBeforeCommit,
  addingEnumValueInTransaction,
  requireLockTimeout,
  transactionControl,
]
