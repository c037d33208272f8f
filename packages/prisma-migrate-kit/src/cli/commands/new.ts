import type { Command } from 'commander'
import { ExitCode } from '../../errors'
import { reportLines } from '../../lint'
import { createMigration } from '../../rollback/new-migration'
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
    .argument('<name>', 'what the migration does: letters, digits, _ and - (Prisma prefixes the timestamp)')
    .option(
      '--empty',
      'create it even when schema.prisma has no change: an empty migration.sql for SQL Prisma does not model ' +
        '(CHECK constraints, functions, data fixes); write its rollback.sql by hand, verify-rollbacks proves it',
    )
    .addHelpText(
      'after',
      examples(['migrate-kit new add_display_name', 'migrate-kit new add_display_name_check --empty']) +
        '\nNothing is written when schema.prisma matches the migrations. The migration is not applied: review both files,\n' +
        'then `npx migrate-kit prisma migrate dev` applies it to the development database. Exit 0 with findings too: CI runs\n' +
        '`migrate-kit lint`, which fails on error-level findings.\n',
    )
    .action(
      action(host, async (name: string, options: { empty?: boolean }) => {
        const { context } = host
        const database = await context.database('change')
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
      }),
    )
}
