/**
 * The library API: what backfill files, scripts and tests import as 'prisma-migrate-kit'.
 */
export { defineBackfill, sql, placeholder, isBackfill, BackfillShapeError } from './backfill/definition'
export type {
  Backfill,
  BackfillDefinition,
  BackfillKind,
  BatchTransaction,
  ColumnValues,
  ComputeBackfill,
  ProcessBackfill,
  PrismaClientClass,
  Row,
  SqlFragment,
  SqlUpdateBackfill,
  SqlValue,
} from './backfill/definition'

// Backfills, for the deploy gate, scripts and tests: load definitions, read status, run, and the safety nets.
export { loadBackfills, loadAllBackfills, findBackfill } from './backfill/loader'
export type { LoadedBackfill, LoadResult } from './backfill/loader'
export { resolveBackfill } from './backfill/validate'
export type { ResolvedBackfill } from './backfill/validate'
export { runBackfill, runnerApplicationName } from './backfill/runner'
export type { RunOptions, RunResult, RunEvent, RunProgress } from './backfill/runner'
export { RUN_OPTIONS, type RunTuning, type RunOptionSpec } from './backfill/options'
export { readBackfillStatus, readBackfillStatuses, backfillReadiness } from './backfill/status'
export type { BackfillStatus, BackfillReadiness } from './backfill/status'
export { controlBackfill } from './backfill/control'
export type { ControlAction, ControlResult } from './backfill/control'
export { dryRunBackfill } from './backfill/dry-run'
export type { DryRunResult } from './backfill/dry-run'
export { restoreBackfill } from './backfill/restore'
export type { RestoreOptions, RestoreResult } from './backfill/restore'
export { writeBackfillReport } from './backfill/report'
export type { ReportHeader, ReportRow, ReportSummary } from './backfill/report'
export { BackfillDefinitionError, UnknownBackfillError } from './backfill/errors'
export type { DefinitionProblem } from './backfill/errors'
export { runVerify } from './backfill/verify'
export type { VerifyResult } from './backfill/verify'
export * from './errors'

// Connections and the project layout, for scripts (scripts/seed-demo.ts) that work like the CLI does.
export { connect, createPool, withConnection } from './db/connect'
export { openDatabase } from './db/database'
export { projectAt } from './project'
export type { Project } from './project'

// Rollbacks: write them (new, generate), plan and run them, prove them (verify), and the static pair check `check`
// builds on.
export { createMigration } from './rollback/new-migration'
export type { NewMigrationOptions, NewMigrationResult } from './rollback/new-migration'
export { generateRollback, writeRollback, assertWritable } from './rollback/generate'
export type { GeneratedRollback, GenerateOptions } from './rollback/generate'
export type { DataLossWarning } from './rollback/data-loss'
export { planRollback, rollbackMigrations } from './rollback/rollback'
export type { RollbackOptions } from './rollback/rollback'
export { executeRollback } from './rollback/run'
export type { RollbackRun, RollbackResult } from './rollback/run'
export type { RollbackPlan, RollbackAction } from './rollback/actions'
export { verifyRollbacks } from './rollback/verify'
export type { VerifyRollbacksOptions, VerifyRollbacksReport, RoundTripResult, RoundTripStage } from './rollback/verify'
export { captureSchema } from './rollback/snapshot'
export type { SchemaSnapshot, SchemaObject, ObjectKind } from './rollback/snapshot'
export { diffSchemas } from './rollback/schema-diff'
export type { SchemaDifference } from './rollback/schema-diff'
export { checkRollbackPairs, ROLLBACK_RULES } from './rollback/check'
export type { RollbackFinding } from './rollback/check'
export { rollbackFile, hasRollback } from './rollback/files'
export { readRollbackRecords } from './rollback/record'
export type { RollbackRecord } from './rollback/record'
export {
  MissingRollbacksError,
  RollbackGenerationError,
  RollbackRefusedError,
  RollbackSqlError,
  RollbackStateChangedError,
} from './rollback/errors'
export type { RollbackProblem, RefusalReason } from './rollback/errors'

// Deploy: the plan from the database as it is, the expand → backfill → contract gate, and its execution.
export { deploy, planDeploy } from './deploy/deploy'
export type { DeployOptions, DeployRun, DeployOutcome, StepResult, StepStatus } from './deploy/deploy'
export { buildPlan } from './deploy/plan'
export type { DeployPlan, DeployStep, MigrateStep, BackfillStep, GateStep, ChecksStep, PlanOptions, PlannedMigration } from './deploy/plan'
export { readDeployState } from './deploy/state'
export type { DeployState, Gate, BackfillState } from './deploy/state'
export { dependenciesOf } from './deploy/dependencies'
export type { Dependency, WaitReason, GateBackfill } from './deploy/dependencies'
export { backfillColumns } from './deploy/backfill-columns'
export type { BackfillColumns } from './deploy/backfill-columns'
export type { Wait } from './deploy/readiness'
export { DeployRefusedError } from './deploy/errors'
export type { DeployProblem, DeployRefusalReason } from './deploy/errors'
export { appliedBeforeMigration } from './backfill/after-migration'

// Check: everything that can be wrong between the files and the database, in the shape of `lint --json`.
export { runChecks } from './checks/check'
export type { CheckReport, CheckSection } from './checks/check'
export { checkJson, checkLines } from './checks/report'
export { loadCheckFiles } from './checks/check-files'
export type { CheckFile } from './checks/check-files'
export { runIntegrityChecks } from './checks/integrity'
export type { CheckResult } from './checks/integrity'
export { detectDrift } from './checks/drift'
export type { DriftResult } from './checks/drift'
export { CHECK_RULES } from './checks/findings'
