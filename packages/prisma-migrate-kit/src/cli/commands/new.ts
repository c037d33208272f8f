import type { Command } from 'commander'
import { ExitCode, UsageError } from '../../errors'
import { reportLines } from '../../lint'
import { createMigration } from '../../rollback/new-migration'
import { parseRenameHint, parseTableRenameHint, type RenameHint, type TableRenameHint } from '../../safe/changes'
import { continueSafeChange, createSafeChange, type SplitResult } from '../../safe/split'
import { dropToWrite } from '../../safe/record'
import type { CliIO } from '../io'
import { relativePath, rollbackFile as rollbackFileOf } from '../../rollback/files'
import { action, examples, type CommandHost } from '../command'
import { printWarnings, writtenNote } from './rollbacks'

export function registerNew(program: Command, host: CommandHost): void {
  program
    .command('new')
    .description(
      'Create a migration from the schema with Prisma (`prisma migrate dev --create-only`), write its ' +
        "rollbacks/<migration>/rollback.sql from Prisma's diff of the schema after → before, and lint it.",
    )
    .argument('[name]', 'what the migration does: letters, digits, _ and - (Prisma prefixes the timestamp)')
    .option(
      '--empty',
      'create it even when schema.prisma has no change: an empty migration.sql for SQL Prisma does not model ' +
        '(CHECK constraints, functions, data fixes); write its rollback.sql by hand, verify-rollbacks proves it',
    )
    .option(
      '--safe',
      'write a change that would break running code (a renamed field or table, a new required field, a field made required or deleted, a new @unique or relation over rows) as ' +
        'expand → backfill → contract: the expand migrations, a backfill, and schema.prisma of the release that writes both shapes',
    )
    .option(
      '--rename <Model.old=new>',
      'with --safe: the field was renamed (Prisma sees a dropped column and a new empty one); repeat for several',
      (value: string, previous: RenameHint[] = []) => [...previous, parseRenameHint(value)],
    )
    .option(
      '--rename-table <Old=New>',
      'with --safe: the model (or its @@map) was renamed, so its table is (Prisma sees a dropped table and a new empty one)',
      (value: string, previous: TableRenameHint[] = []) => [...previous, parseTableRenameHint(value)],
    )
    .option(
      '--continue',
      'write the next step of a split change (`new --continue <name>`): the contract once its backfill is done, then a drop',
    )
    .addHelpText(
      'after',
      examples([
        'migrate-kit new add_display_name',
        'migrate-kit new add_display_name_check --empty',
        'migrate-kit new rename_display_name --safe --rename User.name=displayName',
        'migrate-kit new --continue rename_display_name',
        'migrate-kit new rename_users --safe --rename-table User=Account',
      ]) +
        '\nNothing is written when schema.prisma matches the migrations. The migration is not applied: review both files,\n' +
        'then `npx migrate-kit prisma migrate dev` applies it to the development database. Exit 0 with findings too: CI runs\n' +
        '`migrate-kit lint`, which fails on error-level findings.\n',
    )
    .action(
      action(
        host,
        async (
          name: string | undefined,
          options: { empty?: boolean; safe?: boolean; rename?: RenameHint[]; renameTable?: TableRenameHint[]; continue?: boolean },
        ) => {
          const { context } = host
          if (options.continue) {
            if (options.safe || options.empty || options.rename || options.renameTable)
              throw new UsageError('--continue takes no other option: the plan says what to write')
            const database = await context.database('change')
            const result = await continueSafeChange(context.project, name, { databaseUrl: database.url })
            const step = result.plan.stage === 'dropped' ? 'drop' : 'contract'
            printSplit(context.io, result, step)
            context.io.out(
              step === 'drop'
                ? 'Next: apply it in development (npx migrate-kit prisma migrate dev), then deploy it with any later release: npx migrate-kit deploy'
                : `Next: apply it in development (npx migrate-kit prisma migrate dev), ship the release of this schema, then deploy: ` +
                    'npx migrate-kit deploy (the contract waits until the backfill is done and verified there).' +
                    (dropToWrite(result.plan)
                      ? ` Once no older release runs, write the drop of the old columns: npx migrate-kit new --continue ${result.plan.name}`
                      : ''),
            )
            return ExitCode.ok
          }
          if (name === undefined)
            throw new UsageError('name the migration: npx migrate-kit new <name>', { hint: 'e.g. npx migrate-kit new add_display_name' })
          if ((options.rename || options.renameTable) && !options.safe)
            throw new UsageError(`${options.rename ? '--rename' : '--rename-table'} goes with --safe`, {
              hint: `npx migrate-kit new ${name} --safe ${options.rename ? '--rename Model.old=new' : '--rename-table Old=New'}`,
            })
          const database = await context.database('change')
          let safeReason: string | undefined
          if (options.safe) {
            if (options.empty) throw new UsageError('--safe and --empty do not go together: --safe splits a schema change')
            const safe = await createSafeChange(context.project, name, {
              databaseUrl: database.url,
              renames: options.rename,
              tableRenames: options.renameTable,
            })
            if (safe.kind === 'split') {
              printSplit(context.io, safe, 'expand')
              printNextAfterExpand(context.io, safe)
              return ExitCode.ok
            }
            if (safe.kind === 'single') safeReason = safe.reason
            if (safe.kind === 'none' && safe.notes.length > 0) {
              for (const note of safe.notes) context.io.out(note)
              context.io.out('No migration and no rollback were written.')
              return ExitCode.ok
            }
          }
          const result = await createMigration(context.project, name, {
            databaseUrl: database.url,
            interactive: context.io.interactive,
            empty: options.empty,
          })
          if (!result.created) {
            context.io.out(
              `No schema change: ${relativePath(context.project, context.project.schemaPath)} matches the migrations, so no migration and no rollback were written. ` +
                'Edit the schema first, then run this again.',
            )
            return ExitCode.ok
          }
          const rollbackFile = relativePath(context.project, rollbackFileOf(context.project, result.migration))
          if (safeReason) context.io.out(`Safe as one migration, written as Prisma makes it: ${safeReason}.`)
          context.io.out(`Prisma wrote ${result.migrationFile}`)
          context.io.out(`Wrote ${rollbackFile}${writtenNote(result.rollback)}`)
          printWarnings(context.io, rollbackFile, result.rollback)
          context.io.out('')
          for (const line of reportLines(result.lint)) context.io.out(line)
          context.io.out('')
          if (result.rollback.empty) {
            context.io.out(
              `Write the SQL in ${result.migrationFile} and its inverse in ${rollbackFile}; then prove the pair: npx migrate-kit verify-rollbacks`,
            )
          }
          context.io.out(`Next: review both files, then apply it to the development database: npx migrate-kit prisma migrate dev`)
          return ExitCode.ok
        },
      ),
    )
}

function printSplit(io: CliIO, result: SplitResult, step: 'expand' | 'contract' | 'drop'): void {
  if (result.plan.changes.length === 0) {
    io.out("Nothing to split into expand → backfill → contract; Prisma's migration is rewritten so that it does not block writes:")
  } else {
    const title = {
      expand: 'Split into expand → backfill → contract',
      contract: `Contract of ${result.plan.name}`,
      drop: `Drop step of ${result.plan.name}`,
    }
    io.out(`${title[step]} (${result.planFile}):`)
  }
  for (const change of result.plan.changes) {
    const target = `${change.target.model}.${change.target.field}`
    const label =
      change.kind === 'rename-column'
        ? `rename ${change.from.model}.${change.from.field} → ${change.target.field}`
        : change.kind === 'change-type'
          ? `type of ${target}: ${change.fromType} → ${change.toType}, in a new column ${change.target.column} (the field keeps its name through @map)`
          : change.kind === 'add-required'
            ? `new required field ${target}`
            : change.kind === 'drop-column'
              ? `drop ${change.target.model}'s column ${change.target.column} (kept as ${target} @ignore until the contract)`
              : change.kind === 'rename-table'
                ? `rename table ${change.from.table} → ${change.target.table} (model ${change.target.model}); a view under the old name until the contract`
                : change.kind === 'add-foreign-key'
                  ? `foreign key ${change.constraint}: ${change.target.model}(${change.columns.join(', ')}) → ${change.references.table}, over existing rows; the relation is left out of the schema until the contract adds it`
                  : change.kind === 'add-unique'
                    ? `unique ${change.target.model}(${change.columns.join(', ')}) over existing rows: ${change.index}, left out of the schema until the contract builds it`
                    : `${target} made required`
    io.out(`  ${label}`)
  }
  io.out('')
  for (const migration of result.migrations) {
    io.out(`Wrote ${migration.file}`)
    io.out(`  ${migration.role}`)
    io.out(`  and its rollback: ${migration.rollbackFile}`)
  }
  for (const file of result.backfillFiles) io.out(`Wrote ${file}`)
  for (const file of result.schemaFiles) {
    io.out(
      `Changed ${file}: ${
        step === 'expand'
          ? 'the schema of the release that writes both shapes (new fields optional, old ones kept)'
          : step === 'drop'
            ? 'the final shape: the ignored old fields gone'
            : dropToWrite(result.plan)
              ? 'new fields as you wrote them; the old field of a rename kept with @ignore until the drop step'
              : 'the final shape: old fields gone, new ones as you wrote them'
      }`,
    )
  }
  io.out('')
  for (const line of reportLines(result.lint)) io.out(line)
  io.out('')
}

function printNextAfterExpand(io: CliIO, result: SplitResult): void {
  const backfills = result.plan.backfills
  if (result.plan.changes.length === 0) {
    io.out('Next: review the files, then apply them to the development database: npx migrate-kit prisma migrate dev')
    return
  }
  io.out('Next:')
  io.out('  1. Review the files; fill any placeholder in the backfill (check, deploy and backfill run refuse it until then).')
  io.out('  2. Apply it in development: npx migrate-kit prisma migrate dev (Prisma Client then has both shapes).')
  io.out(
    '  3. Ship the release of this schema: it writes both shapes (and no longer uses a field kept with @ignore). Its deploy runs the expand: npx migrate-kit deploy',
  )
  if (backfills.length > 0) io.out(`  4. Run the backfill: ${backfills.map((name) => `npx migrate-kit backfill run ${name}`).join(' && ')}`)
  io.out(
    `  ${backfills.length > 0 ? 5 : 4}. Once no release of the old shape runs: npx migrate-kit new --continue ${result.plan.name} (writes the contract)` +
      (dropToWrite({ ...result.plan, stage: 'contracted' })
        ? '; once its release runs everywhere, the same command writes the drop of the old columns'
        : ''),
  )
}
