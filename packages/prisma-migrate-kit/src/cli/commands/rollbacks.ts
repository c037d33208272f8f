import type { Command } from 'commander'
import { ExitCode, errorMessage } from '../../errors'
import { listMigrations, findMigration } from '../../prisma/migrations'
import type { DataLossWarning } from '../../rollback/data-loss'
import { hasRollback, relativePath, rollbackFile } from '../../rollback/files'
import { assertWritable, generateRollback, writeRollback } from '../../rollback/generate'
import type { ReviewNote } from '../../rollback/header'
import { action, examples, type CommandHost } from '../command'
import { printJson, type CliIO } from '../io'

export function printWarnings(io: CliIO, file: string, warnings: DataLossWarning[], review: ReviewNote[]): void {
  for (const warning of warnings) io.out(`  warning: ${file}:${warning.line} ${warning.message}`)
  for (const note of review) io.out(`  review: migration.sql line ${note.line} ${note.description}: not reverted by Prisma's diff`)
}

interface GenerateCliOptions {
  force?: boolean
  json?: boolean
}

export function registerRollbacks(program: Command, host: CommandHost): void {
  const rollbacks = program.command('rollbacks').description('Manage the rollbacks/<migration>/rollback.sql files.')
  rollbacks
    .command('generate')
    .description(
      'Write rollback.sql for migrations that have none (a project adopting migrate-kit late), from Prisma\'s diff of ' +
        'the migration history itself. Never overwrites an existing file without --force.',
    )
    .argument('[migration]', 'one migration (folder name, or the part after the timestamp); default: every one without a rollback')
    .option('--force', 'overwrite an existing rollback.sql (with no migration named: every one)')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText(
      'after',
      examples([
        'migrate-kit rollbacks generate',
        'migrate-kit rollbacks generate 20260301120000_add_display_name',
        'migrate-kit rollbacks generate add_display_name --force',
      ]) + '\nExit codes: 0 written (or nothing to do), 1 Prisma could not diff a migration, 2 unknown migration or file exists.\n',
    )
    .action(
      action(host, async (reference: string | undefined, options: GenerateCliOptions) => {
        const { context } = host
        const { project, io } = context
        const history = listMigrations(project)
        const targets =
          reference === undefined
            ? history.filter((migration) => options.force || !hasRollback(project, migration.name))
            : [findMigration(history, reference)]
        // Refused before asking Prisma for anything (writeRollback would refuse too, after the work).
        if (reference !== undefined) assertWritable(project, targets[0]!.name, options)
        if (targets.length === 0) {
          if (options.json) printJson(io, { ok: true, migrations: [] })
          else io.out('Every migration has its rollback.sql: nothing to generate (--force regenerates them).')
          return ExitCode.ok
        }
        const database = await context.database('read')
        const results: Array<{ name: string; status: 'written' | 'error' | 'not_executed'; file?: string; warnings?: number; error?: string }> =
          targets.map((migration) => ({ name: migration.name, status: 'not_executed' }))
        let failed = false
        for (const [index, migration] of targets.entries()) {
          try {
            const generated = await generateRollback(project, migration.name, { databaseUrl: database.url })
            writeRollback(project, generated, { force: options.force })
            const file = relativePath(project, rollbackFile(project, migration.name))
            results[index] = { name: migration.name, status: 'written', file, warnings: generated.warnings.length }
            if (!options.json) {
              io.out(`Wrote ${file}${generated.empty ? ' (Prisma found nothing to revert: see its header)' : ''}`)
              printWarnings(io, file, generated.warnings, generated.review)
            }
          } catch (error) {
            failed = true
            results[index] = { name: migration.name, status: 'error', error: errorMessage(error) }
            if (!options.json) io.err(`error: ${migration.name}: ${errorMessage(error)}`)
          }
        }
        if (options.json) printJson(io, { ok: !failed, migrations: results })
        else io.out(`Review each file before committing it; prove them all with: npx migrate-kit verify-rollbacks`)
        return failed ? ExitCode.failed : ExitCode.ok
      }),
    )
}
