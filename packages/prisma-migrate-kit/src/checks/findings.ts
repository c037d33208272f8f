import path from 'node:path'
import type { DefinitionProblem } from '../backfill/errors'
import type { History, HistoryEntry } from '../deploy/history'
import { backfillCommand, DEPLOY_COMMAND } from '../deploy/plan'
import { plural } from '../text'
import { describeReasons, describeWait } from '../deploy/readiness'
import type { Gate } from '../deploy/state'
import type { Finding } from '../lint'
import { relativePath, type Project } from '../project'
import type { SchemaChangeResult } from './schema-change'
import type { DriftResult } from './drift'
import { formatRow, type CheckResult } from './integrity'

/**
 * Each source of `check` as findings in the shape of `lint --json`: a rule name a script can match, the file and line
 * a person opens, the consequence, and the command that fixes it.
 */
export const CHECK_RULES = {
  drift: 'schema-drift',
  schemaChange: 'schema-without-migration',
  edited: 'migration-edited',
  failed: 'migration-failed',
  notOnDisk: 'migration-not-on-disk',
  violation: 'integrity-check',
  checkError: 'integrity-check-error',
  checkSkipped: 'integrity-check-skipped',
  backfillNotDone: 'backfill-not-done',
  backfillInvalid: 'backfill-invalid',
} as const

export function driftFindings(project: Project, drift: DriftResult, applied: HistoryEntry[]): Finding[] {
  const last = applied.at(-1)
  const file = relativePath(project, last ? last.migration.sqlFile : project.migrationsDir)
  if (drift.status === 'none') return []
  if (drift.status === 'error') {
    return [
      {
        level: 'error',
        rule: CHECK_RULES.drift,
        file,
        line: 1,
        message: `could not compare the database with its applied migrations: ${drift.error ?? 'unknown error'}`,
        help: 'Prisma replays the migrations in a shadow database next to this one: the user needs CREATEDB. Fix that, then run `npx migrate-kit check` again.',
      },
    ]
  }
  const upTo = last
    ? `its ${drift.migrations.length} applied migrations (up to ${last.migration.name})`
    : 'an empty migration history (no migration is applied)'
  return [
    {
      level: 'error',
      rule: CHECK_RULES.drift,
      file,
      line: 1,
      message:
        `the database differs from what ${upTo} build, by Prisma's diff from the migrations to the database; something was ` +
        `changed outside the migrations (and \`prisma migrate dev\` would want to reset it):\n${drift.differences.map((line) => `  ${line}`).join('\n')}`,
      help:
        'Keep the change: write it as a migration (`npx migrate-kit new <name>` after editing schema.prisma), then record it as applied here: ' +
        '`npx migrate-kit prisma migrate resolve --applied <that migration>`. Or undo it by hand. The SQL from migrations to database: ' +
        '`npx migrate-kit prisma migrate diff --from-migrations prisma/migrations --to-config-datasource --script` (with every migration applied).',
    },
  ]
}

/** The Prisma schema asks for what no migration makes: the next `migrate dev` would write a migration. */
export function schemaChangeFindings(project: Project, change: SchemaChangeResult): Finding[] {
  const file = relativePath(project, project.schemaPath)
  if (change.status === 'none') return []
  if (change.status === 'error') {
    return [
      {
        level: 'error',
        rule: CHECK_RULES.schemaChange,
        file,
        line: 1,
        message: `could not compare the Prisma schema with the migrations: ${change.error ?? 'unknown error'}`,
        help: 'Check the schema (npx migrate-kit prisma validate) and that every migration applies to an empty database (Prisma replays them in a shadow database, which needs CREATEDB).',
      },
    ]
  }
  return [
    {
      level: 'error',
      rule: CHECK_RULES.schemaChange,
      file,
      line: 1,
      message:
        `${file} asks for changes that none of the ${change.migrations} migrations make, by Prisma's diff from the migrations to the schema; ` +
        `a deploy would not make them, so code built from this schema would fail against the database:\n${change.differences.map((line) => `  ${line}`).join('\n')}`,
      help:
        'Create the migration (Prisma writes it from this difference, migrate-kit its rollback.sql): npx migrate-kit new <name>. ' +
        'Or take the change out of the schema if it was not meant to ship.',
    },
  ]
}

/** Applied migrations edited since, failed ones, and applied ones whose folder is gone. */
export function historyFindings(project: Project, history: History): Finding[] {
  const findings: Finding[] = []
  for (const entry of history.entries) {
    const file = relativePath(project, entry.migration.sqlFile)
    const name = entry.migration.name
    if (entry.edited) {
      findings.push({
        level: 'error',
        rule: CHECK_RULES.edited,
        file,
        line: 1,
        message: `${file} was edited after it was applied to this database (its checksum no longer matches _prisma_migrations): the database holds what the old file did, and a fresh database would get something else`,
        help: `Restore the file as it was applied (git log -p -- ${file}) and put the change in a new migration: npx migrate-kit new <name>`,
      })
    }
    if (entry.state === 'failed') {
      findings.push({
        level: 'error',
        rule: CHECK_RULES.failed,
        file,
        line: 1,
        message: `${name} failed in this database${entry.record?.logs ? `: ${entry.record.logs.split('\n')[0]}` : ''}; Prisma applies nothing after it`,
        help: `Undo what it left behind, then: npx migrate-kit prisma migrate resolve --rolled-back ${name} ; ${DEPLOY_COMMAND}`,
      })
    }
  }
  for (const name of history.notOnDisk) {
    findings.push({
      level: 'warning',
      rule: CHECK_RULES.notOnDisk,
      file: relativePath(project, path.join(project.migrationsDir, name)),
      line: 1,
      message: `${name} is applied to this database but its folder is not in ${relativePath(project, project.migrationsDir)}: this checkout is older than the database, or the folder was renamed`,
      help: 'Deploy from the branch that has it, or restore the folder under its applied name.',
    })
  }
  return findings
}

export function integrityFindings(results: CheckResult[]): Finding[] {
  return results.flatMap((result): Finding[] => {
    if (result.status === 'ok') return []
    if (result.status === 'skipped') {
      return [
        {
          level: 'warning',
          rule: CHECK_RULES.checkSkipped,
          file: result.file,
          line: result.error?.line ?? 1,
          message: `integrity check ${result.name} did not run: ${result.error?.message ?? 'it needs a pending migration'}, which a pending migration is expected to create`,
          help: 'Apply the pending migrations (`npx migrate-kit deploy`), which runs the checks at the end.',
        },
      ]
    }
    if (result.status === 'error') {
      return [
        {
          level: 'error',
          rule: CHECK_RULES.checkError,
          file: result.file,
          line: result.error?.line ?? 1,
          ...(result.error?.column === undefined ? {} : { column: result.error.column }),
          message: `integrity check ${result.name} could not run: ${result.error?.message ?? 'unknown error'}`,
          help: `Fix the query in ${result.file}: one SELECT whose rows are violations. Try it with psql in a READ ONLY transaction.`,
        },
      ]
    }
    const shown = result.sample.map((row) => `  ${formatRow(row)}`).join('\n')
    const more = result.violations > result.sample.length ? `\n  … and ${result.violations - result.sample.length} more` : ''
    return [
      {
        level: 'error',
        rule: CHECK_RULES.violation,
        file: result.file,
        line: 1,
        message: `${result.name}: ${plural(result.violations, 'violation')}${result.description ? ` of "${result.description}"` : ''}:\n${shown}${more}`,
        help: `Fix the rows (a data migration or a backfill), then run \`npx migrate-kit check\` again. The query: ${result.file}`,
      },
    ]
  })
}

/** Backfills a pending migration waits for that are not done and verified: deploy would stop there. */
export function backfillFindings(gates: Gate[], files: Map<string, { file: string; line: number }>): Finding[] {
  const findings: Finding[] = []
  for (const gate of gates) {
    for (const wait of gate.waits) {
      if (wait.ready) continue
      const where = files.get(wait.backfill) ?? { file: wait.file, line: 1 }
      findings.push({
        level: 'error',
        rule: CHECK_RULES.backfillNotDone,
        file: where.file,
        line: where.line,
        message: `pending migration ${gate.entry.migration.name} (${gate.entry.analysis.phase}) waits for backfill ${wait.backfill}, which is ${describeWait(wait)} (${describeReasons(wait.reasons)}); \`migrate-kit deploy\` stops before it`,
        help: `Run it, then deploy: ${backfillCommand(wait.backfill)} ; ${DEPLOY_COMMAND}`,
      })
    }
  }
  return findings
}

export function backfillProblemFindings(problems: DefinitionProblem[]): Finding[] {
  return problems.map((problem) => ({
    level: 'error',
    rule: CHECK_RULES.backfillInvalid,
    file: problem.file,
    line: 1,
    message: `${problem.file} ${problem.message}`,
    help: 'Fix the file: `npx migrate-kit backfill list` shows every problem; deploy refuses to run while one is there.',
  }))
}
